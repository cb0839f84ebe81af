// The MVCC backend port on a bbolt file laid out as etcd 3.4's backend: bucket `key`
// maps each revision (etcd's 17-byte key, 18 with the tombstone mark) to its
// mvccpb.KeyValue, bucket `meta` holds consistent_index and the compaction revision —
// so the file is etcd's `member/snap/db`, and what etcd's tools (or its e2e suite's
// corruptions) do to it, Tern reads back.
//
// As etcd's backend, writes are batched: a batch is visible to the next read at once
// (an overlay of the records written since the last commit) and reaches the file at the
// host's next commit() — every backend batch interval, or once the overlay holds
// maxPending records — in one bbolt transaction with its meta. Durability is not
// awaited: the Raft log is the source of truth, and after a crash the entries after
// the committed consistent_index are applied again (or a Raft snapshot replaces the
// records whole). What is guaranteed is that a commit lands whole or not at all, and in
// order.
//
// A commit's pages are written on the main thread and its two syncs run on libuv's
// thread pool (bbolt/db.ts updateInBackground): measured on a member under put c=256,
// the syncs on the main thread were 2-9% of it, in stalls of ~9 ms every interval. While
// a commit lands, its records stay readable here (`landing`), new writes gather in the
// overlay, and the interval's next commit waits for it; at maxPending the landing
// commit is finished on the main thread, so the overlay stays bounded.

import type { BackendBatch, BackendDump, BackendMeta, MvccBackend, StoredKv } from '../core/mvcc/backend.js';
import type { Rev } from '../core/mvcc/revision.js';
import { invariant } from '../core/util/invariant.js';
import { keyRecord, metaOf } from '../net/etcdData/backendImage.js';
import { marshalKeyValue, revBytes, u64Bytes } from '../net/snapshot/records.js';
import { BboltDb, type Bucket, type Tx } from './bbolt/db.js';

const KEY_BUCKET = 'key';
const META_BUCKET = 'meta';
/** etcd fills its key bucket's pages to 90%: revisions only ever append. */
const KEY_BUCKET_FILL = 0.9;
const CONSISTENT_INDEX = Buffer.from('consistent_index');
const SCHEDULED_COMPACT = Buffer.from('scheduledCompactRev');
const FINISHED_COMPACT = Buffer.from('finishedCompactRev');
/** etcd's --backend-batch-limit default: a commit once this many records wait. */
export const DEFAULT_MAX_PENDING = 10_000;

export interface BboltBackendOptions {
  /** Commit once this many records wait in the overlay (etcd: --backend-batch-limit). */
  readonly maxPending?: number;
  /** Called once per commit with its duration in seconds (etcd_disk_backend_commit_duration_seconds). */
  readonly onCommit?: (seconds: number) => void;
  /** Called when a commit failed (then thrown): the file is closed to writes; the host stops. */
  readonly onError?: (detail: string) => void;
}

export class BboltBackend implements MvccBackend {
  /** Records written since the last commit (null: deleted), by revision. */
  private pending = new Map<Rev, StoredKv | null>();
  /** The commit whose syncs are running: its records, read until it lands. */
  private landing: Landing | null = null;
  private metaValue: BackendMeta;
  /** The meta the file holds (what survives a crash now). */
  private committedMeta: BackendMeta;
  /** A replaceAll() not yet committed: the file's records are stale as a whole; reads see the overlay alone. */
  private replacing = false;
  private readonly maxPending: number;

  private constructor(private readonly db: BboltDb, private readonly options: BboltBackendOptions) {
    this.maxPending = options.maxPending ?? DEFAULT_MAX_PENDING;
    invariant(Number.isInteger(this.maxPending) && this.maxPending > 0, 'maxPending must be a positive integer');
    this.metaValue = db.view((tx) => {
      const rows: [Buffer, Buffer][] = [];
      tx.bucket(META_BUCKET)?.scan(null, null, (key, value) => { rows.push([key, value]); return true; });
      return metaOf(rows);
    });
    this.committedMeta = this.metaValue;
  }

  /** Opens (creating if missing) the backend file at `path`; a file that is not bbolt's is a BboltFormatError. */
  static open(path: string, options: BboltBackendOptions = {}): BboltBackend {
    const db = BboltDb.open(path, { create: true });
    try {
      db.update((tx) => { ensureBuckets(tx); });
      return new BboltBackend(db, options);
    } catch (error) {
      db.close();
      throw error;
    }
  }

  /** The meta the file holds now (the overlay aside). */
  get durableMeta(): BackendMeta {
    return this.committedMeta;
  }

  /** Records waiting for the next commit. */
  get pendingCount(): number {
    return this.pending.size;
  }

  write(batch: BackendBatch): void {
    for (const r of batch.deletes) this.pending.set(r, null);
    for (const [r, kv] of batch.puts) this.pending.set(r, kv);
    this.metaValue = batch.meta;
    if (this.pending.size >= this.maxPending) {
      this.db.settle();
      this.commit();
    }
  }

  get(revision: Rev): StoredKv | undefined {
    const p = this.pending.get(revision);
    if (p !== undefined) return p ?? undefined;
    if (this.replacing) return undefined;
    const landing = this.landing;
    if (landing !== null) {
      const l = landing.records.get(revision);
      if (l !== undefined) return l ?? undefined;
      if (landing.replacing) return undefined;
    }
    return this.db.view((tx) => {
      const found = findRecord(keyBucket(tx), revision);
      return found === null ? undefined : found[1];
    });
  }

  scan(from: Rev, to: Rev, visit: (revision: Rev, kv: StoredKv) => boolean): void {
    if (from >= to) return;
    const overlay = this.overlayWithin(from, to);
    let o = 0;
    const visitOverlayBelow = (limit: Rev): boolean => {
      for (let next = overlay[o]; next !== undefined && next[0] < limit; next = overlay[++o]) {
        if (next[1] !== null && !visit(next[0], next[1])) return false;
      }
      return true;
    };
    // The file's records and the overlay merged in revision order; the overlay wins a tie.
    const scan = { going: true };
    if (!this.replacing && this.landing?.replacing !== true) {
      this.db.view((tx) => {
        keyBucket(tx).scan(revBytes(from, false), revBytes(to, false), (key, value) => {
          const [r, kv] = keyRecord(key, value);
          scan.going = visitOverlayBelow(r);
          if (!scan.going) return false;
          const over = overlay[o];
          if (over !== undefined && over[0] === r) {
            o++;
            scan.going = over[1] === null || visit(r, over[1]);
          } else {
            scan.going = visit(r, kv);
          }
          return scan.going;
        });
      });
    }
    if (scan.going) visitOverlayBelow(Number.MAX_SAFE_INTEGER);
  }

  /** The records not in the file's committed tree within [from, to), in revision order: the landing commit's, then the overlay's over them. */
  private overlayWithin(from: Rev, to: Rev): [Rev, StoredKv | null][] {
    const within = (entries: Iterable<[Rev, StoredKv | null]>): [Rev, StoredKv | null][] => [...entries].filter(([r]) => r >= from && r < to);
    const landing = this.landing;
    if (landing === null || this.replacing) return within(this.pending).sort((a, b) => a[0] - b[0]);
    const merged = new Map(within(landing.records));
    for (const [r, kv] of within(this.pending)) merged.set(r, kv);
    return [...merged].sort((a, b) => a[0] - b[0]);
  }

  meta(): BackendMeta {
    return this.metaValue;
  }

  dump(): BackendDump {
    const records: [Rev, StoredKv][] = [];
    this.scan(0, Number.MAX_SAFE_INTEGER, (r, kv) => { records.push([r, kv]); return true; });
    return { records, meta: this.metaValue };
  }

  replaceAll(dump: BackendDump): void {
    this.db.settle(); // a restore is rare; its commit starts now, not after the landing one
    this.pending = new Map(dump.records);
    this.replacing = true;
    this.metaValue = dump.meta;
    this.commit();
  }

  /**
   * Writes the overlay and the meta to the file in one transaction (nothing if nothing
   * changed), landing in the background; nothing while the previous commit still lands
   * (the next call takes what waits).
   */
  commit(): void {
    if (this.landing !== null || this.unchanged()) return;
    const started = performance.now();
    const landing: Landing = { records: this.pending, replacing: this.replacing, meta: this.metaValue };
    const writes = [...landing.records].sort((a, b) => a[0] - b[0]);
    this.pending = new Map();
    this.replacing = false;
    this.landing = landing;
    try {
      this.db.updateInBackground((tx) => { this.writeTo(tx, writes, landing); }, (error) => {
        if (error !== null) {
          // Its records stay readable here; the file takes no more writes and the host stops.
          this.options.onError?.(error.message);
          return;
        }
        this.landing = null;
        this.committedMeta = landing.meta;
        this.options.onCommit?.((performance.now() - started) / 1000);
      });
    } catch (error) {
      // Nothing landed: the records wait in the overlay again.
      this.landing = null;
      this.pending = new Map([...landing.records, ...this.pending]);
      this.replacing = landing.replacing;
      this.options.onError?.(error instanceof Error ? error.message : String(error));
      throw error;
    }
  }

  private unchanged(): boolean {
    return this.pending.size === 0 && !this.replacing && sameMeta(this.metaValue, this.committedMeta);
  }

  private writeTo(tx: Tx, writes: readonly (readonly [Rev, StoredKv | null])[], landing: Landing): void {
    if (landing.replacing) tx.deleteBucket(KEY_BUCKET);
    ensureBuckets(tx);
    const keys = keyBucket(tx);
    for (const [r, kv] of writes) {
      if (kv === null) {
        keys.delete(revBytes(r, false));
        keys.delete(revBytes(r, true));
      } else {
        keys.put(revBytes(r, kv.tombstone), marshalKeyValue(kv));
      }
    }
    const metaBucket = tx.createBucket(META_BUCKET);
    metaBucket.put(CONSISTENT_INDEX, u64Bytes(landing.meta.appliedIndex));
    if (landing.meta.compactRevision > 0) {
      metaBucket.put(SCHEDULED_COMPACT, compactKey(landing.meta.compactRevision));
      metaBucket.put(FINISHED_COMPACT, compactKey(landing.meta.compactRevision));
    }
  }

  /** Lands what waits, the commit landing included, then closes the file. */
  close(): void {
    try {
      this.db.settle();
      this.commit();
      this.db.settle();
    } finally {
      this.db.close();
    }
  }
}

/** A commit of the backend whose syncs are running. */
interface Landing {
  readonly records: ReadonlyMap<Rev, StoredKv | null>;
  /** A replaceAll: the file's records before it are stale. */
  readonly replacing: boolean;
  readonly meta: BackendMeta;
}

function ensureBuckets(tx: Tx): void {
  tx.createBucket(KEY_BUCKET).fillPercent = KEY_BUCKET_FILL;
  tx.createBucket(META_BUCKET);
}

function keyBucket(tx: Tx): Bucket {
  const bucket = tx.bucket(KEY_BUCKET);
  invariant(bucket !== null, 'the backend file lost its key bucket');
  if (tx.writable) bucket.fillPercent = KEY_BUCKET_FILL;
  return bucket;
}

/** The record at `revision`, a put's or a tombstone's (its key is the revision's 17 bytes, plus 't'). */
function findRecord(bucket: Bucket, revision: Rev): readonly [Rev, StoredKv] | null {
  const prefix = revBytes(revision, false);
  let found: readonly [Rev, StoredKv] | null = null;
  bucket.scan(prefix, null, (key, value) => {
    if (Buffer.compare(key.subarray(0, prefix.length), prefix) === 0) found = keyRecord(key, value);
    return false;
  });
  return found;
}

/** etcd's compaction marks in meta: the main revision's 17-byte key (sub 0). */
function compactKey(main: number): Uint8Array {
  const out = Buffer.alloc(17);
  out.writeBigUInt64BE(BigInt(main), 0);
  out[8] = 0x5f;
  return out;
}

function sameMeta(a: BackendMeta, b: BackendMeta): boolean {
  return a.appliedIndex === b.appliedIndex && a.compactRevision === b.compactRevision;
}
