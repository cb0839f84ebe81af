// The keys of the tree index in order: a list of sorted chunks (a B+ tree one level
// deep). An insert or a remove moves at most CHUNK_MAX keys and a few chunk references,
// where one flat sorted array moved half the key space: at 100 k keys, a put of a new
// key spent more time in that splice than in the rest of its apply.

import { invariant } from '../util/invariant.js';
import type { Key } from './keys.js';

/** A chunk splits in two above this many keys. */
const CHUNK_MAX = 512;

export class SortedKeys {
  /** Non-empty chunks, each sorted, each chunk's keys below the next chunk's. */
  private readonly chunks: Key[][] = [];
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds a key that is not there yet (the caller's map says so). */
  insert(key: Key): void {
    if (this.chunks.length === 0) {
      this.chunks.push([key]);
      this.count++;
      return;
    }
    // The chunk whose last key is ≥ key, or the last chunk when key is above every key.
    const c = Math.min(this.chunkAtOrAfter(key), this.chunks.length - 1);
    const chunk = this.chunks[c] as Key[];
    const at = lowerBound(chunk, key);
    invariant(chunk[at] !== key, () => `sorted keys: ${key} inserted twice`);
    chunk.splice(at, 0, key);
    this.count++;
    if (chunk.length > CHUNK_MAX) this.chunks.splice(c + 1, 0, chunk.splice(chunk.length >>> 1));
  }

  /** Removes a key that is there. */
  remove(key: Key): void {
    const c = this.chunkAtOrAfter(key);
    const chunk = this.chunks[c];
    const at = chunk === undefined ? -1 : lowerBound(chunk, key);
    invariant(chunk !== undefined && chunk[at] === key, () => `sorted keys: ${key} is not there`);
    chunk.splice(at, 1);
    this.count--;
    if (chunk.length === 0) this.chunks.splice(c, 1);
  }

  /** Visits the keys ≥ from in ascending order until `visit` returns false. */
  forEachFrom(from: Key, visit: (key: Key) => boolean): void {
    const first = this.chunkAtOrAfter(from);
    for (let c = first; c < this.chunks.length; c++) {
      const chunk = this.chunks[c] as Key[];
      for (let i = c === first ? lowerBound(chunk, from) : 0; i < chunk.length; i++) {
        if (!visit(chunk[i] as Key)) return;
      }
    }
  }

  /** The first chunk whose last key is ≥ key (chunks.length when there is none). */
  private chunkAtOrAfter(key: Key): number {
    let lo = 0;
    let hi = this.chunks.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const chunk = this.chunks[mid] as Key[];
      if ((chunk[chunk.length - 1] as Key) < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** The first position in the sorted `keys` whose key is ≥ key. */
function lowerBound(keys: readonly Key[], key: Key): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as Key) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
