// ModelStore: a sequential, multi-version etcd KV store, the specification the
// checker replays histories through (named apart from core/mvcc/store.ts's
// MvccStore, the server's real store). Mutable for speed (the revision-directed fast path
// replays 100,000 ops through one instance); clone() gives the searches their
// snapshots.

import type { CompactRequest, Compare, DeleteRequest, EtcdRequest, EtcdResponse, Json, KeyValue, PutRequest, RangeRequest, RequestOp, TxnRequest } from './types.js';

interface Version {
  readonly revision: number;
  /** null = deleted at this revision. */
  readonly kv: KeyValue | null;
}

/** One change, as a watch would report it. */
export interface StoreEvent {
  readonly type: 'put' | 'delete';
  readonly revision: number;
  /** For a delete: the key with its deletion's mod revision (etcd sends only these). */
  readonly kv: KeyValue;
  readonly prevKv: KeyValue | null;
}

/** etcd's first revision: a fresh store is at 1 and its first write makes 2. */
export const ETCD_INITIAL_REVISION = 1;

export interface StoreOptions {
  /** Keep every change in `events` (the watch validator's ground truth). */
  readonly recordEvents?: boolean;
  /** The revision of the empty store (default etcd's, 1; older histories used 0). */
  readonly initialRevision?: number;
}

/** One key a write touched, in the order the writes were made. */
export interface WrittenKey {
  readonly key: string;
  readonly deleted: boolean;
}

export class ModelStore {
  revision: number;
  /** Every change in order, when constructed with recordEvents (the watch validator's ground truth). */
  readonly events: StoreEvent[] = [];
  /** The keys the last apply() wrote (the fast path checks them against what later responses allow). */
  lastWrites: WrittenKey[] = [];
  private readonly recordEvents: boolean;
  constructor(options: StoreOptions = {}) {
    this.recordEvents = options.recordEvents ?? false;
    this.revision = options.initialRevision ?? ETCD_INITIAL_REVISION;
  }

  /** Nothing is compacted yet: etcd accepts compacting at any revision up to the current one. */
  compactRevision = -1;
  private readonly live = new Map<string, KeyValue>();
  private readonly history = new Map<string, Version[]>();
  private readonly leases = new Map<number, Set<string>>();

  clone(): ModelStore {
    const copy = new ModelStore(); // without the event log: copies are for searching
    copy.revision = this.revision;
    copy.compactRevision = this.compactRevision;
    for (const [k, v] of this.live) copy.live.set(k, v);
    for (const [k, v] of this.history) copy.history.set(k, v.slice());
    for (const [k, v] of this.leases) copy.leases.set(k, new Set(v));
    return copy;
  }

  /** A canonical text of everything a later request could observe. */
  digest(): string {
    const keys = [...this.history.keys()].sort();
    const parts = [`${this.revision}/${this.compactRevision}`];
    for (const k of keys) {
      const versions = this.history.get(k) ?? [];
      parts.push(`${k}:${versions.map((v) => (v.kv === null ? `${v.revision}-` : `${v.revision}=${v.kv.value}@${v.kv.lease}`)).join(',')}`);
    }
    const leases = [...this.leases.keys()].sort((a, b) => a - b);
    parts.push(`L${leases.map((id) => `${id}[${[...(this.leases.get(id) ?? [])].sort().join(',')}]`).join(';')}`);
    return parts.join('|');
  }

  /** Applies a request and returns the response etcd would give. */
  apply(request: EtcdRequest): EtcdResponse {
    this.lastWrites = [];
    switch (request.type) {
      case 'range':
        return this.range(request);
      case 'put':
        return this.put(request, this.revision + 1);
      case 'delete':
        return this.delete(request, this.revision + 1);
      case 'txn':
        return this.txn(request);
      case 'compact':
        return this.compact(request);
      case 'leaseGrant':
        if (this.leases.has(request.id)) return { error: 'leaseExists' };
        this.leases.set(request.id, new Set());
        return { revision: this.revision };
      case 'leaseRevoke': {
        const keys = this.leases.get(request.id);
        if (keys === undefined) return { error: 'leaseNotFound' };
        this.leases.delete(request.id);
        if (keys.size > 0) {
          const rev = this.revision + 1;
          for (const key of keys) this.remove(key, rev);
          this.revision = rev;
        }
        return { revision: this.revision };
      }
    }
  }

  /** The keys attached to a lease now (undefined: no such lease). */
  keysOfLease(id: number): ReadonlySet<string> | undefined {
    return this.leases.get(id);
  }

  /** The live value of a key. */
  get(key: string): KeyValue | undefined {
    return this.live.get(key);
  }

  /** A revision whose writer is not known yet (the fast path's placeholder). */
  skipRevision(): void {
    this.revision++;
  }

  /** True when the request cannot change the store (ranges). */
  static isReadOnly(request: EtcdRequest): boolean {
    return request.type === 'range';
  }

  private keysIn(key: string, rangeEnd: string | undefined, source: Iterable<string>): string[] {
    if (rangeEnd === undefined || rangeEnd === '') return [key];
    const fromKey = rangeEnd === '\u0000';
    const all = key === '\u0000' && fromKey;
    const keys: string[] = [];
    for (const k of source) if (all || (k >= key && (fromKey || k < rangeEnd))) keys.push(k);
    return keys.sort();
  }

  private range(request: RangeRequest): EtcdResponse {
    const at = request.revision ?? 0;
    if (at > this.revision) return { error: 'futureRev' };
    if (at > 0 && at < this.compactRevision) return { error: 'compacted' };
    const found: KeyValue[] = [];
    if (at <= 0 || at === this.revision) {
      for (const k of this.keysIn(request.key, request.rangeEnd, this.live.keys())) {
        const kv = this.live.get(k);
        if (kv !== undefined) found.push(kv);
      }
    } else {
      for (const k of this.keysIn(request.key, request.rangeEnd, this.history.keys())) {
        const kv = versionAt(this.history.get(k) ?? [], at);
        if (kv !== null) found.push(kv);
      }
    }
    if (request.countOnly === true) return { revision: this.revision, kvs: [], count: found.length, more: false };
    const limit = request.limit ?? 0;
    const kvs = limit > 0 ? found.slice(0, limit) : found;
    const shown = request.keysOnly === true ? kvs.map((kv) => ({ ...kv, value: '' })) : kvs;
    return { revision: this.revision, kvs: shown.map(kvJson), count: found.length, more: kvs.length < found.length };
  }

  private put(request: PutRequest, rev: number): EtcdResponse {
    const lease = request.lease ?? 0;
    if (lease !== 0 && !this.leases.has(lease)) return { error: 'leaseNotFound' };
    const prev = this.live.get(request.key);
    const kv: KeyValue = {
      key: request.key,
      value: request.value,
      createRevision: prev?.createRevision ?? rev,
      modRevision: rev,
      version: (prev?.version ?? 0) + 1,
      lease,
    };
    if (prev !== undefined && prev.lease !== 0) this.leases.get(prev.lease)?.delete(request.key);
    if (lease !== 0) this.leases.get(lease)?.add(request.key);
    this.live.set(request.key, kv);
    this.record(request.key, { revision: rev, kv });
    if (this.recordEvents) this.events.push({ type: 'put', revision: rev, kv, prevKv: prev ?? null });
    this.revision = rev;
    const response: Record<string, Json> = { revision: rev };
    if (request.prevKv === true) response['prevKv'] = prev === undefined ? null : kvJson(prev);
    return response;
  }

  private delete(request: DeleteRequest, rev: number): EtcdResponse {
    const doomed: KeyValue[] = [];
    for (const k of this.keysIn(request.key, request.rangeEnd, this.live.keys())) {
      const kv = this.live.get(k);
      if (kv !== undefined) doomed.push(kv);
    }
    for (const kv of doomed) this.remove(kv.key, rev);
    if (doomed.length > 0) this.revision = rev;
    const response: Record<string, Json> = { revision: this.revision, deleted: doomed.length };
    if (request.prevKv === true) response['prevKvs'] = doomed.map(kvJson);
    return response;
  }

  private remove(key: string, rev: number): void {
    const kv = this.live.get(key);
    if (kv === undefined) return;
    if (kv.lease !== 0) this.leases.get(kv.lease)?.delete(key);
    this.live.delete(key);
    this.record(key, { revision: rev, kv: null });
    if (this.recordEvents) {
      this.events.push({ type: 'delete', revision: rev, kv: { key, value: '', createRevision: 0, modRevision: rev, version: 0, lease: 0 }, prevKv: kv });
    }
  }

  private record(key: string, version: Version): void {
    this.lastWrites.push({ key, deleted: version.kv === null });
    const versions = this.history.get(key);
    if (versions === undefined) this.history.set(key, [version]);
    else if (versions[versions.length - 1]?.revision === version.revision) versions[versions.length - 1] = version;
    else versions.push(version);
  }

  private txn(request: TxnRequest): EtcdResponse {
    const succeeded = request.compare.every((c) => this.holds(c));
    const ops = succeeded ? request.success : request.failure;
    for (const op of ops) {
      if (op.type === 'put' && (op.lease ?? 0) !== 0 && !this.leases.has(op.lease ?? 0)) return { error: 'leaseNotFound' };
    }
    // Every write of the txn shares one new revision; reads inside see earlier writes.
    const rev = this.revision + 1;
    const responses = ops.map((op: RequestOp): EtcdResponse => {
      switch (op.type) {
        case 'range':
          return this.range(op);
        case 'put':
          return this.put(op, rev);
        case 'delete':
          return this.delete(op, rev);
      }
    });
    return { revision: this.revision, succeeded, responses };
  }

  private holds(c: Compare): boolean {
    const kv = this.live.get(c.key);
    if (c.target === 'value') {
      if (kv === undefined || typeof c.value !== 'string') return false; // etcd: a value compare on a missing key is false
      return compareWith(c.result, kv.value < c.value ? -1 : kv.value > c.value ? 1 : 0);
    }
    if (typeof c.value !== 'number') return false;
    const actual =
      c.target === 'version' ? (kv?.version ?? 0)
      : c.target === 'create' ? (kv?.createRevision ?? 0)
      : c.target === 'mod' ? (kv?.modRevision ?? 0)
      : (kv?.lease ?? 0);
    return compareWith(c.result, Math.sign(actual - c.value));
  }

  private compact(request: CompactRequest): EtcdResponse {
    if (request.revision <= this.compactRevision) return { error: 'compacted' };
    if (request.revision > this.revision) return { error: 'futureRev' };
    this.compactRevision = request.revision;
    return { revision: this.revision };
  }
}

function compareWith(result: Compare['result'], sign: number): boolean {
  switch (result) {
    case '=':
      return sign === 0;
    case '!=':
      return sign !== 0;
    case '<':
      return sign < 0;
    case '>':
      return sign > 0;
  }
}

function versionAt(versions: readonly Version[], revision: number): KeyValue | null {
  let lo = 0;
  let hi = versions.length - 1;
  let found: KeyValue | null = null;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const v = versions[mid];
    if (v === undefined) break;
    if (v.revision <= revision) {
      found = v.kv;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

function kvJson(kv: KeyValue): { readonly [key: string]: Json } {
  return { key: kv.key, value: kv.value, createRevision: kv.createRevision, modRevision: kv.modRevision, version: kv.version, lease: kv.lease };
}
