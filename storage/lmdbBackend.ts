// The MVCC backend port on LMDB: database "mvcc" maps a revision (8-byte big-endian,
// so LMDB's key order is revision order) to its record; "mvcc-meta" holds the applied
// index and the compaction revision, written in the same transaction as the records.
//
// The port is synchronous and a write must be visible to the next read at once, but
// lmdb-js commits asynchronously (batched per event turn, on its writer thread). So
// records written but not yet committed live in an overlay that get() and scan()
// consult first; a batch leaves the overlay when its transaction commits.
//
// Durability is not awaited: the Raft log is the source of truth, and after a crash the
// entries after meta.appliedIndex are applied again. What is guaranteed is atomicity —
// records and meta of a batch commit together or not at all — and order: a later batch
// never survives an earlier one. The member binary does not even commit a batch at once:
// it defers it to the next Raft log write's transaction (`deferTo`, deferredWrites.ts).

import type { BackendBatch, BackendDump, BackendMeta, MvccBackend, StoredKv } from '../core/mvcc/backend.js';
import type { Rev } from '../core/mvcc/revision.js';
import { decodeBackendMeta, decodeStoredKv, encodeBackendMeta, encodeStoredKv, readU64Key, u64Key } from './codec.js';
import type { DeferredWrites } from './deferredWrites.js';
import type { BinaryDb, CommitPromise, LmdbRoot } from './lmdbEnv.js';
import { describeError, openBinaryDb, openLmdbEnv } from './lmdbEnv.js';

const META_KEY = Buffer.from('meta');

export interface LmdbBackendOptions {
  /** Called when a batch failed to commit; the backend then refuses every call. */
  readonly onError?: (detail: string) => void;
  /**
   * Called once per LMDB transaction with the time from its issue (the first of its
   * batches handed to lmdb-js) to its commit, in seconds (etcd_disk_backend_commit_duration_seconds counts commits, not batches).
   */
  readonly onCommit?: (seconds: number) => void;
  /**
   * Queue every batch here instead of committing it at once: it rides in the next
   * durable write's transaction (storage/deferredWrites.ts; the log store's queue, on
   * the same environment). Without it, a batch is a transaction of its own.
   */
  readonly deferTo?: DeferredWrites;
}

/** Every revision there is (revisions are below 2^53). */
const MAX_REV = Number.MAX_SAFE_INTEGER;

interface Pending {
  /** The batch that wrote it: only that batch's commit may drop it from the overlay. */
  readonly seq: number;
  /** null: deleted. */
  readonly kv: StoredKv | null;
}

export class LmdbBackend implements MvccBackend {
  private readonly records: BinaryDb;
  private readonly metaDb: BinaryDb;
  private metaValue: BackendMeta;
  private readonly pending = new Map<Rev, Pending>();
  private seq = 0;
  /** The largest revision ever written (writes only append larger ones, as in MemoryBackend). */
  private maxRev = -1;
  private failure: string | null = null;
  /**
   * The batch of a replaceAll() not yet committed: until it is, the stored records are
   * stale as a whole, and reads consult the overlay alone.
   */
  private replacing: number | null = null;
  private readonly onError: ((detail: string) => void) | null;
  private readonly onCommit: ((seconds: number) => void) | null;
  private timedCommit: CommitPromise | null = null;
  private readonly deferTo: DeferredWrites | null;

  /** Opens (creating if needed) the backend in its own LMDB environment in `dir`. */
  static open(dir: string, options: LmdbBackendOptions = {}): LmdbBackend {
    return new LmdbBackend(openLmdbEnv(dir), true, options);
  }

  /** A backend in an environment shared with the log store (one sync for both). */
  static onEnv(root: LmdbRoot, options: LmdbBackendOptions = {}): LmdbBackend {
    return new LmdbBackend(root, false, options);
  }

  private constructor(readonly root: LmdbRoot, private readonly ownsRoot: boolean, options: LmdbBackendOptions) {
    this.onError = options.onError ?? null;
    this.onCommit = options.onCommit ?? null;
    this.deferTo = options.deferTo ?? null;
    this.records = openBinaryDb(root, 'mvcc');
    this.metaDb = openBinaryDb(root, 'mvcc-meta');
    // The port has no failure channel for reading at open: a corrupt store throws here,
    // before the member serves anything.
    const meta = this.metaDb.get(META_KEY);
    this.metaValue = meta === undefined ? { appliedIndex: 0, compactRevision: 0 } : decodeBackendMeta(meta);
    for (const key of this.records.getKeys({ limit: 1, reverse: true })) this.maxRev = readU64Key(key);
  }

  write(batch: BackendBatch): void {
    this.check();
    // Encoded before anything is queued, so that a bad record throws with nothing half-written.
    const puts: [Buffer, Buffer][] = [];
    for (const [r, kv] of batch.puts) {
      if (r < this.maxRev && !this.exists(r)) throw new Error(`backend: revision ${r} written after ${this.maxRev}`);
      puts.push([u64Key(r), encodeStoredKv(kv)]);
    }
    const deletes = batch.deletes.map((r) => u64Key(r));
    const meta = encodeBackendMeta(batch.meta);

    const seq = ++this.seq;
    for (const [r, kv] of batch.puts) {
      this.pending.set(r, { seq, kv });
      if (r > this.maxRev) this.maxRev = r;
    }
    for (const r of batch.deletes) this.pending.set(r, { seq, kv: null });
    this.metaValue = batch.meta;
    this.commit(puts, deletes, meta, () => {
      for (const [r] of batch.puts) this.settle(r, seq);
      for (const r of batch.deletes) this.settle(r, seq);
    });
  }

  /**
   * Deletes every stored record and writes the dump's, in one transaction. The records
   * to delete are the committed ones plus those of batches not yet committed (they
   * commit before this one: lmdb-js keeps the order of writes).
   */
  replaceAll(dump: BackendDump): void {
    this.check();
    const puts = dump.records.map(([r, kv]): [Buffer, Buffer] => [u64Key(r), encodeStoredKv(kv)]);
    const meta = encodeBackendMeta(dump.meta);
    const stale = new Set<Rev>(this.pending.keys());
    if (this.replacing === null) for (const key of this.records.getKeys()) stale.add(readU64Key(key));
    const deletes = [...stale].map((r) => u64Key(r));

    const seq = ++this.seq;
    this.pending.clear();
    for (const [r, kv] of dump.records) this.pending.set(r, { seq, kv });
    this.replacing = seq;
    this.maxRev = dump.records.reduce((max, [r]) => Math.max(max, r), -1);
    this.metaValue = dump.meta;
    this.commit(puts, deletes, meta, () => {
      if (this.replacing === seq) this.replacing = null;
      for (const [r] of dump.records) this.settle(r, seq);
    });
  }

  dump(): BackendDump {
    const records: [Rev, StoredKv][] = [];
    this.scan(0, MAX_REV, (r, kv) => { records.push([r, kv]); return true; });
    return { records, meta: this.meta() };
  }

  private commit(puts: readonly [Buffer, Buffer][], deletes: readonly Buffer[], meta: Buffer, settle: () => void): void {
    const ops = (): void => {
      // Deletes first: a replaceAll deletes revisions it then writes again.
      for (const k of deletes) void this.records.remove(k);
      for (const [k, v] of puts) void this.records.put(k, v);
      void this.metaDb.put(META_KEY, meta);
    };
    // Called when the batch's ops have been issued into a transaction (at once, or when
    // the deferred queue is drained into one).
    const issued = (committed: CommitPromise): void => {
      // lmdb-js hands every batch of one transaction the same promise: time it once.
      if (this.onCommit !== null && committed !== this.timedCommit) {
        this.timedCommit = committed;
        const onCommit = this.onCommit;
        const startedMs = performance.now();
        void committed.then(() => { onCommit((performance.now() - startedMs) / 1000); }, () => undefined);
      }
      void committed.then(() => {
        // Reads after this point must see the committed transaction, not an older snapshot.
        this.root.resetReadTxn();
        settle();
      }, (error: unknown) => { this.fail(error); });
    };
    if (this.deferTo !== null) {
      this.deferTo.add(ops, issued);
      return;
    }
    let committed: CommitPromise;
    try {
      committed = this.root.batch(ops);
    } catch (error) {
      this.fail(error);
      throw error;
    }
    issued(committed);
  }

  get(revision: Rev): StoredKv | undefined {
    this.check();
    const p = this.pending.get(revision);
    if (p !== undefined) return p.kv ?? undefined;
    if (this.replacing !== null) return undefined;
    const value = this.records.get(u64Key(revision));
    return value === undefined ? undefined : decodeStoredKv(revision, value);
  }

  scan(from: Rev, to: Rev, visit: (revision: Rev, kv: StoredKv) => boolean): void {
    this.check();
    if (from >= to) return;
    const overlay = [...this.pending.entries()].filter(([r]) => r >= from && r < to).sort((a, b) => a[0] - b[0]);
    let o = 0;
    const stored = this.replacing === null ? this.records.getRange({ start: u64Key(from), end: u64Key(to) }) : [];
    for (const { key, value } of stored) {
      const r = readU64Key(key);
      for (let next = overlay[o]; next !== undefined && next[0] < r; next = overlay[++o]) {
        if (next[1].kv !== null && !visit(next[0], next[1].kv)) return;
      }
      const over = overlay[o];
      if (over !== undefined && over[0] === r) {
        o++;
        if (over[1].kv !== null && !visit(r, over[1].kv)) return;
      } else if (!visit(r, decodeStoredKv(r, value))) {
        return;
      }
    }
    for (let next = overlay[o]; next !== undefined; next = overlay[++o]) {
      if (next[1].kv !== null && !visit(next[0], next[1].kv)) return;
    }
  }

  meta(): BackendMeta {
    this.check();
    return this.metaValue;
  }

  /** Waits for every batch written so far to be synced, then closes the environment if it is ours. */
  async close(): Promise<void> {
    this.deferTo?.flush();
    await this.root.flushed;
    if (this.ownsRoot) await this.root.close();
  }

  private exists(r: Rev): boolean {
    const p = this.pending.get(r);
    if (p !== undefined) return p.kv !== null;
    return this.replacing === null && this.records.doesExist(u64Key(r));
  }

  private settle(r: Rev, seq: number): void {
    if (this.pending.get(r)?.seq === seq) this.pending.delete(r);
  }

  private fail(error: unknown): void {
    if (this.failure !== null) return;
    this.failure = describeError(error);
    this.onError?.(this.failure);
  }

  private check(): void {
    if (this.failure !== null) throw new Error(`LMDB backend: a batch failed to commit: ${this.failure}`);
  }
}
