// The LogStore port on LMDB: the Raft log, the hard state and the latest snapshot
// (etcd's WAL + snap directory) in one LMDB environment.
//
// Layout: database "raft-log" maps an entry's index (8-byte big-endian) to the entry;
// database "raft-state" holds the hard state and the latest snapshot. Every write and
// compaction is one LMDB transaction, so there are no torn tails to repair: recovery
// sees a whole write or none of it.
//
// Durability: `done` is called when lmdb-js reports the transaction flushed (synced),
// not merely committed. A write with mustSync=false (a commit-index-only change; etcd
// skips the fsync for it too) is acknowledged at once, in a microtask, and not even
// committed: it waits in `deferred` (deferredWrites.ts) with the MVCC batches the
// driver applies on that acknowledgement, and all of them ride in the next synced
// write's transaction (or a timer's, when none comes). So a put costs one LMDB commit
// and one fdatasync; deferredWrites.ts says why losing the deferred writes in a crash
// loses nothing that was acknowledged.
// Group commit: lmdb-js puts every write issued in one event turn into one transaction.
// A Ready with many entries is one transaction and one sync too.

import type { LogStore, LogWrite, RecoveredLog, RecoveryFailure, WriteResult } from '../core/node/ports.js';
import type { Entry, HardState, Snapshot } from '../core/raft/types.js';
import { EMPTY_HARD_STATE } from '../core/raft/types.js';
import {
  CorruptRecord, decodeEntry, decodeHardState, decodeSnapshot, encodeEntry, encodeHardState, encodeSnapshot,
  readU64Key, u64Key,
} from './codec.js';
import type { DeferredWritesOptions, OnCommit } from './deferredWrites.js';
import { DeferredWrites, settle } from './deferredWrites.js';
import type { BinaryDb, CommitPromise, LmdbRoot } from './lmdbEnv.js';
import { describeError, isDiskFull, openBinaryDb, openLmdbEnv } from './lmdbEnv.js';

const HARD_STATE_KEY = Buffer.from('hardState');
const SNAPSHOT_KEY = Buffer.from('snapshot');

export class LmdbLogStore implements LogStore {
  private readonly log: BinaryDb;
  private readonly state: BinaryDb;
  /**
   * The indexes held in "raft-log": [first, last], empty when last < first. Kept in
   * memory so that truncation and compaction delete by key without reading.
   */
  private first = 1;
  private last = 0;
  /** Set when the stored log could not be read at open; recover() reports it. */
  private openProblem: string | null = null;
  /**
   * The hard state of a write acknowledged before its commit (mustSync=false), until a
   * later write supersedes it: recover() in this process reports it as written.
   */
  private unsyncedHardState: HardState | null = null;
  /** Set when a write failed: the store refuses further writes (the member stops anyway). */
  private broken: string | null = null;
  /**
   * Writes that need no sync of their own (commit indexes; the MVCC backend's batches
   * when it is given this queue): they go into this store's next transaction.
   */
  readonly deferred: DeferredWrites;

  /** Opens (creating if needed) the store in its own LMDB environment in `dir`. */
  static open(dir: string, options: DeferredWritesOptions = {}): LmdbLogStore {
    return new LmdbLogStore(openLmdbEnv(dir), true, options);
  }

  /** A store in an environment shared with other users (the MVCC backend). */
  static onEnv(root: LmdbRoot, options: DeferredWritesOptions = {}): LmdbLogStore {
    return new LmdbLogStore(root, false, options);
  }

  private constructor(readonly root: LmdbRoot, private readonly ownsRoot: boolean, options: DeferredWritesOptions) {
    this.deferred = new DeferredWrites(root, options);
    this.log = openBinaryDb(root, 'raft-log');
    this.state = openBinaryDb(root, 'raft-state');
    try {
      let first: number | null = null;
      for (const key of this.log.getKeys({ limit: 1 })) first = readU64Key(key);
      let last: number | null = null;
      for (const key of this.log.getKeys({ limit: 1, reverse: true })) last = readU64Key(key);
      if (first !== null && last !== null) {
        this.first = first;
        this.last = last;
      } else {
        const snapshot = this.state.get(SNAPSHOT_KEY);
        const base = snapshot === undefined ? 0 : decodeSnapshot(snapshot).metadata.index;
        this.first = base + 1;
        this.last = base;
      }
    } catch (error) {
      this.openProblem = describeError(error);
    }
  }

  write(request: LogWrite, done: (result: WriteResult) => void): void {
    // Checked before anything is queued: a throw halfway through the batch would
    // leave the ops queued so far to be committed.
    const base = request.snapshot === null ? this.last : request.snapshot.metadata.index;
    let expect = request.entries[0]?.index ?? 0;
    if (expect > base + 1) throw new Error(`raft log: appending at ${expect} would leave a gap after ${base}`);
    for (const entry of request.entries) {
      if (entry.index !== expect) throw new Error(`raft log: entries not contiguous (${entry.index} after ${expect - 1})`);
      expect++;
    }
    const hardState = request.hardState;
    // Raft asks no sync only of a Ready without entries or snapshot (a commit index);
    // anything else is synced even if asked not to be.
    const deferrable = !request.mustSync && request.snapshot === null && request.entries.length === 0;
    if (hardState !== null) this.unsyncedHardState = deferrable ? hardState : null;
    if (deferrable) {
      this.defer(hardState, done);
      return;
    }
    this.commit(() => {
      if (request.snapshot !== null) this.installSnapshot(request.snapshot);
      if (request.entries.length > 0) this.append(request.entries);
      if (hardState !== null) this.putHardState(hardState);
    }, done);
  }

  compact(snapshot: Snapshot, done: (result: WriteResult) => void): void {
    this.commit(() => {
      const index = snapshot.metadata.index;
      void this.state.put(SNAPSHOT_KEY, encodeSnapshot(snapshot));
      this.removeRange(this.first, Math.min(this.last, index));
      this.first = Math.max(this.first, index + 1);
      this.last = Math.max(this.last, index);
    }, done);
  }

  recover(): RecoveredLog | RecoveryFailure {
    if (this.openProblem !== null) return { kind: 'corrupt', detail: `raft log: ${this.openProblem}` };
    try {
      const hsBuf = this.state.get(HARD_STATE_KEY);
      const hardState: HardState = this.unsyncedHardState ?? (hsBuf === undefined ? EMPTY_HARD_STATE : decodeHardState(hsBuf));
      const snapBuf = this.state.get(SNAPSHOT_KEY);
      const snapshot = snapBuf === undefined ? null : decodeSnapshot(snapBuf);
      const base = snapshot?.metadata.index ?? 0;
      let lastTerm = snapshot?.metadata.term ?? 0;
      const entries: Entry[] = [];
      for (const { key, value } of this.log.getRange()) {
        const index = readU64Key(key);
        const want = base + 1 + entries.length;
        if (index !== want) {
          return { kind: 'corrupt', detail: entries.length === 0
            ? `raft log: the first entry is ${index}, expected ${want} (snapshot index ${base})`
            : `raft log: a gap, entry ${index} follows ${want - 1}` };
        }
        const entry = decodeEntry(index, value);
        if (entry.term < lastTerm) {
          return { kind: 'corrupt', detail: `raft log: entry ${index} has term ${entry.term} below the previous term ${lastTerm}` };
        }
        lastTerm = entry.term;
        entries.push(entry);
      }
      const lastIndex = base + entries.length;
      if (hardState.commit > lastIndex) {
        return { kind: 'corrupt', detail: `hard state commits ${hardState.commit} but the log ends at ${lastIndex}` };
      }
      if (hardState.term < lastTerm) {
        return { kind: 'corrupt', detail: `hard state term ${hardState.term} is below the last entry's term ${lastTerm}` };
      }
      this.first = base + 1;
      this.last = lastIndex;
      return { hardState, snapshot, entries, truncatedTornTail: false };
    } catch (error) {
      if (error instanceof CorruptRecord) return { kind: 'corrupt', detail: error.message };
      return { kind: 'ioError', detail: `reading the raft log: ${describeError(error)}` };
    }
  }

  /** Commits what is deferred, waits for every write so far to be synced, then closes the environment if it is ours. */
  async close(): Promise<void> {
    this.deferred.flush();
    await this.root.flushed;
    if (this.ownsRoot) await this.root.close();
  }

  // ------------------------------------------------------------ internals

  /**
   * A write that needs no sync (mustSync=false: a commit index only). It is acknowledged
   * now, in a microtask of this event turn, and joins the next transaction (deferred).
   * Nothing waits for its commit: waiting would cost a round trip to LMDB's writer
   * thread, and a commit of its own would cost a sync that the next durable write
   * would queue behind (lmdb-js syncs every transaction). A failed commit marks the
   * store broken; the next write reports it.
   */
  private defer(hardState: HardState | null, done: (result: WriteResult) => void): void {
    if (this.broken !== null) {
      done({ kind: 'ioError', detail: `an earlier write failed: ${this.broken}` });
      return;
    }
    if (hardState !== null) {
      this.deferred.add(() => { this.putHardState(hardState); }, (committed) => {
        void committed.then(() => {
          if (this.unsyncedHardState === hardState) this.unsyncedHardState = null;
        }, (error: unknown) => { this.failed(error); });
      });
    }
    queueMicrotask(() => { done(this.broken === null ? { kind: 'ok' } : { kind: 'ioError', detail: this.broken }); });
  }

  /**
   * Runs the deferred writes and `ops` (asynchronous lmdb-js puts and removes) as one
   * transaction and calls `done` once it is synced, or has failed.
   */
  private commit(ops: () => void, done: (result: WriteResult) => void): void {
    if (this.broken !== null) {
      done({ kind: 'ioError', detail: `an earlier write failed: ${this.broken}` });
      return;
    }
    const taken: { hooks: readonly OnCommit[] } = { hooks: [] };
    let committed: CommitPromise;
    try {
      committed = this.root.batch(() => {
        taken.hooks = this.deferred.drain();
        ops();
      });
    } catch (error) {
      this.deferred.fail(taken.hooks, error);
      done(this.failed(error));
      return;
    }
    settle(taken.hooks, committed);
    // The two-argument then: an exception thrown by `done` itself is not reported to
    // `done` as a failed write (it surfaces as an unhandled rejection instead).
    void committed
      // An environment opened without separateFlushed (not by openLmdbEnv) has no
      // per-write flush promise: the environment's, covering every write so far, serves.
      .then(() => committed.flushed ?? this.root.flushed)
      .then(() => { done({ kind: 'ok' }); }, (error: unknown) => { done(this.failed(error)); });
  }

  private failed(error: unknown): WriteResult {
    const detail = describeError(error);
    this.broken = detail;
    return isDiskFull(error) ? { kind: 'diskFull', detail } : { kind: 'ioError', detail };
  }

  private installSnapshot(snapshot: Snapshot): void {
    void this.state.put(SNAPSHOT_KEY, encodeSnapshot(snapshot));
    this.removeRange(this.first, this.last);
    this.first = snapshot.metadata.index + 1;
    this.last = snapshot.metadata.index;
  }

  private append(entries: readonly Entry[]): void {
    const head = entries[0];
    if (head === undefined) return;
    const from = head.index;
    this.removeRange(Math.max(from, this.first), this.last);
    if (from < this.first) this.first = from;
    for (const entry of entries) void this.log.put(u64Key(entry.index), encodeEntry(entry));
    this.last = from + entries.length - 1;
  }

  private putHardState(hardState: HardState): void {
    void this.state.put(HARD_STATE_KEY, encodeHardState(hardState));
  }

  private removeRange(from: number, to: number): void {
    for (let i = from; i <= to; i++) void this.log.remove(u64Key(i));
  }
}
