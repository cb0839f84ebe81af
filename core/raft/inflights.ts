// The leader's flow-control window towards one follower in the replicate state:
// one slot per MsgApp sent and not yet acknowledged, holding the last index it
// carried. A full window pauses replication to that follower (maxInflightMsgs).

import { invariant } from '../util/invariant.js';

export class Inflights {
  /** Last index of each in-flight MsgApp, oldest first; strictly increasing. */
  private readonly lastIndexes: number[] = [];
  private readonly sizesBytes: number[] = [];
  private start = 0;
  private bytes = 0;

  constructor(readonly capacity: number) {
    invariant(capacity >= 1, () => `inflight capacity ${capacity} < 1`);
  }

  count(): number {
    return this.lastIndexes.length - this.start;
  }

  full(): boolean {
    return this.count() >= this.capacity;
  }

  add(lastIndex: number, sizeBytes: number): void {
    invariant(!this.full(), 'cannot add into a full inflights window');
    const newest = this.lastIndexes[this.lastIndexes.length - 1];
    invariant(this.count() === 0 || newest === undefined || lastIndex > newest,
      () => `inflight ${lastIndex} is not after the newest ${String(newest)}`);
    this.lastIndexes.push(lastIndex);
    this.sizesBytes.push(sizeBytes);
    this.bytes += sizeBytes;
  }

  /** Frees every in-flight message whose last index is ≤ index (acknowledged). */
  freeLE(index: number): void {
    while (this.start < this.lastIndexes.length) {
      const oldest = this.lastIndexes[this.start];
      invariant(oldest !== undefined, 'inflights hole');
      if (oldest > index) break;
      this.bytes -= this.sizesBytes[this.start] ?? 0;
      this.start++;
    }
    // Compact the arrays once the freed prefix dominates, keeping add/free O(1) amortized.
    if (this.start > 64 && this.start * 2 > this.lastIndexes.length) {
      this.lastIndexes.splice(0, this.start);
      this.sizesBytes.splice(0, this.start);
      this.start = 0;
    }
  }

  /**
   * Frees the oldest in-flight message. Used when a heartbeat response shows the
   * follower is alive while the window is full: its MsgApps were probably lost, and
   * without a free slot the leader would never send it anything again.
   */
  freeFirstOne(): void {
    const oldest = this.lastIndexes[this.start];
    if (oldest !== undefined) this.freeLE(oldest);
  }

  reset(): void {
    this.lastIndexes.length = 0;
    this.sizesBytes.length = 0;
    this.start = 0;
    this.bytes = 0;
  }

  inflightBytes(): number {
    return this.bytes;
  }
}
