// The Raft log as the state machine sees it: the durable part (Storage) followed by
// the part not yet durable (Unstable), with the commit and apply cursors.
//
//   snapshot/first.....applied....committed....stable last....unstable last
//   |<----------- Storage ------------------------->|<--- Unstable ---->|
//
// Invariants: applied ≤ committed ≤ lastIndex; firstIndex - 1 ≤ applied.

import { invariant } from '../util/invariant.js';
import type { PlantedBugs } from './plantedBugs.js';
import { entrySizeBytes, type Entry, type Snapshot, type Storage } from './types.js';
import { Unstable } from './unstable.js';

export class RaftLog {
  readonly storage: Storage;
  readonly unstable: Unstable;
  committed: number;
  applied: number;
  private readonly bugs: PlantedBugs;

  constructor(storage: Storage, bugs: PlantedBugs) {
    this.storage = storage;
    this.bugs = bugs;
    const first = storage.firstIndex();
    const last = storage.lastIndex();
    this.unstable = new Unstable(last + 1);
    // Everything up to the snapshot is committed and applied by definition.
    this.committed = first - 1;
    this.applied = first - 1;
  }

  firstIndex(): number {
    return this.unstable.maybeFirstIndex() ?? this.storage.firstIndex();
  }

  lastIndex(): number {
    return this.unstable.maybeLastIndex() ?? this.storage.lastIndex();
  }

  lastTerm(): number {
    const term = this.term(this.lastIndex());
    invariant(term !== null, () => `the last entry ${this.lastIndex()} has no term`);
    return term;
  }

  /**
   * The term of entry `index`, or null when it is compacted or beyond the log.
   * Valid range: [firstIndex - 1, lastIndex].
   */
  term(index: number): number | null {
    if (index < this.firstIndex() - 1 || index > this.lastIndex()) return null;
    const fromUnstable = this.unstable.maybeTerm(index);
    if (fromUnstable !== null) return fromUnstable;
    const stored = this.storage.term(index);
    if (typeof stored === 'number') return stored;
    invariant(stored === 'compacted', () => `storage.term(${index}) unavailable inside [first-1, last]`);
    return null;
  }

  /**
   * Entry `index` itself, or undefined outside [firstIndex, lastIndex]: a look at one
   * entry that copies no range (checkers read the log after every event).
   */
  entryAt(index: number): Entry | undefined {
    const unstable = this.unstable;
    if (index >= unstable.offset) return unstable.entries[index - unstable.offset];
    // Below the unstable entries: storage's, unless compacted (or replaced by an unstable snapshot).
    if (unstable.snapshot !== null) return undefined;
    const stored = this.storage.entry(index);
    return typeof stored === 'string' ? undefined : stored;
  }

  matchTerm(index: number, term: number): boolean {
    return this.term(index) === term;
  }

  /**
   * A follower appends the leader's entries that follow (index, logTerm), if its own
   * log has that entry. Returns the index of the last new entry and, if conflicting
   * entries were discarded, the index from which they were; null on a mismatch.
   */
  maybeAppend(
    index: number, logTerm: number, leaderCommit: number, entries: readonly Entry[],
  ): { lastNew: number; truncatedFrom: number | null } | null {
    if (!this.matchTerm(index, logTerm)) return null;
    const lastBefore = this.lastIndex();
    let truncatedFrom: number | null = null;
    const lastNew = index + entries.length;
    const conflict = this.bugs.appendWithoutTruncate === true
      ? this.firstBeyondLog(entries)
      : this.findConflict(entries);
    if (conflict !== 0) {
      invariant(conflict > this.committed, () => `entry ${conflict} conflicts with committed entry (committed ${this.committed})`);
      const from = entries[conflict - index - 1];
      invariant(from !== undefined && from.index === conflict, 'conflict index outside the appended entries');
      if (conflict <= lastBefore) truncatedFrom = conflict;
      this.append(entries.slice(conflict - index - 1));
    }
    this.commitTo(Math.min(leaderCommit, lastNew));
    return { lastNew, truncatedFrom };
  }

  /** Appends entries after `entries[0].index - 1`, replacing any suffix from there on. */
  append(entries: readonly Entry[]): number {
    const first = entries[0];
    if (first === undefined) return this.lastIndex();
    invariant(first.index - 1 >= this.committed,
      () => `append after ${first.index - 1} would overwrite committed entries (committed ${this.committed})`);
    invariant(first.index <= this.lastIndex() + 1, () => `append at ${first.index} leaves a gap after ${this.lastIndex()}`);
    this.unstable.truncateAndAppend(entries);
    return this.lastIndex();
  }

  /**
   * The index of the first entry whose term differs from ours, or which we lack;
   * 0 if every entry is already in the log. An entry that exists with another term
   * is a conflict: it and everything after it must go (Raft §5.3).
   */
  findConflict(entries: readonly Entry[]): number {
    for (const entry of entries) {
      if (!this.matchTerm(entry.index, entry.term)) return entry.index;
    }
    return 0;
  }

  /** Planted bug: keep conflicting entries, only add those beyond our last index. */
  private firstBeyondLog(entries: readonly Entry[]): number {
    const last = this.lastIndex();
    for (const entry of entries) {
      if (entry.index > last) return entry.index;
    }
    return 0;
  }

  /**
   * The largest index ≤ `index` whose term is ≤ `term`, with that term. The leader uses
   * it to skip a whole term of a follower's divergent log per round trip instead of
   * one entry (the "fast backtracking" of thesis §5.3 / etcd's findConflictByTerm):
   *
   *   leader   idx 1 2 3 4 5 6      follower idx 1 2 3 4 5 6 7
   *            term1 1 1 4 4 5               term1 1 1 2 2 2 3
   *   the follower rejects MsgApp(index 6, logTerm 5) with hint (6, 3)... the leader
   *   then looks for the last entry with term ≤ 3 in its own log: index 3 (term 1),
   *   and probes there next, skipping indexes 4–5.
   */
  findConflictByTerm(index: number, term: number): { index: number; term: number } {
    for (let i = index; i >= this.firstIndex() - 1; i--) {
      const t = this.term(i);
      if (t === null) return { index: i, term: 0 };
      if (t <= term) return { index: i, term: t };
    }
    return { index: 0, term: 0 };
  }

  /** True when (lastIndex, lastTerm) of a candidate is at least as up to date as ours (§5.4.1). */
  isUpToDate(lastIndex: number, lastTerm: number): boolean {
    const ourTerm = this.lastTerm();
    return lastTerm > ourTerm || (lastTerm === ourTerm && lastIndex >= this.lastIndex());
  }

  commitTo(index: number): void {
    if (index <= this.committed) return; // never decrease
    invariant(index <= this.lastIndex(), () => `commitTo(${index}) beyond last index ${this.lastIndex()}; was the log truncated or lost?`);
    this.committed = index;
  }

  /**
   * The leader's commit rule (§5.4.2, Figure 8): an index replicated on a quorum is
   * committed only if its entry has the leader's current term. Entries of older terms
   * are committed indirectly, when a current-term entry after them is.
   */
  maybeCommit(quorumIndex: number, currentTerm: number): boolean {
    if (quorumIndex <= this.committed) return false;
    const countsOldTerms = this.bugs.commitOldTermByCounting === true;
    if (!countsOldTerms && this.term(quorumIndex) !== currentTerm) return false;
    this.commitTo(quorumIndex);
    return true;
  }

  appliedTo(index: number): void {
    if (index === 0) return;
    invariant(index <= this.committed, () => `appliedTo(${index}) beyond committed ${this.committed}`);
    invariant(index >= this.applied, () => `appliedTo(${index}) goes back from ${this.applied}`);
    this.applied = index;
  }

  stableTo(index: number, term: number): void {
    this.unstable.stableTo(index, term);
  }

  stableSnapTo(index: number): void {
    this.unstable.stableSnapTo(index);
  }

  /** Entries not yet handed for persisting. */
  unstableEntries(): readonly Entry[] {
    return this.unstable.entries;
  }

  hasNextCommittedEntries(): boolean {
    return this.committed > Math.max(this.applied, this.firstIndex() - 1);
  }

  /** Committed entries not yet applied, at most maxSizeBytes (but at least one). */
  nextCommittedEntries(maxSizeBytes: number): readonly Entry[] {
    const lo = Math.max(this.applied + 1, this.firstIndex());
    if (this.committed < lo) return [];
    return this.slice(lo, this.committed + 1, maxSizeBytes);
  }

  /** The snapshot to send a lagging follower (unstable if we just received one). */
  snapshot(): Snapshot | 'unavailable' {
    return this.unstable.snapshot ?? this.storage.snapshot();
  }

  /** Entries from `lo` on, at most maxSizeBytes; null if `lo` is compacted. */
  entriesFrom(lo: number, maxSizeBytes: number): readonly Entry[] | null {
    if (lo > this.lastIndex()) return [];
    if (lo < this.firstIndex()) return null;
    return this.slice(lo, this.lastIndex() + 1, maxSizeBytes);
  }

  /** Replaces the log with a snapshot (a follower far behind the leader). */
  restore(snapshot: Snapshot): void {
    invariant(snapshot.metadata.index > this.committed, 'restore of a snapshot that is not ahead of commit');
    this.committed = snapshot.metadata.index;
    this.unstable.restore(snapshot);
  }

  /** Entries [lo, hi) from storage and unstable together. */
  slice(lo: number, hi: number, maxSizeBytes: number): readonly Entry[] {
    invariant(lo >= this.firstIndex() && hi <= this.lastIndex() + 1 && lo <= hi,
      () => `slice(${lo}, ${hi}) outside [${this.firstIndex()}, ${this.lastIndex() + 1}]`);
    if (lo === hi) return [];
    const offset = this.unstable.offset;
    let stored: readonly Entry[] = [];
    let storedBytes = 0;
    if (lo < offset) {
      const fromStorage = this.storage.entries(lo, Math.min(hi, offset), maxSizeBytes);
      invariant(typeof fromStorage !== 'string', () => `storage.entries(${lo}, ${Math.min(hi, offset)}) failed`);
      // Storage returned fewer than asked because of the size limit, or all that was asked: done
      // (a readonly slice of its own, not copied again: this runs for every append sent).
      if (hi <= offset || fromStorage.length < offset - lo) return fromStorage;
      stored = fromStorage;
      if (maxSizeBytes !== Number.POSITIVE_INFINITY) for (const entry of stored) storedBytes += entrySizeBytes(entry);
    }
    // The unstable part gets what the stored part left of the budget: only that is copied.
    const fromUnstable = this.unstable.sliceWithinSize(Math.max(lo, offset), hi, maxSizeBytes, storedBytes);
    return stored.length > 0 ? stored.concat(fromUnstable) : fromUnstable;
  }

  /** Every entry held, stable and unstable (for checkers and printing). */
  allEntries(): readonly Entry[] {
    return this.slice(this.firstIndex(), this.lastIndex() + 1, Number.POSITIVE_INFINITY);
  }
}
