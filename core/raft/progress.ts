// What the leader knows about one follower's log, and how it replicates to it.
// (etcd's tracker.Progress; its design.md has the state diagram.)
//
//   probe      — next is a guess; send one MsgApp per heartbeat and wait for the answer.
//   replicate  — next is known; stream MsgApps optimistically, bounded by inflights.
//   snapshot   — the entries it needs are compacted; one MsgSnap is in flight,
//                appends pause until it is reported or an ack shows it arrived.
//
// Invariant: 0 ≤ match < next.

import { invariant } from '../util/invariant.js';
import { Inflights } from './inflights.js';

export type ProgressState = 'probe' | 'replicate' | 'snapshot';

export class Progress {
  /** The highest index known to be replicated on the follower (durably). */
  match: number;
  /** The next index to send. */
  next: number;
  state: ProgressState = 'probe';
  /** In the snapshot state: the index of the snapshot being sent. */
  pendingSnapshot = 0;
  /** Heard from within the current election timeout (check-quorum). */
  recentActive = false;
  /** In probe: an MsgApp was sent and no answer or heartbeat response came yet. */
  msgAppFlowPaused = false;
  readonly inflights: Inflights;
  isLearner: boolean;

  constructor(options: { match: number; next: number; maxInflightMsgs: number; isLearner: boolean }) {
    this.match = options.match;
    this.next = options.next;
    this.inflights = new Inflights(options.maxInflightMsgs);
    this.isLearner = options.isLearner;
    this.assertInvariant();
  }

  becomeProbe(): void {
    // After a snapshot, the follower has at least everything up to it.
    if (this.state === 'snapshot') {
      const pending = this.pendingSnapshot;
      this.resetState('probe');
      this.next = Math.max(this.match + 1, pending + 1);
    } else {
      this.resetState('probe');
      this.next = this.match + 1;
    }
    this.assertInvariant();
  }

  becomeReplicate(): void {
    this.resetState('replicate');
    this.next = this.match + 1;
    this.assertInvariant();
  }

  becomeSnapshot(snapshotIndex: number): void {
    invariant(snapshotIndex > 0, 'snapshot index 0');
    this.resetState('snapshot');
    this.pendingSnapshot = snapshotIndex;
  }

  /** The follower acknowledged up to `index`. Returns false for a stale ack. */
  maybeUpdate(index: number): boolean {
    let updated = false;
    if (this.match < index) {
      this.match = index;
      updated = true;
      this.msgAppFlowPaused = false;
    }
    this.next = Math.max(this.next, index + 1);
    this.assertInvariant();
    return updated;
  }

  /**
   * The follower rejected an MsgApp at `rejected`; `matchHint` is where its log may
   * match ours. Returns false if the rejection is stale (answers an older probe).
   */
  maybeDecrTo(rejected: number, matchHint: number): boolean {
    if (this.state === 'replicate') {
      // Rejections of indexes already matched are stale duplicates or reorders.
      if (rejected <= this.match) return false;
      this.next = this.match + 1;
      this.assertInvariant();
      return true;
    }
    // In probe, only the answer to the current probe (at next - 1) counts.
    if (this.next - 1 !== rejected) return false;
    this.next = Math.max(Math.min(rejected, matchHint + 1), this.match + 1);
    this.msgAppFlowPaused = false;
    this.assertInvariant();
    return true;
  }

  /** Whether sending MsgApp to this follower must wait. */
  isPaused(): boolean {
    switch (this.state) {
      case 'probe': return this.msgAppFlowPaused;
      case 'replicate': return this.inflights.full();
      case 'snapshot': return true;
    }
  }

  /** Records an MsgApp carrying `count` entries up to `lastIndex` (bytes in total). */
  sentEntries(count: number, lastIndex: number, bytes: number): void {
    if (this.state === 'replicate') {
      if (count > 0) {
        invariant(lastIndex >= this.next, () => `sent up to ${lastIndex} but next was ${this.next}`);
        this.next = lastIndex + 1;
        this.inflights.add(lastIndex, bytes);
      }
      this.msgAppFlowPaused = this.inflights.full();
    } else if (this.state === 'probe') {
      // One probe at a time: wait for its answer (or a heartbeat response).
      this.msgAppFlowPaused = true;
    } else {
      invariant(false, 'sentEntries in the snapshot state');
    }
    this.assertInvariant();
  }

  private resetState(state: ProgressState): void {
    this.msgAppFlowPaused = false;
    this.pendingSnapshot = 0;
    this.state = state;
    this.inflights.reset();
  }

  private assertInvariant(): void {
    invariant(this.match >= 0 && this.match < this.next, () => `progress invariant 0 ≤ match (${this.match}) < next (${this.next}) broken`);
  }
}
