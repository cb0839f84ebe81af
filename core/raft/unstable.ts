// The tail of the log that is not yet durable: entries (and possibly one snapshot)
// that a Ready has handed, or will hand, to the driver for persisting.
//
// Invariant: entries[i].index === offset + i; if a snapshot is present,
// offset === snapshot.metadata.index + 1.

import { invariant } from '../util/invariant.js';
import { cutWithinSize } from './memoryStorage.js';
import type { Entry, Snapshot } from './types.js';

export class Unstable {
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];
  /** The index of entries[0] (or where the next entry would go). */
  offset: number;

  constructor(offset: number) {
    invariant(offset >= 1, () => `unstable offset ${offset} < 1`);
    this.offset = offset;
  }

  /** The index of the first entry if only a snapshot is unstable. */
  maybeFirstIndex(): number | null {
    return this.snapshot === null ? null : this.snapshot.metadata.index + 1;
  }

  maybeLastIndex(): number | null {
    if (this.entries.length > 0) return this.offset + this.entries.length - 1;
    return this.snapshot === null ? null : this.snapshot.metadata.index;
  }

  maybeTerm(index: number): number | null {
    if (index < this.offset) {
      if (this.snapshot !== null && this.snapshot.metadata.index === index) return this.snapshot.metadata.term;
      return null;
    }
    const last = this.maybeLastIndex();
    if (last === null || index > last) return null;
    const entry = this.entries[index - this.offset];
    invariant(entry !== undefined && entry.index === index, () => `unstable entry ${index} missing`);
    return entry.term;
  }

  /**
   * Entries up to (index, term) are durable now. If the entry at `index` was replaced
   * by one of another term since the Ready was taken, the durable copy is stale and
   * nothing is released: the new entry still has to be written.
   */
  stableTo(index: number, term: number): void {
    const currentTerm = this.maybeTerm(index);
    if (currentTerm === null || currentTerm !== term || index < this.offset) return;
    this.entries = this.entries.slice(index + 1 - this.offset);
    this.offset = index + 1;
  }

  stableSnapTo(index: number): void {
    if (this.snapshot !== null && this.snapshot.metadata.index === index) this.snapshot = null;
  }

  restore(snapshot: Snapshot): void {
    this.offset = snapshot.metadata.index + 1;
    this.entries = [];
    this.snapshot = snapshot;
  }

  /**
   * Appends entries, first dropping any that conflict: writing index i replaces
   * everything at ≥ i (the Log Matching property depends on it).
   */
  truncateAndAppend(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const after = first.index - 1;
    if (after === this.offset + this.entries.length - 1) {
      // after is the last index: the common case, plain append.
      this.entries.push(...entries);
    } else if (after < this.offset) {
      // The log is being truncated to before our offset: replace the unstable
      // entries wholesale (the stable prefix is overwritten when these persist).
      this.offset = after + 1;
      this.entries = [...entries];
    } else {
      // Truncate to `after` and append.
      this.entries = this.entries.slice(0, after + 1 - this.offset);
      this.entries.push(...entries);
    }
    this.assertContiguous();
  }

  /** slice(lo, hi) cut to what fits in maxSizeBytes after `spentBytes` already taken (memoryStorage.cutWithinSize). */
  sliceWithinSize(lo: number, hi: number, maxSizeBytes: number, spentBytes: number): Entry[] {
    const cut = cutWithinSize(this.entries, lo - this.offset, hi - this.offset, maxSizeBytes, spentBytes);
    return this.slice(lo, cut + this.offset);
  }

  slice(lo: number, hi: number): Entry[] {
    invariant(lo >= this.offset && lo <= hi, () => `unstable.slice(${lo}, ${hi}) out of bounds (offset ${this.offset})`);
    invariant(hi <= this.offset + this.entries.length, () => `unstable.slice(${lo}, ${hi}) beyond ${this.offset + this.entries.length}`);
    return this.entries.slice(lo - this.offset, hi - this.offset);
  }

  private assertContiguous(): void {
    const first = this.entries[0];
    const last = this.entries[this.entries.length - 1];
    if (first === undefined || last === undefined) return;
    invariant(first.index === this.offset, () => `unstable entries start at ${first.index}, offset ${this.offset}`);
    invariant(last.index === this.offset + this.entries.length - 1, 'unstable entries are not contiguous');
  }
}
