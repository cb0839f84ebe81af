// The leader's flow-control window towards one follower in the replicate state:
// one slot per MsgApp sent and not yet acknowledged, holding the last index it
// carried. A full window pauses replication to that follower (maxInflightMsgs).

import { invariant } from '../util/invariant.js';

export class Inflights {
  // A ring buffer over typed arrays (oldest at `start`), grown by doubling up to the
  // capacity: adding and freeing allocate nothing (a MsgApp is added per send).
  private lastIndexes = new Float64Array(INITIAL_SLOTS);
  private sizesBytes = new Float64Array(INITIAL_SLOTS);
  private start = 0;
  private used = 0;
  private bytes = 0;

  constructor(readonly capacity: number) {
    invariant(capacity >= 1, () => `inflight capacity ${capacity} < 1`);
  }

  count(): number {
    return this.used;
  }

  full(): boolean {
    return this.used >= this.capacity;
  }

  add(lastIndex: number, sizeBytes: number): void {
    invariant(!this.full(), 'cannot add into a full inflights window');
    const slots = this.lastIndexes.length;
    invariant(this.used === 0 || lastIndex > (this.lastIndexes[(this.start + this.used - 1) % slots] ?? 0),
      () => `inflight ${lastIndex} is not after the newest`);
    if (this.used === slots) this.grow();
    const at = (this.start + this.used) % this.lastIndexes.length;
    this.lastIndexes[at] = lastIndex;
    this.sizesBytes[at] = sizeBytes;
    this.used++;
    this.bytes += sizeBytes;
  }

  /** Frees every in-flight message whose last index is ≤ index (acknowledged). */
  freeLE(index: number): void {
    const slots = this.lastIndexes.length;
    while (this.used > 0 && (this.lastIndexes[this.start] ?? 0) <= index) {
      this.bytes -= this.sizesBytes[this.start] ?? 0;
      this.start = (this.start + 1) % slots;
      this.used--;
    }
    if (this.used === 0) this.start = 0;
  }

  /**
   * Frees the oldest in-flight message. Used when a heartbeat response shows the
   * follower is alive while the window is full: its MsgApps were probably lost, and
   * without a free slot the leader would never send it anything again.
   */
  freeFirstOne(): void {
    if (this.used > 0) this.freeLE(this.lastIndexes[this.start] ?? 0);
  }

  reset(): void {
    this.start = 0;
    this.used = 0;
    this.bytes = 0;
  }

  inflightBytes(): number {
    return this.bytes;
  }

  /** Doubles the ring (never past the capacity), unrolling it so that the oldest is first. */
  private grow(): void {
    const slots = Math.min(this.lastIndexes.length * 2, Math.max(this.capacity, 1));
    invariant(slots > this.used, 'inflights grew past its capacity');
    const lastIndexes = new Float64Array(slots);
    const sizesBytes = new Float64Array(slots);
    for (let i = 0; i < this.used; i++) {
      const from = (this.start + i) % this.lastIndexes.length;
      lastIndexes[i] = this.lastIndexes[from] ?? 0;
      sizesBytes[i] = this.sizesBytes[from] ?? 0;
    }
    this.lastIndexes = lastIndexes;
    this.sizesBytes = sizesBytes;
    this.start = 0;
  }
}

/** Slots a window starts with; most followers keep a handful of MsgApps in flight. */
const INITIAL_SLOTS = 8;
