// Serializable reads wait until a restarted member has applied again everything it may
// have applied before it stopped.
//
// The member's commit index reaches the disk with its next Raft write (storage/
// deferredWrites.ts), so after a crash the durable commit can be behind what it had
// applied and served: a serializable read answered at once would go back in time (a
// put this member had shown, or its leader had acknowledged, missing). etcd does not
// serve before its publish entry applies, which comes after all of those. Here the read
// waits until either
//   - an entry at or beyond the last index the log held at boot has applied (everything
//     the member had, it has applied again), or
//   - an entry of a term later than the boot term has applied: a leader of that term
//     holds every entry committed before it (Leader Completeness), ahead of its own, so
//     everything committed before the restart has applied.
// A read that waits past its deadline fails with `request timed out`, as one stuck on
// Raft does (a member cut off after a restart serves nothing stale, and nothing forever).

import type { EtcdError } from '../errors.js';
import { invariant } from '../util/invariant.js';

interface WaitingRead {
  readonly deadlineTick: number;
  readonly serve: () => void;
  readonly fail: (error: EtcdError) => void;
}

export interface BootLog {
  /** The log's last index when the member started. */
  readonly lastIndex: number;
  /** The member's term when it started (no entry in its log is of a later term). */
  readonly term: number;
  /** What it had applied again by the end of its start. */
  readonly applied: number;
}

export class CatchUp {
  private caughtUp: boolean;
  private readonly waiting: WaitingRead[] = [];

  constructor(private readonly boot: BootLog, private readonly limit: number) {
    invariant(limit >= 1, 'at least one read may wait for the catch-up');
    invariant(boot.applied <= boot.lastIndex, () => `applied ${boot.applied} beyond the log's end ${boot.lastIndex}`);
    this.caughtUp = boot.applied >= boot.lastIndex;
  }

  get done(): boolean {
    return this.caughtUp;
  }

  get size(): number {
    return this.waiting.length;
  }

  /** An entry applied: the catch-up may be over, and the waiting reads are served in order. */
  onApplied(index: number, term: number): void {
    if (this.caughtUp || (index < this.boot.lastIndex && term <= this.boot.term)) return;
    this.caughtUp = true;
    for (const read of this.waiting.splice(0)) read.serve();
  }

  /** Serves now if caught up; else holds the read until then (or refuses it when `limit` wait already). */
  whenCaughtUp(read: WaitingRead, full: EtcdError): void {
    if (this.caughtUp) {
      read.serve();
      return;
    }
    if (this.waiting.length >= this.limit) {
      read.fail(full);
      return;
    }
    this.waiting.push(read);
  }

  /** Reads past their deadline fail with `error`. */
  expire(tick: number, error: EtcdError): void {
    if (this.waiting.length === 0) return;
    const due = this.waiting.filter((r) => r.deadlineTick <= tick);
    if (due.length === 0) return;
    const rest = this.waiting.filter((r) => r.deadlineTick > tick);
    this.waiting.splice(0, this.waiting.length, ...rest);
    for (const read of due) read.fail(error);
  }
}
