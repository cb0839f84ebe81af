// The multi-version key-value store (etcd's mvcc): every modifying request gets one
// main revision; every write inside it a sub-revision. Reads may ask for any revision
// at or above the compaction point. The key index lives in memory and is rebuilt
// from the backend on restart; the records live in the backend.
//
// Invariants: compactRevision ≤ currentRevision; each key's revisions increase; a
// request that writes nothing creates no revision.

import { etcdError, type EtcdError } from '../errors.js';
import { invariant } from '../util/invariant.js';
import { compareLeaseIds, NO_LEASE, type LeaseId } from '../lease/leaseId.js';
import type { BackendMeta, MvccBackend, StoredKv } from './backend.js';
import { fromKey, keyRange, toKey, type Key } from './keys.js';
import { mainOf, rev, type Rev } from './revision.js';
import { TreeIndex } from './treeIndex.js';
import {
  comparesOnPath, emptyTally, endTxn, newMvccCounters, txnIsReadOnly, type MvccCounters, type TxnTally,
} from './mvccCounters.js';
import type {
  Compare, CompactionRequest, CompactionResponse, DeleteRangeRequest, DeleteRangeResponse, KeyValue,
  PutRequest, PutResponse, RangeRequest, RangeResponse, RequestOp, ResponseOp, TxnRequest, TxnResponse,
} from './types.js';

/** One change a write made: watchers and the lessor consume these, in order. */
export interface MvccEvent {
  readonly type: 'put' | 'delete';
  readonly revision: Rev;
  /** For a delete: the tombstone (key and mod revision only). */
  readonly kv: StoredKv;
  /** The key's previous version, if it existed. */
  readonly prevKv: StoredKv | null;
}

export interface MvccOptions {
  /** Whether a lease exists (puts with unknown leases fail). Default: only lease 0. */
  readonly leaseExists?: (id: LeaseId) => boolean;
  /** Called once per modifying request, after it is stored, with its changes in order. */
  readonly onEvents?: (events: readonly MvccEvent[], mainRevision: number) => void;
  /** Where to count operations (mvccCounters.ts); a store made to replace another (a snapshot installed) keeps counting into the old one's. */
  readonly counters?: MvccCounters;
  /** Test-only, the planted bug compactDropsDeleteEvent (plantedBugs.ts): a delete at the compaction revision goes too. */
  readonly compactDropsDeleteEvent?: boolean;
}

const EMPTY = new Uint8Array(0);

/** The writes of one request, visible to the request's own later reads. */
class WriteBatch {
  readonly puts = new Map<Rev, StoredKv>();
  readonly events: MvccEvent[] = [];
  sub = 0;
  constructor(readonly main: number) {}
  nextRev(): Rev {
    return rev(this.main, this.sub++);
  }
}

export class MvccStore {
  private readonly index = new TreeIndex();
  readonly backend: MvccBackend;
  private readonly leaseExists: (id: LeaseId) => boolean;
  private readonly onEvents: ((events: readonly MvccEvent[], mainRevision: number) => void) | null;
  /** The main revision of the last modifying request; 1 on an empty store (etcd's start). */
  private current = 1;
  /** -1 until the first compaction (so compacting 0 or 1 on a fresh store succeeds). */
  private compacted = -1;
  private appliedIndexValue: number;
  private readonly compactDropsDeleteEvent: boolean;
  /** etcd's mvcc operation counts since this process started (mvccCounters.ts). */
  readonly counters: MvccCounters;
  /** The transaction being counted, null for reads the server makes for itself. */
  private tally: TxnTally | null = null;

  constructor(backend: MvccBackend, options: MvccOptions = {}) {
    this.backend = backend;
    this.compactDropsDeleteEvent = options.compactDropsDeleteEvent === true;
    this.leaseExists = options.leaseExists ?? ((id) => id === NO_LEASE);
    this.onEvents = options.onEvents ?? null;
    this.counters = options.counters ?? newMvccCounters();
    const meta = backend.meta();
    this.appliedIndexValue = meta.appliedIndex;
    if (meta.compactRevision > 0) this.compacted = meta.compactRevision;
    this.rebuildIndex();
  }

  currentRevision(): number {
    return this.current;
  }

  compactRevision(): number {
    return this.compacted;
  }

  /** The last Raft index whose effects are in the store. */
  appliedIndex(): number {
    return this.appliedIndexValue;
  }

  // ------------------------------------------------------------------ reads

  /** The key's stored version just before main revision `beforeMain` (prev_kv on replay). */
  previous(key: Key, beforeMain: number): StoredKv | null {
    if (beforeMain - 1 < this.compacted) return null;
    const found = this.index.get(key)?.get(beforeMain - 1) ?? null;
    return found === null ? null : this.record(found.modified, null);
  }

  /** A client's range: counted as etcd counts it. */
  range(request: RangeRequest): RangeResponse | EtcdError {
    return this.counted(() => this.rangeIn(request, null));
  }

  /** A range the server makes for itself (key counts, rebuilding lease key sets): not counted. */
  peek(request: RangeRequest): RangeResponse | EtcdError {
    return this.rangeIn(request, null);
  }

  // ------------------------------------------------------------------ writes
  // Each write applies one Raft entry; `appliedIndex` is stored with its effects.

  put(request: PutRequest, appliedIndex: number): PutResponse | EtcdError {
    // etcd's standalone Put looks its lease up before anything else, so an unknown lease
    // beats a missing key for ignore_value; inside a txn (checkRequestPut) the missing
    // key comes first, and putIn keeps that order.
    // Inside write(): a refusal still records the entry's index.
    const lease = request.lease ?? NO_LEASE;
    // etcd looks the lease up before it opens its transaction: an unknown lease counts nothing.
    if (lease !== NO_LEASE && !this.leaseExists(lease)) return this.write(appliedIndex, () => etcdError('leaseNotFound'));
    return this.counted(() => this.write(appliedIndex, (batch) => this.putIn(request, batch)));
  }

  deleteRange(request: DeleteRangeRequest, appliedIndex: number): DeleteRangeResponse | EtcdError {
    return this.counted(() => this.write(appliedIndex, (batch) => this.deleteIn(request, batch)));
  }

  txn(request: TxnRequest, appliedIndex: number): TxnResponse | EtcdError {
    return this.write(appliedIndex, (batch) => {
      // Every branch decision is made on the state before the txn (etcd's txnPath),
      // then the chosen ops are checked, then run in order.
      const path = this.txnPath(request);
      // etcd compares (and checks a writing txn's ops) in one read transaction, then
      // runs a writing txn's ops in a write transaction of their own.
      const compares: TxnTally = { ...emptyTally(), ranges: comparesOnPath(request, path) };
      const readOnly = txnIsReadOnly(request);
      this.tally = readOnly ? compares : null;
      const refused = readOnly ? null : this.checkOps(request, path.slice(), compares);
      if (!readOnly) endTxn(this.counters, compares);
      if (refused !== null) return refused;
      if (!readOnly) this.tally = emptyTally();
      try {
        return this.txnIn(request, path, batch);
      } finally {
        if (this.tally !== null) endTxn(this.counters, this.tally);
        this.tally = null;
      }
    });
  }

  /** Marks a Raft entry applied that did not touch the store (a no-op, a failed request). */
  skip(appliedIndex: number): void {
    this.commitBatch(null, appliedIndex, []);
  }

  compact(request: CompactionRequest, appliedIndex: number): CompactionResponse | EtcdError {
    const at = request.revision;
    if (at <= this.compacted) {
      this.skip(appliedIndex);
      return etcdError('compacted');
    }
    if (at > this.current) {
      this.skip(appliedIndex);
      return etcdError('futureRev');
    }
    const dropped: Rev[] = [];
    const emptied: Key[] = [];
    this.index.forEachInRange({ kind: 'range', from: '', to: null }, (key, keyIndex) => {
      dropped.push(...keyIndex.compact(at, this.compactDropsDeleteEvent));
      if (keyIndex.isEmpty()) emptied.push(key);
      return true;
    });
    for (const key of emptied) this.index.remove(key);
    this.compacted = at;
    this.commitBatch(null, appliedIndex, dropped);
    // etcd reads the current revision back with a range after compacting.
    endTxn(this.counters, { ...emptyTally(), ranges: 1 });
    return { revision: this.current };
  }

  // ------------------------------------------------------------------ internals

  /** Runs one etcd transaction's worth of work, tallying what it does into the counters. */
  private counted<T>(body: () => T): T {
    invariant(this.tally === null, 'mvcc transactions do not nest');
    const tally = emptyTally();
    this.tally = tally;
    try {
      return body();
    } finally {
      this.tally = null;
      endTxn(this.counters, tally);
    }
  }

  private write<T>(appliedIndex: number, body: (batch: WriteBatch) => T | EtcdError): T | EtcdError {
    invariant(appliedIndex > this.appliedIndexValue,
      () => `entry ${appliedIndex} applied after ${this.appliedIndexValue}: applies must be exactly once, in order`);
    const batch = new WriteBatch(this.current + 1);
    const result = body(batch);
    if (isError(result)) {
      invariant(batch.puts.size === 0, 'a refused request must not have written');
      this.skip(appliedIndex);
      return result;
    }
    this.commitBatch(batch, appliedIndex, []);
    return result;
  }

  private commitBatch(batch: WriteBatch | null, appliedIndex: number, deletes: readonly Rev[]): void {
    invariant(appliedIndex >= this.appliedIndexValue, () => `applied index goes back to ${appliedIndex}`);
    const wrote = batch !== null && batch.puts.size > 0;
    if (wrote) this.current = batch.main;
    const meta: BackendMeta = { appliedIndex, compactRevision: Math.max(0, this.compacted) };
    this.backend.write({ puts: wrote ? [...batch.puts] : [], deletes, meta });
    this.appliedIndexValue = appliedIndex;
    if (wrote && this.onEvents !== null) this.onEvents(batch.events, batch.main);
  }

  /** The revision reads see: the request's own if it has written, else the current one. */
  private visibleRevision(batch: WriteBatch | null): number {
    return batch !== null && batch.puts.size > 0 ? batch.main : this.current;
  }

  private record(r: Rev, batch: WriteBatch | null): StoredKv {
    const kv = batch?.puts.get(r) ?? this.backend.get(r);
    invariant(kv !== undefined, () => `the key index points at revision ${r}, which the backend lacks`);
    return kv;
  }

  private rangeIn(request: RangeRequest, batch: WriteBatch | null): RangeResponse | EtcdError {
    if (this.tally !== null) this.tally.ranges++;
    const visible = this.visibleRevision(batch);
    const asked = request.revision ?? 0;
    if (asked > visible) return etcdError('futureRev');
    const at = asked <= 0 ? visible : asked;
    if (at < this.compacted) return etcdError('compacted');

    const range = keyRange(toKey(request.key), toKey(request.rangeEnd ?? EMPTY));
    const limit = Math.max(0, request.limit ?? 0);
    const sortOrder = request.sortOrder ?? 'none';
    const sortTarget = request.sortTarget ?? 'key';
    const filtered = (request.minModRevision ?? 0) > 0 || (request.maxModRevision ?? 0) > 0
      || (request.minCreateRevision ?? 0) > 0 || (request.maxCreateRevision ?? 0) > 0;
    // Sorting or filtering needs every match; otherwise one past the limit tells `more`.
    const fetch = sortOrder !== 'none' || sortTarget !== 'key' || filtered || limit === 0 ? Infinity : limit + 1;

    let count = 0;
    let kvs: KeyValue[] = [];
    this.index.forEachInRange(range, (_key, keyIndex) => {
      const found = keyIndex.get(at);
      if (found === null) return true;
      count++;
      if (request.countOnly !== true && kvs.length < fetch) kvs.push(toKeyValue(this.record(found.modified, batch)));
      return true;
    });
    if (request.countOnly === true) return { revision: visible, kvs: [], more: false, count };

    kvs = kvs.filter((kv) => passesFilters(kv, request));
    kvs = sortKvs(kvs, sortOrder, sortTarget);
    let more = false;
    if (limit > 0 && kvs.length > limit) {
      kvs = kvs.slice(0, limit);
      more = true;
    }
    if (request.keysOnly === true) kvs = kvs.map((kv) => ({ ...kv, value: EMPTY }));
    return { revision: visible, kvs, more, count };
  }

  private putIn(request: PutRequest, batch: WriteBatch): PutResponse | EtcdError {
    const key = toKey(request.key);
    const keyIndex = this.index.get(key);
    const visible = this.visibleRevision(batch);
    const previous = keyIndex?.get(visible) ?? null;
    const prevKv = previous === null ? null : this.record(previous.modified, batch);
    // etcd ranges for the old value when the put needs it.
    if (this.tally !== null && (request.ignoreValue === true || request.ignoreLease === true || request.prevKv === true)) this.tally.ranges++;
    if ((request.ignoreValue === true || request.ignoreLease === true) && prevKv === null) {
      return etcdError('keyNotFound');
    }
    const lease = request.ignoreLease === true ? (prevKv?.lease ?? NO_LEASE) : (request.lease ?? NO_LEASE);
    if (lease !== NO_LEASE && !this.leaseExists(lease)) return etcdError('leaseNotFound');
    const value = request.ignoreValue === true ? (prevKv?.value ?? EMPTY) : request.value;
    const r = batch.nextRev();
    const stored: StoredKv = {
      key,
      value,
      createRevision: prevKv === null ? batch.main : prevKv.createRevision,
      modRevision: batch.main,
      version: prevKv === null ? 1 : prevKv.version + 1,
      lease,
      tombstone: false,
    };
    batch.puts.set(r, stored);
    if (this.tally !== null) {
      this.tally.puts++;
      this.tally.putBytes += key.length + value.length;
    }
    batch.events.push({ type: 'put', revision: r, kv: stored, prevKv });
    this.index.getOrCreate(key).put(r);
    return { revision: batch.main, prevKv: request.prevKv === true && prevKv !== null ? toKeyValue(prevKv) : null };
  }

  private deleteIn(request: DeleteRangeRequest, batch: WriteBatch): DeleteRangeResponse {
    const range = keyRange(toKey(request.key), toKey(request.rangeEnd ?? EMPTY));
    const visible = this.visibleRevision(batch);
    if (this.tally !== null) {
      this.tally.deletes++;
      if (request.prevKv === true) this.tally.ranges++;
    }
    const victims: { key: Key; prev: StoredKv }[] = [];
    this.index.forEachInRange(range, (key, keyIndex) => {
      const found = keyIndex.get(visible);
      if (found !== null) victims.push({ key, prev: this.record(found.modified, batch) });
      return true;
    });
    for (const { key, prev } of victims) {
      const r = batch.nextRev();
      const tombstone: StoredKv = {
        key, value: EMPTY, createRevision: 0, modRevision: batch.main, version: 0, lease: NO_LEASE, tombstone: true,
      };
      batch.puts.set(r, tombstone);
      batch.events.push({ type: 'delete', revision: r, kv: tombstone, prevKv: prev });
      const keyIndex = this.index.get(key);
      invariant(keyIndex !== undefined, 'deleted key vanished from the index');
      keyIndex.tombstone(r);
    }
    const revision = victims.length > 0 ? batch.main : this.visibleRevision(batch);
    return {
      revision,
      deleted: victims.length,
      prevKvs: request.prevKv === true ? victims.map((v) => toKeyValue(v.prev)) : [],
    };
  }

  /** Which branch each (nested) txn takes, decided on the state before the txn, in op order. */
  private txnPath(request: TxnRequest): boolean[] {
    const path: boolean[] = [];
    const walk = (txn: TxnRequest): void => {
      const succeeded = txn.compare.every((c) => this.compareHolds(c));
      path.push(succeeded);
      for (const op of succeeded ? txn.success : txn.failure) if ('txn' in op) walk(op.txn);
    };
    walk(request);
    return path;
  }

  /** Puts in the chosen branches must name existing leases and, with ignore_*, existing keys. */
  private checkOps(request: TxnRequest, path: boolean[], tally: TxnTally): EtcdError | null {
    const succeeded = path.shift();
    invariant(succeeded !== undefined, 'txn path too short');
    for (const op of succeeded ? request.success : request.failure) {
      if ('put' in op) {
        const p = op.put;
        const key = toKey(p.key);
        const live = this.index.get(key)?.get(this.current) ?? null;
        if (p.ignoreValue === true || p.ignoreLease === true) tally.ranges++;
        if ((p.ignoreValue === true || p.ignoreLease === true) && live === null) return etcdError('keyNotFound');
        const lease = p.lease ?? NO_LEASE;
        if (p.ignoreLease !== true && lease !== NO_LEASE && !this.leaseExists(lease)) return etcdError('leaseNotFound');
      } else if ('txn' in op) {
        const nested = this.checkOps(op.txn, path, tally);
        if (nested !== null) return nested;
      }
    }
    return null;
  }

  private txnIn(request: TxnRequest, path: boolean[], batch: WriteBatch): TxnResponse | EtcdError {
    const succeeded = path.shift();
    invariant(succeeded !== undefined, 'txn path too short');
    const responses: ResponseOp[] = [];
    for (const op of succeeded ? request.success : request.failure) {
      const response = this.opIn(op, path, batch);
      if (isError(response)) return response;
      responses.push(response);
    }
    return { revision: this.visibleRevision(batch), succeeded, responses };
  }

  private opIn(op: RequestOp, path: boolean[], batch: WriteBatch): ResponseOp | EtcdError {
    if ('range' in op) {
      const r = this.rangeIn(op.range, batch);
      return isError(r) ? r : { range: r };
    }
    if ('put' in op) {
      const r = this.putIn(op.put, batch);
      return isError(r) ? r : { put: r };
    }
    if ('deleteRange' in op) return { deleteRange: this.deleteIn(op.deleteRange, batch) };
    const r = this.txnIn(op.txn, path, batch);
    return isError(r) ? r : { txn: r };
  }

  /**
   * A compare holds when it holds for every key in its range. A missing key compares
   * as zeros (version 0, create 0, mod 0, lease 0) — except for a value compare, which
   * is false on a missing key (etcd's rule, observed on 3.4).
   */
  private compareHolds(c: Compare): boolean {
    const range = keyRange(toKey(c.key), toKey(c.rangeEnd ?? EMPTY));
    const found: StoredKv[] = [];
    this.index.forEachInRange(range, (_key, keyIndex) => {
      const at = keyIndex.get(this.current);
      if (at !== null) found.push(this.record(at.modified, null));
      return true;
    });
    if (found.length === 0) {
      if (c.target === 'value') return false;
      return compareOne(c, null);
    }
    return found.every((kv) => compareOne(c, kv));
  }

  private rebuildIndex(): void {
    const records: [Rev, StoredKv][] = [];
    this.backend.scan(0, Number.MAX_SAFE_INTEGER, (r, kv) => {
      records.push([r, kv]);
      return true;
    });
    for (const [r, kv] of records) {
      const keyIndex = this.index.getOrCreate(kv.key);
      if (kv.tombstone) {
        if (keyIndex.isLive()) keyIndex.tombstone(r);
      } else {
        keyIndex.put(r);
      }
      this.current = Math.max(this.current, mainOf(r));
    }
    // A key whose only record left is a tombstone (compacted at its deletion) has no history.
    const empty: Key[] = [];
    this.index.forEachInRange({ kind: 'range', from: '', to: null }, (key, keyIndex) => {
      if (keyIndex.isEmpty()) empty.push(key);
      return true;
    });
    for (const key of empty) this.index.remove(key);
  }
}

function isError(value: unknown): value is EtcdError {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'etcdError';
}

function toKeyValue(kv: StoredKv): KeyValue {
  return {
    key: fromKey(kv.key),
    createRevision: kv.createRevision,
    modRevision: kv.modRevision,
    version: kv.version,
    value: kv.value,
    lease: kv.lease,
  };
}

function passesFilters(kv: KeyValue, r: RangeRequest): boolean {
  if ((r.minModRevision ?? 0) > 0 && kv.modRevision < (r.minModRevision ?? 0)) return false;
  if ((r.maxModRevision ?? 0) > 0 && kv.modRevision > (r.maxModRevision ?? 0)) return false;
  if ((r.minCreateRevision ?? 0) > 0 && kv.createRevision < (r.minCreateRevision ?? 0)) return false;
  if ((r.maxCreateRevision ?? 0) > 0 && kv.createRevision > (r.maxCreateRevision ?? 0)) return false;
  return true;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** etcd: NONE with a non-KEY target means ASCEND; ASCEND by key is the index order. */
function sortKvs(kvs: KeyValue[], order: 'none' | 'ascend' | 'descend', target: string): KeyValue[] {
  const effective = order === 'none' && target !== 'key' ? 'ascend' : order;
  if (effective === 'none' || (effective === 'ascend' && target === 'key')) return kvs;
  const field = (kv: KeyValue): number => {
    switch (target) {
      case 'version': return kv.version;
      case 'create': return kv.createRevision;
      case 'mod': return kv.modRevision;
      default: return 0;
    }
  };
  const cmp = target === 'key'
    ? (a: KeyValue, b: KeyValue): number => compareBytes(a.key, b.key)
    : target === 'value'
      ? (a: KeyValue, b: KeyValue): number => compareBytes(a.value, b.value)
      : (a: KeyValue, b: KeyValue): number => field(a) - field(b);
  // A stable sort over key order: ties come back in key order, deterministically.
  const sorted = [...kvs].sort(cmp);
  return effective === 'descend' ? sorted.reverse() : sorted;
}

function compareOne(c: Compare, kv: StoredKv | null): boolean {
  let diff: number;
  switch (c.target) {
    case 'version': diff = (kv?.version ?? 0) - c.version; break;
    case 'create': diff = (kv?.createRevision ?? 0) - c.createRevision; break;
    case 'mod': diff = (kv?.modRevision ?? 0) - c.modRevision; break;
    case 'lease': diff = compareLeaseIds(kv?.lease ?? NO_LEASE, c.lease); break;
    case 'value': diff = compareBytes(kv?.value ?? EMPTY, c.value); break;
  }
  switch (c.result) {
    case 'equal': return diff === 0;
    case 'notEqual': return diff !== 0;
    case 'greater': return diff > 0;
    case 'less': return diff < 0;
  }
}

