// The KV clients' requests (kvWorkload.ts sends them): what each kind asks and records,
// drawn from the seed, and what the clients learnt from the answers that shapes the next
// ones — each key's last mod revision and version (for compare-and-swap), the highest
// revision seen, the leases granted and in use, the compactions asked for. Every request
// is a KvCall: the request as the history records it (the checker's model), how it is
// sent to a member's EtcdServer, and how its answer becomes the recorded response.

import { fromKey, toKey } from '../core/mvcc/keys.js';
import type {
  CompactionResponse, DeleteRangeResponse, KeyValue as CoreKeyValue, PutResponse, RangeResponse,
  RequestOp as CoreRequestOp, TxnRequest as CoreTxnRequest, TxnResponse,
} from '../core/mvcc/types.js';
import type { Reply, ResponseHeader } from '../core/server/server.js';
import type { EtcdRequest, EtcdResponse, Json, RequestOp, TxnRequest } from '../jepsen-like/etcd/types.js';
import type { SimMember } from './cluster.js';
import { COMPACT_REV_KEY, drawKubernetesRequest, nextPage, PREFIX_END, PREFIX_START, type KubernetesClient, type ListPage } from './kubernetesTraffic.js';
import { coreLeaseId, historyLeaseId } from './historyLeaseId.js';
import type { LeaseKeeper } from './leaseKeeper.js';
import type { SimRandom } from './prng.js';

/**
 * Long leases outlive any run: clients revoke them. Short ones (leaseKeeper.ts) expire
 * unless kept alive; their expiry is written into the history as a server op.
 */
const LEASE_TTL_SECONDS = 24 * 3600;
const SHORT_LEASE_PROBABILITY = 0.5;
const FIRST_LEASE_ID = 1000;

/** A server's answer to a request whose response body is `T`. */
export type Answer<T> = { readonly header: ResponseHeader } & T;

/** One client request, typed by the body `T` of the server's answer. */
export interface KvCall<T> {
  readonly request: EtcdRequest;
  readonly readOnly: boolean;
  /** Sends the request to the member's server; the reply arrives through `reply`. */
  readonly send: (member: SimMember, reply: Reply<T>) => void;
  /** Turns an answer into the recorded response. */
  readonly response: (answer: Answer<T>) => EtcdResponse;
  /** A stale (serializable) get of this key: recorded as a read at the revision it reports. */
  readonly staleKey?: string;
  /** Leases a put attaches keys to (not revoked while the put is in flight). */
  readonly leases: readonly number[];
}

/** Sends a call, whatever its answer type (KvWorkload.dispatch). */
export type Dispatch = <T>(call: KvCall<T>) => void;

const str = (bytes: Uint8Array): string => toKey(bytes);

function kvJson(kv: CoreKeyValue): { [key: string]: Json } {
  return {
    key: str(kv.key), value: str(kv.value), createRevision: kv.createRevision, modRevision: kv.modRevision,
    version: kv.version, lease: historyLeaseId(kv.lease),
  };
}

function rangeJson(r: RangeResponse): { [key: string]: Json } {
  return { kvs: r.kvs.map(kvJson), count: r.count, more: r.more };
}

export interface KvCallsSetup {
  /** The workload's generator: requests are drawn in the order clients send them. */
  readonly random: SimRandom;
  /** How many keys the seed drew (k0, k1, …). */
  readonly keys: number;
  /** Short leases: keep-alives and expiry. */
  readonly keeper: LeaseKeeper;
}

export class KvCalls {
  private readonly random: SimRandom;
  private readonly keeper: LeaseKeeper;
  private readonly keyNames: string[] = [];
  private nextValue = 1;
  private nextLease = FIRST_LEASE_ID;
  /** What clients learnt: the highest revision seen, each key's last mod revision and version. */
  private maxRevision = 0;
  private readonly lastMod = new Map<string, number>();
  private readonly lastVersion = new Map<string, number>();
  /** Leases granted (ok) and not yet asked to be revoked: puts attach keys to these. */
  private readonly leases: number[] = [];
  /**
   * Compactions: the highest revision asked for (Tern's numbering), how many are in
   * flight, and whether one ended unknown. Compactions ask for ever higher revisions,
   * and while one might still take effect unseen, reads at a revision stay at or above
   * it: a "compacted" answer is then always explained by a compaction the history shows
   * (the checker's fast path places no unknown compaction; its search would have to).
   */
  private compactAsked = 1;
  private compactsPending = 0;
  private compactUnknown = false;
  /** Puts in flight per lease: a lease is revoked only when none is. */
  private readonly leaseUsers = new Map<number, number>();

  constructor({ random, keys, keeper }: KvCallsSetup) {
    this.random = random;
    this.keeper = keeper;
    for (let k = 0; k < keys; k++) this.keyNames.push(`k${k}`);
  }

  /** `call` was sent: its leases are in use, a compaction is in flight. */
  started(call: Pick<KvCall<unknown>, 'request' | 'leases'>): void {
    if (call.request.type === 'compact') this.compactsPending++;
    for (const id of call.leases) this.leaseUsers.set(id, (this.leaseUsers.get(id) ?? 0) + 1);
  }

  /** `call` ended (answered or given up on); `unknown`: it may still take effect. */
  ended(call: Pick<KvCall<unknown>, 'request' | 'leases'>, unknown: boolean): void {
    if (call.request.type === 'compact') {
      this.compactsPending--;
      if (unknown) this.compactUnknown = true;
    }
    for (const id of call.leases) this.leaseUsers.set(id, (this.leaseUsers.get(id) ?? 1) - 1);
  }

  private learn(revision: number, kvs: readonly CoreKeyValue[]): void {
    if (revision > this.maxRevision) this.maxRevision = revision;
    for (const kv of kvs) {
      const key = str(kv.key);
      this.lastMod.set(key, kv.modRevision);
      this.lastVersion.set(key, kv.version);
    }
  }

  private key(): string {
    return this.keyNames[this.random.intBelow(this.keyNames.length)] ?? 'k0';
  }

  private twoKeys(): [string, string] {
    const a = this.random.intBelow(this.keyNames.length);
    const b = (a + 1 + this.random.intBelow(Math.max(1, this.keyNames.length - 1))) % this.keyNames.length;
    return [this.keyNames[a] ?? 'k0', this.keyNames[b] ?? 'k1'];
  }

  private value(): string {
    return `v${this.nextValue++}`;
  }

  /**
   * Draws a client's next request and hands it to `dispatch` (each kind has its own
   * answer type): the default mix, or with `kubernetes` (the client's Kubernetes state)
   * kube-apiserver's traffic.
   */
  next(dispatch: Dispatch, kubernetes: KubernetesClient | null): void {
    if (kubernetes !== null) {
      this.nextKubernetes(dispatch, kubernetes);
      return;
    }
    const roll = this.random.intBelow(100);
    if (roll < 20) { dispatch(this.get(this.key(), false)); return; }
    if (roll < 27) { dispatch(this.list()); return; }
    if (roll < 35) { dispatch(this.get(this.key(), true)); return; }
    if (roll < 38) { dispatch(this.getAt()); return; }
    if (roll < 58) { dispatch(this.put(this.key(), 0)); return; }
    if (roll < 64) { dispatch(this.del()); return; }
    if (roll < 72) { dispatch(this.multiTxn()); return; }
    if (roll < 84) { dispatch(this.cas()); return; }
    if (roll < 87) { dispatch(this.leaseGrant()); return; }
    if (roll < 92) { dispatch(this.put(this.key(), this.pickLease())); return; }
    if (roll < 95) {
      const revoke = this.leaseRevoke();
      if (revoke === null) dispatch(this.get(this.key(), false)); else dispatch(revoke);
      return;
    }
    if (roll < 97) { dispatch(this.compact()); return; }
    dispatch(this.get(this.key(), false));
  }

  /** A granted lease not being revoked, or 0 (none yet: a plain put). */
  private pickLease(): number {
    const usable = this.leases.filter((id) => this.keeper.usable(id));
    if (usable.length === 0) return 0;
    return usable[this.random.intBelow(usable.length)] ?? 0;
  }

  private get(key: string, serializable: boolean): KvCall<RangeResponse> {
    return {
      request: { type: 'range', key },
      ...(serializable ? { staleKey: key } : {}),
      readOnly: true,
      leases: [],
      send: (m, reply) => { m.server?.range({ key: fromKey(key), ...(serializable ? { serializable: true } : {}) }, reply); },
      response: (r) => {
        this.learn(r.header.revision, r.kvs);
        return { revision: r.header.revision, ...rangeJson(r) };
      },
    };
  }

  private list(): KvCall<RangeResponse> {
    const limit = 1 + this.random.intBelow(3);
    return {
      request: { type: 'range', key: 'k', rangeEnd: 'l', limit },
      readOnly: true,
      leases: [],
      send: (m, reply) => { m.server?.range({ key: fromKey('k'), rangeEnd: fromKey('l'), limit }, reply); },
      response: (r) => {
        this.learn(r.header.revision, r.kvs);
        return { revision: r.header.revision, ...rangeJson(r) };
      },
    };
  }

  private getAt(): KvCall<RangeResponse> {
    const key = this.key();
    const lowest = this.compactsPending > 0 || this.compactUnknown ? Math.max(2, this.compactAsked) : 2;
    const revision = lowest + this.random.intBelow(Math.max(1, this.maxRevision + 2 - lowest));
    return {
      request: { type: 'range', key, revision: revision },
      readOnly: true,
      leases: [],
      send: (m, reply) => { m.server?.range({ key: fromKey(key), revision }, reply); },
      response: (r) => ({ revision: r.header.revision, ...rangeJson(r) }),
    };
  }

  private put(key: string, lease: number): KvCall<PutResponse> {
    return this.putValue(key, this.value(), lease);
  }

  /** A linearizable read of [key, rangeEnd) (rangeEnd '': the key alone). */
  rangeOf(key: string, rangeEnd: string): KvCall<RangeResponse> {
    if (rangeEnd === '') return this.get(key, false);
    return {
      request: { type: 'range', key, rangeEnd },
      readOnly: true,
      leases: [],
      send: (m, reply) => { m.server?.range({ key: fromKey(key), rangeEnd: fromKey(rangeEnd) }, reply); },
      response: (r) => {
        this.learn(r.header.revision, r.kvs);
        return { revision: r.header.revision, ...rangeJson(r) };
      },
    };
  }

  putValue(key: string, value: string, lease: number): KvCall<PutResponse> {
    return {
      request: { type: 'put', key, value, prevKv: true, ...(lease !== 0 ? { lease } : {}) },
      readOnly: false,
      leases: lease !== 0 ? [lease] : [],
      send: (m, reply) => {
        m.server?.put({ key: fromKey(key), value: fromKey(value), prevKv: true, ...(lease !== 0 ? { lease: coreLeaseId(lease) } : {}) }, reply);
      },
      response: (r) => {
        this.learn(r.header.revision, []);
        return { revision: r.header.revision, prevKv: r.prevKv === null ? null : kvJson(r.prevKv) };
      },
    };
  }

  private del(): KvCall<DeleteRangeResponse> {
    const key = this.key();
    return {
      request: { type: 'delete', key, prevKv: true },
      readOnly: false,
      leases: [],
      send: (m, reply) => { m.server?.deleteRange({ key: fromKey(key), prevKv: true }, reply); },
      response: (r) => {
        this.learn(r.header.revision, []);
        return { revision: r.header.revision, deleted: r.deleted, prevKvs: r.prevKvs.map(kvJson) };
      },
    };
  }

  /** A txn: if key a is at the version we last saw, write a and delete (or write) b; else read a. */
  private multiTxn(): KvCall<TxnResponse> {
    const [a, b] = this.twoKeys();
    const version = this.lastVersion.get(a) ?? 0;
    const va = this.value();
    const deleteB = this.random.chance(0.5);
    const vb = deleteB ? '' : this.value();
    const success: RequestOp[] = [
      { type: 'put', key: a, value: va, prevKv: true },
      deleteB ? { type: 'delete', key: b, prevKv: true } : { type: 'put', key: b, value: vb, prevKv: true },
      { type: 'range', key: 'k', rangeEnd: 'l' },
    ];
    const coreSuccess: CoreRequestOp[] = [
      { put: { key: fromKey(a), value: fromKey(va), prevKv: true } },
      deleteB ? { deleteRange: { key: fromKey(b), prevKv: true } } : { put: { key: fromKey(b), value: fromKey(vb), prevKv: true } },
      { range: { key: fromKey('k'), rangeEnd: fromKey('l') } },
    ];
    return this.txn({
      recorded: { type: 'txn', compare: [{ key: a, target: 'version', result: '=', value: version }], success, failure: [{ type: 'range', key: a }] },
      sent: {
        compare: [{ key: fromKey(a), target: 'version', version, result: 'equal' }], success: coreSuccess, failure: [{ range: { key: fromKey(a) } }],
      },
    });
  }

  /** Compare-and-swap on mod_revision: put if the key's mod revision is still the one we saw. */
  private cas(): KvCall<TxnResponse> {
    const key = this.key();
    const mod = this.lastMod.get(key) ?? 0;
    const value = this.value();
    return this.txn({
      recorded: {
        type: 'txn', compare: [{ key, target: 'mod', result: '=', value: mod }],
        success: [{ type: 'put', key, value, prevKv: true }], failure: [{ type: 'range', key }],
      },
      sent: {
        compare: [{ key: fromKey(key), target: 'mod', modRevision: mod, result: 'equal' }],
        success: [{ put: { key: fromKey(key), value: fromKey(value), prevKv: true } }], failure: [{ range: { key: fromKey(key) } }],
      },
    });
  }

  /** A txn: `recorded` as the history has it (the checker's model), `sent` as the server takes it (the same ops in the core's terms). */
  private txn({ recorded, sent }: { readonly recorded: TxnRequest; readonly sent: CoreTxnRequest }): KvCall<TxnResponse> {
    return {
      request: recorded,
      readOnly: false,
      leases: [],
      send: (m, reply) => { m.server?.txn(sent, reply); },
      response: (r) => {
        this.learn(r.header.revision, []);
        const responses = r.responses.map((op): Json => {
          if ('range' in op) {
            this.learn(0, op.range.kvs);
            return rangeJson(op.range);
          }
          if ('put' in op) return { prevKv: op.put.prevKv === null ? null : kvJson(op.put.prevKv) };
          if ('deleteRange' in op) return { deleted: op.deleteRange.deleted, prevKvs: op.deleteRange.prevKvs.map(kvJson) };
          return {};
        });
        return { revision: r.header.revision, succeeded: r.succeeded, responses };
      },
    };
  }

  private leaseGrant(): KvCall<{ readonly ttlSeconds: number }> {
    const id = this.nextLease++;
    const short = this.random.chance(SHORT_LEASE_PROBABILITY);
    const ttlSeconds = short ? this.keeper.drawTtlSeconds() : LEASE_TTL_SECONDS;
    if (short) this.keeper.granting(id);
    return {
      request: { type: 'leaseGrant', id },
      readOnly: false,
      leases: [],
      send: (m, reply) => { m.server?.leaseGrant({ id: coreLeaseId(id), ttlSeconds }, reply); },
      response: (granted) => {
        this.leases.push(id);
        if (short) this.keeper.granted(id, granted.ttlSeconds);
        return { revision: granted.header.revision };
      },
    };
  }

  /**
   * Revokes a granted lease no put is using right now, or null if there is none. (A
   * put racing a revoke may get "lease not found", which the checker's fast path cannot
   * place; the race is still possible through an earlier put that timed out.)
   */
  private leaseRevoke(): KvCall<object> | null {
    // Short leases are left to expire (or be kept alive): a client revoke would race the expiry.
    const idle = this.leases.filter((id) => (this.leaseUsers.get(id) ?? 0) === 0 && !this.keeper.isShort(id));
    if (idle.length === 0) return null;
    const id = idle[this.random.intBelow(idle.length)] ?? 0;
    this.leases.splice(this.leases.indexOf(id), 1);
    return {
      leases: [],
      request: { type: 'leaseRevoke', id },
      readOnly: false,
      send: (m, reply) => { m.server?.leaseRevoke({ id: coreLeaseId(id) }, reply); },
      response: (answer) => {
        this.learn(answer.header.revision, []);
        return { revision: answer.header.revision };
      },
    };
  }

  private compact(): KvCall<CompactionResponse> {
    return this.compactTo(Math.max(2, this.compactAsked + 1, this.maxRevision - this.random.intBelow(10)));
  }

  private compactTo(revision: number): KvCall<CompactionResponse> {
    this.compactAsked = Math.max(this.compactAsked, revision);
    return {
      request: { type: 'compact', revision: revision },
      readOnly: false,
      leases: [],
      send: (m, reply) => { m.server?.compact({ revision }, reply); },
      response: (answer) => ({ revision: answer.header.revision }),
    };
  }

  // ---------------------------------------------------------------- the Kubernetes profile

  /** The next request of kube-apiserver's traffic (kubernetesTraffic.ts). */
  private nextKubernetes(dispatch: Dispatch, client: KubernetesClient): void {
    const request = drawKubernetesRequest(this.random, client);
    switch (request.kind) {
      case 'get': dispatch(this.get(this.key(), request.serializable)); return;
      case 'getAtRevision': dispatch(this.getAt()); return;
      case 'list': dispatch(this.listPage(client, request.page)); return;
      case 'count': dispatch(this.count()); return;
      case 'optimisticPut': dispatch(this.optimistic(this.key(), 'put')); return;
      case 'optimisticDelete': dispatch(this.optimistic(this.key(), 'delete')); return;
      case 'compactTxn': dispatch(this.compactTxn(client)); return;
      case 'compact': dispatch(this.compactTo(request.revision)); return;
    }
  }

  /** One page of a paginated List; a page with more after it makes the client's next request the next page. */
  private listPage(client: KubernetesClient, page: ListPage): KvCall<RangeResponse> {
    const { key, revision, limit } = page;
    const at = revision > 0 ? { revision } : {};
    return {
      request: { type: 'range', key, rangeEnd: PREFIX_END, limit, ...at },
      readOnly: true,
      leases: [],
      send: (m, reply) => { m.server?.range({ key: fromKey(key), rangeEnd: fromKey(PREFIX_END), limit, ...at }, reply); },
      response: (r) => {
        // A later page shows the first page's revision: what it shows is not the latest.
        this.learn(r.header.revision, revision > 0 ? [] : r.kvs);
        const last = r.kvs[r.kvs.length - 1];
        const next = nextPage(page, { revision: r.header.revision, more: r.more, lastKey: last === undefined ? null : str(last.key) });
        client.continuation = next === null ? null : { kind: 'list', page: next };
        return { revision: r.header.revision, ...rangeJson(r) };
      },
    };
  }

  /** Count: a count_only range over the prefix. */
  private count(): KvCall<RangeResponse> {
    return {
      request: { type: 'range', key: PREFIX_START, rangeEnd: PREFIX_END, countOnly: true },
      readOnly: true,
      leases: [],
      send: (m, reply) => { m.server?.range({ key: fromKey(PREFIX_START), rangeEnd: fromKey(PREFIX_END), countOnly: true }, reply); },
      response: (r) => {
        this.learn(r.header.revision, []);
        return { revision: r.header.revision, count: r.count };
      },
    };
  }

  /**
   * OptimisticPut / OptimisticDelete: If(mod_revision(key) == last seen) Then(the write)
   * Else(Range(key)); a put on a key last seen absent (mod 0) is a create.
   */
  private optimistic(key: string, write: 'put' | 'delete'): KvCall<TxnResponse> {
    const mod = this.lastMod.get(key) ?? 0;
    const value = write === 'put' ? this.value() : '';
    const op: RequestOp = write === 'put' ? { type: 'put', key, value, prevKv: true } : { type: 'delete', key, prevKv: true };
    const sentOp: CoreRequestOp = write === 'put'
      ? { put: { key: fromKey(key), value: fromKey(value), prevKv: true } }
      : { deleteRange: { key: fromKey(key), prevKv: true } };
    const call = this.txn({
      recorded: { type: 'txn', compare: [{ key, target: 'mod', result: '=', value: mod }], success: [op], failure: [{ type: 'range', key }] },
      sent: {
        compare: [{ key: fromKey(key), target: 'mod', modRevision: mod, result: 'equal' }], success: [sentOp], failure: [{ range: { key: fromKey(key) } }],
      },
    });
    return {
      ...call,
      response: (r) => {
        const json = call.response(r);
        // What the key's mod revision is now: the write's, or (on failure) the one the range showed, 0 when absent.
        const shown = r.responses[0];
        const absent = r.succeeded ? write === 'delete' : shown !== undefined && 'range' in shown && shown.range.kvs.length === 0;
        if (absent) {
          this.lastMod.set(key, 0);
          this.lastVersion.set(key, 0);
        } else if (r.succeeded) {
          this.lastMod.set(key, r.header.revision);
        }
        return json;
      },
    };
  }

  /**
   * kube-apiserver's compaction: If(version(compact_rev_key) == last seen)
   * Then(Put(compact_rev_key, rev)) Else(Range(compact_rev_key)); when it succeeds, the
   * client's next request compacts to rev.
   */
  private compactTxn(client: KubernetesClient): KvCall<TxnResponse> {
    const version = this.lastVersion.get(COMPACT_REV_KEY) ?? 0;
    const revision = Math.max(2, this.maxRevision - this.random.intBelow(10));
    const value = String(revision);
    const call = this.txn({
      recorded: {
        type: 'txn', compare: [{ key: COMPACT_REV_KEY, target: 'version', result: '=', value: version }],
        success: [{ type: 'put', key: COMPACT_REV_KEY, value, prevKv: true }], failure: [{ type: 'range', key: COMPACT_REV_KEY }],
      },
      sent: {
        compare: [{ key: fromKey(COMPACT_REV_KEY), target: 'version', version, result: 'equal' }],
        success: [{ put: { key: fromKey(COMPACT_REV_KEY), value: fromKey(value), prevKv: true } }],
        failure: [{ range: { key: fromKey(COMPACT_REV_KEY) } }],
      },
    });
    return {
      ...call,
      response: (r) => {
        const json = call.response(r);
        if (r.succeeded) {
          this.lastVersion.set(COMPACT_REV_KEY, version + 1);
          client.continuation = { kind: 'compact', revision };
        }
        return json;
      },
    };
  }
}
