// Writes to an LMDB environment that need no sync of their own: the commit index (a
// hard state whose term and vote did not change) and the MVCC batches applied from
// committed entries. They wait here and ride in the next durable write's transaction
// (a Raft entry, a snapshot, a compaction), so a put costs one LMDB commit and one
// fdatasync instead of two. If no durable write comes, a timer commits them on their
// own (etcd's backend batch interval is 100 ms too).
//
// Why that is safe (docs/storage.md, "One sync per put"): every acknowledged write is a
// Raft entry that was synced before it was acknowledged, and everything deferred here
// can be rebuilt from the Raft log after a crash:
// - a lost commit index only makes the restarted member learn it again (from the
//   leader, or by committing an entry of its new term when it is the only voter);
// - a lost MVCC batch leaves the backend's applied index behind the log, and the
//   entries after it are applied again on restart (core/server/stateMachine.ts).
// What must hold is order and atomicity, not durability: the queue runs in the order
// it was filled, inside one transaction, and LMDB makes a transaction whole or absent
// and never keeps a later one without the earlier ones. The log store queues the
// commit index before the driver applies the entries it commits, so the durable
// backend never claims an applied index beyond the durable hard state's commit.

import type { CommitPromise, LmdbRoot } from './lmdbEnv.js';
import { describeError } from './lmdbEnv.js';

/** Told the commit promise of the transaction its write went into. */
export type OnCommit = (committed: CommitPromise) => void;

interface Deferred {
  /** Issues the write's asynchronous lmdb-js puts and removes (inside a batch callback). */
  readonly ops: () => void;
  readonly onCommit: OnCommit;
}

export interface DeferredWritesOptions {
  /** Commit what waits after this long without a durable write. Default 100 ms. */
  readonly flushAfterMs?: number;
  /** Commit at once when this many writes wait. Default 10000 (etcd's batch limit). */
  readonly maxQueued?: number;
}

export class DeferredWrites {
  private queued: Deferred[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly flushAfterMs: number;
  private readonly maxQueued: number;

  constructor(private readonly root: LmdbRoot, options: DeferredWritesOptions = {}) {
    this.flushAfterMs = options.flushAfterMs ?? 100;
    this.maxQueued = options.maxQueued ?? 10_000;
  }

  /** Queues a write for the next transaction. */
  add(ops: () => void, onCommit: OnCommit): void {
    this.queued.push({ ops, onCommit });
    if (this.queued.length >= this.maxQueued) {
      this.flush();
      return;
    }
    if (this.timer === null) {
      this.timer = setTimeout(() => { this.timer = null; this.flush(); }, this.flushAfterMs);
      // A member has timers of its own; a store left open must not keep a test alive.
      this.timer.unref();
    }
  }

  get size(): number {
    return this.queued.length;
  }

  /**
   * Issues every queued write. Call it only inside a `root.batch` callback, before the
   * caller's own ops, and hand the batch's promise to what it returns (`settle`).
   */
  drain(): readonly OnCommit[] {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const taken = this.queued;
    this.queued = [];
    for (const d of taken) d.ops();
    return taken.map((d) => d.onCommit);
  }

  /** Commits what is queued in a transaction of its own (the timer, the queue's limit, a close). */
  flush(): void {
    if (this.queued.length === 0) return;
    const taken: { hooks: readonly OnCommit[] } = { hooks: [] };
    let committed: CommitPromise;
    try {
      committed = this.root.batch(() => { taken.hooks = this.drain(); });
    } catch (error) {
      this.fail(taken.hooks, error);
      return;
    }
    settle(taken.hooks, committed);
  }

  /**
   * A transaction that the writes went into could not be issued: they fail, and so does
   * whatever still waits (the store is broken: its owners stop the member).
   */
  fail(drained: readonly OnCommit[], error: unknown): void {
    const rejected: CommitPromise = Promise.reject(new Error(describeError(error)));
    void rejected.then(undefined, () => undefined); // handled even when no write waits
    const rest = this.queued;
    this.queued = [];
    settle([...drained, ...rest.map((d) => d.onCommit)], rejected);
  }
}

/** Hands a transaction's promise to the writes that went into it. */
export function settle(hooks: readonly OnCommit[], committed: CommitPromise): void {
  for (const hook of hooks) hook(committed);
}
