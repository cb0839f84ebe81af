// The KV workload (`--workload kv`): simulated etcd clients in front of the
// EtcdServer members, modelled on etcd's robustness traffic — linearizable gets,
// ranges with a limit, stale (serializable) gets, puts, deletes, multi-op txns,
// compare-and-swap on mod_revision, leases (grant, put with lease, revoke) and
// compaction. Each client is a history "process" doing one op at a time; every op is
// recorded with its virtual invoke and complete times (µs) and an outcome in the
// checker's format (docs/history-format.md):
//
//   ok       the server answered (a refusal decided at apply, e.g. "required revision
//            has been compacted" or "requested lease not found", is an ok op whose
//            response is that error);
//   fail     it certainly did not happen: a read that errored or timed out (reads
//            change nothing), a proposal the member refused to make ("no leader"),
//            a request the member rejected before proposing, a member that is down
//            (connection refused);
//   unknown  a write whose answer never came before the client's deadline, or came
//            as "request timed out" / "server stopped": it may still take effect.
//            The process is retired; the client goes on under a new process id.
//
// Stale gets cannot be checked as linearizable reads of the latest state: they are
// issued and answered, but not written to the history (counted as `stale_reads`).
// They are checked by weaker rules instead (staleReads.ts): the state they return is
// the committed state at the revision they report, and a client staying on one member
// never sees that member's revision go back (checked here, as answers arrive).
//
// Revisions: a fresh etcd (and Tern) store is at revision 1 and the first write makes
// revision 2; the checker's etcd model counts the same way, so the history records
// Tern's revisions as they are.

import { isEtcdError, type EtcdError } from '../core/errors.js';
import { fromKey, toKey } from '../core/mvcc/keys.js';
import type {
  CompactionResponse, DeleteRangeResponse, KeyValue as CoreKeyValue, PutResponse, RangeResponse,
  RequestOp as CoreRequestOp, TxnRequest as CoreTxnRequest, TxnResponse,
} from '../core/mvcc/types.js';
import type { EtcdServer, Reply, ResponseHeader } from '../core/server/server.js';
import type { NodeId } from '../core/raft/types.js';
import type { EtcdRequest, EtcdResponse, Json, RequestOp, TxnRequest } from '../jepsen-like/etcd/types.js';
import type { SimMember } from './cluster.js';
import { COMPACT_REV_KEY, drawKubernetesRequest, nextPage, PREFIX_END, PREFIX_START, type KubernetesClient, type ListPage } from './kubernetesTraffic.js';
import { SimActor, type SimParts } from './simActor.js';
import type { StaleRead } from './staleReads.js';
import { coreLeaseId, historyLeaseId } from './historyLeaseId.js';
import { LeaseKeeper, type ServerOp } from './leaseKeeper.js';

export type KvOutcome = 'ok' | 'fail' | 'unknown' | 'stale';

/** One line of the history file. */
export interface KvRecord {
  readonly process: number;
  readonly call: number;
  ret: number | null;
  outcome: KvOutcome | 'pending';
  /** A stale get's request is rewritten, once answered, to a read at the revision it reports. */
  request: EtcdRequest;
  response?: EtcdResponse;
  /** The member asked (not part of the format; for humans reading the file). */
  readonly member: NodeId;
  /** For an op the cluster made on its own (not part of the format): what it was. */
  readonly note?: string;
  /** An expiry that wrote nothing: left out unless a put saw this lease gone (leaseKeeper.ts). */
  readonly silentLease?: number;
}

/** The KV workload's shape, drawn from the seed with the watch shape (world.ts). */
export interface KvWorkloadOptions {
  readonly clients: number;
  readonly keys: number;
  readonly thinkMeanMs: number;
  readonly timeoutMsMin: number;
  readonly timeoutMsMax: number;
  /** `kubernetes`: kube-apiserver's requests (kubernetesTraffic.ts) instead of the default mix. */
  readonly profile?: 'kubernetes';
}

/**
 * Long leases outlive any run: clients revoke them. Short ones (leaseKeeper.ts) expire
 * unless kept alive; their expiry is written into the history as a server op.
 */
const LEASE_TTL_SECONDS = 24 * 3600;
const SHORT_LEASE_PROBABILITY = 0.5;
const FIRST_LEASE_ID = 1000;
/**
 * After an error or a timeout a client waits longer each time, up to a cap, as clientv3's
 * retries back off: an overloaded cluster then sheds load instead of piling up writes of
 * unknown outcome, and a healthy one is not slowed (an ok answer resets the wait).
 */
const BACKOFF_MEAN_MS = 50;
const BACKOFF_MAX_MS = 1000;
const SWITCH_PROBABILITY = 0.05;

/** The mean extra wait before a client's next request after `failuresInRow` failures or timeouts in a row. */
function backoffMeanMs(failuresInRow: number): number {
  if (failuresInRow === 0) return 0;
  return Math.min(BACKOFF_MAX_MS, BACKOFF_MEAN_MS * 2 ** Math.min(failuresInRow - 1, 16));
}

/** A server's answer to a request whose response body is `T`. */
type Answer<T> = { readonly header: ResponseHeader } & T;

/** Who sends a call, to which member. */
interface CallTarget {
  readonly client: Client;
  readonly member: SimMember;
}

interface Client {
  process: number;
  /** The member this client talks to (its endpoint), 0 = none chosen yet. */
  endpoint: NodeId;
  /** The server (member incarnation) that answered last, and the highest header revision it reported. */
  seenServer: EtcdServer | null;
  seenRevision: number;
  /** Requests in a row that failed or timed out: the next one waits longer. */
  failuresInRow: number;
  /** With the Kubernetes profile: a list page or a compaction that comes next. */
  readonly kubernetes: KubernetesClient;
  /** A client the viewer drives (one request per click): never schedules a request of its own. */
  readonly manual?: true;
}

/** A request a person sent from the viewer (sim/replay/): a put, or a linearizable read of a key or a range. */
export interface ManualRequest {
  readonly kind: 'put' | 'read';
  readonly member: NodeId;
  readonly key: string;
  readonly value: string;
  /** '' for a single key. */
  readonly rangeEnd: string;
}

/** At most this many viewer requests are kept for the page (a fork script holds at most 1000 actions anyway). */
const MANUAL_RECORDS_MAX = 1000;

/** One client request, typed by the body `T` of the server's answer. */
interface KvCall<T> {
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

/** Errors the state machine decides when it applies (or serves) a request: part of an ok answer. */
const DECIDED_ERRORS = new Map<string, string>([
  ['compacted', 'compacted'], ['futureRev', 'futureRev'], ['leaseNotFound', 'leaseNotFound'], ['leaseExist', 'leaseExists'],
]);
/** Errors after which a write may still take effect. */
const UNCERTAIN_ERRORS = new Set(['timeout', 'stopped', 'leaderChanged', 'notLeader', 'noSpace']);

export interface KvWorkloadSetup extends SimParts {
  /** The shape the seed drew (world.ts drawKvDraws). */
  readonly options: KvWorkloadOptions;
}

export class KvWorkload extends SimActor {
  readonly records: KvRecord[] = [];
  ok = 0;
  failed = 0;
  unknown = 0;
  /** Stale (serializable) gets answered; not in the checked history. */
  staleReads = 0;
  /** Serializable reads that saw their member's revision go back (the monotonic rule). */
  readonly staleRegressions: string[] = [];
  private readonly clients: Client[] = [];
  private nextProcess = 0;
  private nextValue = 1;
  private nextLease = FIRST_LEASE_ID;
  private running = false;
  private readonly keyNames: string[] = [];
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
  /** Short leases: keep-alives and expiry. */
  readonly keeper: LeaseKeeper;
  /** The viewer's requests in the order asked, each with its record (also in `records`, checked like every op) or null when refused. */
  readonly manual: { readonly request: ManualRequest; readonly record: KvRecord | null }[] = [];

  readonly options: KvWorkloadOptions;

  constructor(setup: KvWorkloadSetup) {
    super(setup);
    const { scheduler, random, cluster, options } = setup;
    this.options = options;
    for (let k = 0; k < options.keys; k++) this.keyNames.push(`k${k}`);
    this.keeper = new LeaseKeeper({ scheduler, random, cluster, record: (op) => { this.recordServerOp(op); } });
  }

  /** An op the cluster made on its own (a lease expiry): ok, under a process of its own. */
  private recordServerOp(op: ServerOp): void {
    this.records.push({
      process: this.nextProcess++, call: op.call, ret: op.ret, outcome: 'ok', request: op.request, response: op.response,
      member: op.member, note: op.note, ...(op.silentLease === undefined ? {} : { silentLease: op.silentLease }),
    });
  }

  start(): void {
    this.running = true;
    for (let i = 0; i < this.options.clients; i++) {
      const client: Client = { process: this.nextProcess++, endpoint: 0, seenServer: null, seenRevision: 0, failuresInRow: 0, kubernetes: { continuation: null } };
      this.clients.push(client);
      this.scheduleNext(client);
    }
  }

  /** No new ops from now on; what is pending stays pending until finish(). */
  stop(): void {
    this.running = false;
  }

  /** The run is over: an op still without an answer is unknown (a write) or failed (a read). */
  finish(): void {
    for (const record of this.records) {
      if (record.outcome !== 'pending') continue;
      this.settleUncertain(record, null);
    }
  }

  /** The history as JSON lines (docs/history-format.md). */
  historyText(): string {
    // Leases some put found gone: their expiries stay in, even those that wrote nothing.
    const seenGone = new Set<number>();
    for (const r of this.records) {
      if (r.outcome === 'ok' && r.request.type === 'put' && r.response?.['error'] === 'leaseNotFound') seenGone.add(r.request.lease ?? 0);
    }
    const lines: string[] = [];
    for (const r of this.records) {
      if (r.outcome === 'pending' || r.outcome === 'stale') continue;
      if (r.silentLease !== undefined && !seenGone.has(r.silentLease)) continue;
      lines.push(JSON.stringify({
        process: r.process, call: r.call, return: r.outcome === 'unknown' ? null : r.ret, outcome: r.outcome,
        request: r.request, ...(r.response === undefined ? {} : { response: r.response }), member: r.member,
        ...(r.note === undefined ? {} : { note: r.note }),
      }));
    }
    return lines.join('\n') + (lines.length > 0 ? '\n' : '');
  }

  /**
   * Sends a request a person asked for in the viewer, from a client of its own (a new
   * history process), to `request.member`; it is recorded and checked like any op.
   * Returns false when it could not be sent (the workload is not running, or the member
   * is down: a real client would be refused the connection).
   */
  sendManual(request: ManualRequest): boolean {
    const member = this.cluster.member(request.member);
    if (this.manual.length >= MANUAL_RECORDS_MAX) return false;
    if (!this.running || member.state === 'down' || member.state === 'refused') {
      this.manual.push({ request, record: null });
      return false;
    }
    const client: Client = {
      process: this.nextProcess++, endpoint: member.id, seenServer: null, seenRevision: 0, failuresInRow: 0, kubernetes: { continuation: null }, manual: true,
    };
    const before = this.records.length;
    if (request.kind === 'put') {
      this.dispatch({ client, member }, this.putValue(request.key, request.value, 0));
    } else {
      this.dispatch({ client, member }, this.rangeOf(request.key, request.rangeEnd));
    }
    this.manual.push({ request, record: this.records[before] ?? null });
    return true;
  }

  private scheduleNext(client: Client, backoffMeanMs = 0): void {
    if (!this.running || client.manual === true) return;
    const delayUs = 1000 * this.random.exponential(this.options.thinkMeanMs + backoffMeanMs);
    this.scheduler.after(delayUs, { kind: 'client', node: 0, a: client.process, run: () => { this.issue(client); } });
  }

  private issue(client: Client): void {
    if (!this.running) return;
    // Like clientv3's balancer: stay on one endpoint; move to another after an error or a
    // timeout, when it is down (connection refused), and now and then anyway.
    const current = client.endpoint === 0 ? null : this.cluster.member(client.endpoint);
    let member: SimMember | null = current;
    if (current === null || current.state === 'down' || current.state === 'refused' || this.random.chance(SWITCH_PROBABILITY)) {
      const candidates: SimMember[] = [];
      for (const id of this.cluster.ids) {
        const m = this.cluster.member(id);
        if ((m.state === 'up' || m.state === 'paused') && m !== current) candidates.push(m);
      }
      member = candidates.length === 0 ? current : (candidates[this.random.intBelow(candidates.length)] ?? null);
    }
    if (member === null || member.state === 'down' || member.state === 'refused') {
      this.scheduleNext(client);
      return;
    }
    client.endpoint = member.id;
    this.issueNext({ client, member });
  }

  /** Sends `call` from the client to the member, records it, and settles it on the answer or the deadline. */
  private dispatch<T>({ client, member }: CallTarget, call: KvCall<T>): void {
    const record: KvRecord = {
      process: client.process, call: this.scheduler.nowUs, ret: null, outcome: 'pending', request: call.request, member: member.id,
    };
    this.records.push(record);
    const timeoutUs = 1000 * (this.options.timeoutMsMin + this.random.intBelow(this.options.timeoutMsMax - this.options.timeoutMsMin + 1));
    if (call.request.type === 'compact') this.compactsPending++;
    const complete = (): void => {
      if (call.request.type === 'compact') {
        this.compactsPending--;
        if (record.outcome === 'unknown') this.compactUnknown = true;
      }
      for (const id of call.leases) this.leaseUsers.set(id, (this.leaseUsers.get(id) ?? 1) - 1);
      if (record.outcome === 'unknown') client.process = this.nextProcess++;
      if (record.outcome === 'unknown' || record.outcome === 'fail') client.endpoint = 0;
      client.failuresInRow = record.outcome === 'ok' ? 0 : client.failuresInRow + 1;
      this.scheduleNext(client, backoffMeanMs(client.failuresInRow));
    };
    for (const id of call.leases) this.leaseUsers.set(id, (this.leaseUsers.get(id) ?? 0) + 1);
    this.scheduler.after(timeoutUs, {
      kind: 'clientTimeout', node: member.id, a: record.process,
      run: () => {
        if (record.outcome !== 'pending') return;
        this.settleUncertain(record, null);
        complete();
      },
    });
    let servedBy: EtcdServer | null = null;
    const reply: Reply<T> = (answer) => {
      if (record.outcome !== 'pending') return; // the client gave up already
      if (!isEtcdError(answer)) {
        this.observeRevision({ client, server: servedBy, record, stale: call.staleKey !== undefined, revision: answer.header.revision });
      }
      if (isEtcdError(answer)) {
        const decided = DECIDED_ERRORS.get(answer.name);
        if (decided !== undefined) this.settle(record, 'ok', { error: decided });
        else if (UNCERTAIN_ERRORS.has(answer.name)) this.settleUncertain(record, answer);
        else this.settle(record, 'fail', undefined);
      } else {
        const response = call.response(answer);
        const revision = answer.header.revision;
        if (call.staleKey === undefined) {
          this.settle(record, 'ok', response);
        } else {
          // Not checkable as a read of the latest state (see the top of this file):
          // recorded as a read at the revision it reports, outcome "stale" (left out of
          // the linearizability check).
          record.request = { type: 'range', key: call.staleKey, revision: revision };
          const { revision: _current, ...rest } = response;
          this.staleReads++;
          this.settle(record, 'stale', rest);
        }
      }
      complete();
    };
    this.cluster.runOn(member, () => {
      servedBy = member.server;
      if (member.server !== null) call.send(member, reply);
    }, !call.readOnly);
  }

  /**
   * The monotonic rule for serializable reads: one server's store only moves forward, so
   * a stale get must report at least every revision that server reported to this client.
   * `revision` is the header revision of `record`'s answer from `server` (null: none answered).
   */
  private observeRevision({ client, server, record, stale, revision }: {
    readonly client: Client; readonly server: EtcdServer | null; readonly record: KvRecord; readonly stale: boolean; readonly revision: number;
  }): void {
    if (server === null) return;
    if (client.seenServer !== server) {
      client.seenServer = server;
      client.seenRevision = 0;
    }
    if (stale && revision < client.seenRevision) {
      this.staleRegressions.push(`process ${record.process} on member ${record.member} at ${record.call} µs: serializable get ` +
        `at revision ${revision} after the same member reported ${client.seenRevision}`);
    }
    client.seenRevision = Math.max(client.seenRevision, revision);
  }

  /** The answered serializable gets, for the state rule (staleReads.ts). */
  staleReadRecords(): StaleRead[] {
    const reads: StaleRead[] = [];
    for (const r of this.records) {
      if (r.outcome !== 'stale' || r.request.type !== 'range' || r.response === undefined) continue;
      reads.push({ process: r.process, member: r.member, call: r.call, key: r.request.key, revision: r.request.revision ?? 0, response: r.response });
    }
    return reads;
  }

  private settle(record: KvRecord, outcome: KvOutcome, response: EtcdResponse | undefined): void {
    record.outcome = outcome;
    record.ret = this.scheduler.nowUs;
    if (response !== undefined) record.response = response;
    if (outcome === 'ok') this.ok++;
    else if (outcome === 'fail') this.failed++;
    else if (outcome === 'unknown') this.unknown++;
  }

  /** No answer (or an uncertain one): a read failed harmlessly, a write may have happened. */
  private settleUncertain(record: KvRecord, _error: EtcdError | null): void {
    const readOnly = record.request.type === 'range';
    this.settle(record, readOnly ? 'fail' : 'unknown', undefined);
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

  /** Draws the client's next request and starts it (each kind has its own answer type). */
  private issueNext(target: CallTarget): void {
    if (this.options.profile === 'kubernetes') {
      this.issueKubernetes(target);
      return;
    }
    const roll = this.random.intBelow(100);
    if (roll < 20) { this.dispatch(target, this.get(this.key(), false)); return; }
    if (roll < 27) { this.dispatch(target, this.list()); return; }
    if (roll < 35) { this.dispatch(target, this.get(this.key(), true)); return; }
    if (roll < 38) { this.dispatch(target, this.getAt()); return; }
    if (roll < 58) { this.dispatch(target, this.put(this.key(), 0)); return; }
    if (roll < 64) { this.dispatch(target, this.del()); return; }
    if (roll < 72) { this.dispatch(target, this.multiTxn()); return; }
    if (roll < 84) { this.dispatch(target, this.cas()); return; }
    if (roll < 87) { this.dispatch(target, this.leaseGrant()); return; }
    if (roll < 92) { this.dispatch(target, this.put(this.key(), this.pickLease())); return; }
    if (roll < 95) {
      const revoke = this.leaseRevoke();
      if (revoke === null) this.dispatch(target, this.get(this.key(), false)); else this.dispatch(target, revoke);
      return;
    }
    if (roll < 97) { this.dispatch(target, this.compact()); return; }
    this.dispatch(target, this.get(this.key(), false));
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
  private rangeOf(key: string, rangeEnd: string): KvCall<RangeResponse> {
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

  private putValue(key: string, value: string, lease: number): KvCall<PutResponse> {
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
  private issueKubernetes(target: CallTarget): void {
    const request = drawKubernetesRequest(this.random, target.client.kubernetes);
    switch (request.kind) {
      case 'get': this.dispatch(target, this.get(this.key(), request.serializable)); return;
      case 'getAtRevision': this.dispatch(target, this.getAt()); return;
      case 'list': this.dispatch(target, this.listPage(target.client, request.page)); return;
      case 'count': this.dispatch(target, this.count()); return;
      case 'optimisticPut': this.dispatch(target, this.optimistic(this.key(), 'put')); return;
      case 'optimisticDelete': this.dispatch(target, this.optimistic(this.key(), 'delete')); return;
      case 'compactTxn': this.dispatch(target, this.compactTxn(target.client)); return;
      case 'compact': this.dispatch(target, this.compactTo(request.revision)); return;
    }
  }

  /** One page of a paginated List; a page with more after it makes the client's next request the next page. */
  private listPage(client: Client, page: ListPage): KvCall<RangeResponse> {
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
        client.kubernetes.continuation = next === null ? null : { kind: 'list', page: next };
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
  private compactTxn(client: Client): KvCall<TxnResponse> {
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
          client.kubernetes.continuation = { kind: 'compact', revision };
        }
        return json;
      },
    };
  }
}
