// An in-memory implementation of the Storage read port, plus the write side the
// driver uses after each Ready is durable (etcd's MemoryStorage).
//
// entries[0] is a dummy holding the index and term of the last compacted entry
// (the snapshot's), so term(firstIndex - 1) is always answerable.

import { invariant } from '../util/invariant.js';
import type { ConfState, Entry, HardState, Snapshot, Storage, StorageError } from './types.js';
import { EMPTY_HARD_STATE, entrySizeBytes } from './types.js';

const EMPTY_DATA = new Uint8Array(0);

export class MemoryStorage implements Storage {
  private hardState: HardState = EMPTY_HARD_STATE;
  private snap: Snapshot;
  private entriesWithDummy: Entry[];

  constructor(confState: ConfState = { voters: [], learners: [] }) {
    this.snap = { metadata: { index: 0, term: 0, confState }, data: EMPTY_DATA };
    this.entriesWithDummy = [{ term: 0, index: 0, type: 'normal', data: EMPTY_DATA }];
  }

  initialState(): { hardState: HardState; confState: ConfState } {
    return { hardState: this.hardState, confState: this.snap.metadata.confState };
  }

  firstIndex(): number {
    return this.dummy().index + 1;
  }

  lastIndex(): number {
    return this.dummy().index + this.entriesWithDummy.length - 1;
  }

  term(index: number): number | StorageError {
    const offset = this.dummy().index;
    if (index < offset) return 'compacted';
    const entry = this.entriesWithDummy[index - offset];
    if (entry === undefined) return 'unavailable';
    return entry.term;
  }

  entry(index: number): Entry | StorageError {
    const offset = this.dummy().index;
    if (index <= offset) return 'compacted';
    return this.entriesWithDummy[index - offset] ?? 'unavailable';
  }

  entries(lo: number, hi: number, maxSizeBytes: number): readonly Entry[] | StorageError {
    const offset = this.dummy().index;
    if (lo <= offset) return 'compacted';
    if (hi > this.lastIndex() + 1) return 'unavailable';
    invariant(lo <= hi, () => `entries(${lo}, ${hi}): lo > hi`);
    return sliceWithinSize(this.entriesWithDummy, lo - offset, hi - offset, maxSizeBytes);
  }

  snapshot(): Snapshot {
    return this.snap;
  }

  // --- the write side, used by the driver once a Ready is durable ---

  setHardState(hardState: HardState): void {
    this.hardState = hardState;
  }

  /** Replaces the whole log with a snapshot received from the leader. */
  applySnapshot(snapshot: Snapshot): void {
    invariant(snapshot.metadata.index >= this.snap.metadata.index,
      () => `applySnapshot: snapshot ${snapshot.metadata.index} is older than ${this.snap.metadata.index}`);
    this.snap = snapshot;
    this.entriesWithDummy = [{ term: snapshot.metadata.term, index: snapshot.metadata.index, type: 'normal', data: EMPTY_DATA }];
  }

  /** Records a snapshot the application made at `index` (≤ applied), without compacting. */
  createSnapshot(index: number, confState: ConfState, data: Uint8Array): Snapshot {
    invariant(index > this.snap.metadata.index, () => `createSnapshot(${index}) is not newer than ${this.snap.metadata.index}`);
    invariant(index <= this.lastIndex(), () => `createSnapshot(${index}) beyond last index ${this.lastIndex()}`);
    const term = this.term(index);
    invariant(typeof term === 'number', () => `createSnapshot(${index}): term ${String(term)}`);
    this.snap = { metadata: { index, term, confState }, data };
    return this.snap;
  }

  /** Discards entries ≤ index. They must be covered by a snapshot already. */
  compact(index: number): void {
    const offset = this.dummy().index;
    if (index <= offset) return;
    invariant(index <= this.lastIndex(), () => `compact(${index}) beyond last index ${this.lastIndex()}`);
    const kept = this.entriesWithDummy.slice(index - offset);
    const first = kept[0];
    invariant(first !== undefined, 'compact kept no dummy');
    kept[0] = { term: first.term, index: first.index, type: 'normal', data: EMPTY_DATA };
    this.entriesWithDummy = kept;
  }

  /** Appends entries; writing index i discards everything stored at ≥ i. */
  append(entries: readonly Entry[]): void {
    const first = entries[0];
    if (first === undefined) return;
    const firstStored = this.firstIndex();
    const last = first.index + entries.length - 1;
    if (last < firstStored) return; // all already compacted
    const fresh = first.index < firstStored ? entries.slice(firstStored - first.index) : entries;
    const freshFirst = fresh[0];
    invariant(freshFirst !== undefined, 'append: nothing fresh');
    const offset = freshFirst.index - this.dummy().index;
    invariant(offset <= this.entriesWithDummy.length,
      () => `append: missing log entry [last ${this.lastIndex()}, append at ${freshFirst.index}]`);
    this.entriesWithDummy.length = offset;
    this.entriesWithDummy.push(...fresh);
  }

  private dummy(): Entry {
    const dummy = this.entriesWithDummy[0];
    invariant(dummy !== undefined, 'storage lost its dummy entry');
    return dummy;
  }
}

/**
 * entries[from, to), at most maxSizeBytes but at least one entry, copying only what is
 * kept: a follower far behind is asked for thousands of entries and sent a few (the
 * simulator's leaders copied 51 entries for each one they sent before this).
 */
export function sliceWithinSize(entries: readonly Entry[], from: number, to: number, maxSizeBytes: number): Entry[] {
  return entries.slice(from, cutWithinSize(entries, from, to, maxSizeBytes, 0));
}

/**
 * Where a prefix of entries[from, to) ends so that, after entries of `spentBytes` already
 * chosen before it (0 bytes: none), the whole stays within maxSizeBytes, but holds at
 * least one entry. Positional arguments: this runs for every append sent.
 */
export function cutWithinSize(entries: readonly Entry[], from: number, to: number, maxSizeBytes: number, spentBytes: number): number {
  if (maxSizeBytes === Number.POSITIVE_INFINITY) return to;
  let size = spentBytes;
  for (let i = from; i < to; i++) {
    const entry = entries[i];
    invariant(entry !== undefined, 'cutWithinSize hole');
    // The first entry overall is kept whatever its size (an entry's size is never 0).
    if (size > 0 && size + entrySizeBytes(entry) > maxSizeBytes) return i;
    size += entrySizeBytes(entry);
  }
  return to;
}
