// The MVCC backend port: an ordered store of revision → record, plus metadata,
// written in atomic batches (etcd's bbolt "key" and "meta" buckets). Production binds
// LMDB (storage/), the simulator binds a store on its simulated disk; MemoryBackend
// here serves tests and is the reference behaviour.
//
// The applied index is written in the same batch as the data it produced, so that
// after a crash the server re-applies exactly the entries after it: never one twice,
// never one skipped.

import type { LeaseId } from '../lease/leaseId.js';
import type { Rev } from './revision.js';

/** One stored version of a key: what a write at `revision` left behind. */
export interface StoredKv {
  readonly key: string;
  readonly value: Uint8Array;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  /** 0n: none. */
  readonly lease: LeaseId;
  /** A delete: the key ceased to exist at this revision. */
  readonly tombstone: boolean;
}

export interface BackendMeta {
  /** The last Raft index whose effects are in the backend (etcd's consistent_index). */
  readonly appliedIndex: number;
  /** The revision the store was last compacted at (0: never). */
  readonly compactRevision: number;
}

export interface BackendBatch {
  readonly puts: readonly (readonly [Rev, StoredKv])[];
  readonly deletes: readonly Rev[];
  readonly meta: BackendMeta;
}

/** Every record, ascending, with the metadata: what a Raft snapshot of the store carries. */
export interface BackendDump {
  readonly records: readonly (readonly [Rev, StoredKv])[];
  readonly meta: BackendMeta;
}

export interface MvccBackend {
  /** Applies a batch atomically. Durability is the adapter's business (group commit). */
  write(batch: BackendBatch): void;
  get(revision: Rev): StoredKv | undefined;
  /** Records with from ≤ revision < to, ascending (watch catch-up, index rebuild). */
  scan(from: Rev, to: Rev, visit: (revision: Rev, kv: StoredKv) => boolean): void;
  meta(): BackendMeta;
  /** The whole contents, for a snapshot. */
  dump(): BackendDump;
  /** Replaces the whole contents with a snapshot's, atomically (installing a snapshot). */
  replaceAll(dump: BackendDump): void;
}

export class MemoryBackend implements MvccBackend {
  private readonly records = new Map<Rev, StoredKv>();
  /** Revisions in ascending order; writes only ever append larger ones. */
  private order: Rev[] = [];
  private metaValue: BackendMeta = { appliedIndex: 0, compactRevision: 0 };

  write(batch: BackendBatch): void {
    for (const [r, kv] of batch.puts) {
      if (!this.records.has(r)) {
        const last = this.order[this.order.length - 1];
        if (last !== undefined && r < last) throw new Error(`backend: revision ${r} written after ${last}`);
        this.order.push(r);
      }
      this.records.set(r, kv);
    }
    if (batch.deletes.length > 0) {
      for (const r of batch.deletes) this.records.delete(r);
      this.order = this.order.filter((r) => this.records.has(r));
    }
    this.metaValue = batch.meta;
  }

  get(revision: Rev): StoredKv | undefined {
    return this.records.get(revision);
  }

  scan(from: Rev, to: Rev, visit: (revision: Rev, kv: StoredKv) => boolean): void {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.order[mid] ?? 0) < from) lo = mid + 1;
      else hi = mid;
    }
    for (let i = lo; i < this.order.length; i++) {
      const r = this.order[i];
      if (r === undefined || r >= to) return;
      const kv = this.records.get(r);
      if (kv !== undefined && !visit(r, kv)) return;
    }
  }

  meta(): BackendMeta {
    return this.metaValue;
  }

  dump(): { records: [Rev, StoredKv][]; meta: BackendMeta } {
    return { records: this.order.map((r): [Rev, StoredKv] => [r, this.records.get(r) as StoredKv]), meta: this.metaValue };
  }

  replaceAll(dump: BackendDump): void {
    this.records.clear();
    this.order = [];
    this.metaValue = { appliedIndex: 0, compactRevision: 0 };
    this.write({ puts: dump.records, deletes: [], meta: dump.meta });
  }

  static load(dump: BackendDump): MemoryBackend {
    const backend = new MemoryBackend();
    backend.replaceAll(dump);
    return backend;
  }
}
