// The ordered index of keys → KeyIndex (etcd's treeIndex). A sorted array of keys
// with binary search, beside a Map for point lookups: range scans walk the array.
// Insertion is O(n) in the number of keys, which is fine at the sizes the simulator
// and tests run; a B-tree can replace it behind the same methods.

import { invariant } from '../util/invariant.js';
import { KeyIndex } from './keyIndex.js';
import type { Key, KeyRange } from './keys.js';

export class TreeIndex {
  private readonly sortedKeys: Key[] = [];
  private readonly byKey = new Map<Key, KeyIndex>();

  get(key: Key): KeyIndex | undefined {
    return this.byKey.get(key);
  }

  /** The key's index, created if absent. */
  getOrCreate(key: Key): KeyIndex {
    const existing = this.byKey.get(key);
    if (existing !== undefined) return existing;
    const created = new KeyIndex();
    this.byKey.set(key, created);
    this.sortedKeys.splice(this.lowerBound(key), 0, key);
    return created;
  }

  remove(key: Key): void {
    if (!this.byKey.delete(key)) return;
    const at = this.lowerBound(key);
    invariant(this.sortedKeys[at] === key, () => 'tree index: key missing from the sorted array');
    this.sortedKeys.splice(at, 1);
  }

  /** Visits the keys in the range in ascending order; stop by returning false. */
  forEachInRange(range: KeyRange, visit: (key: Key, index: KeyIndex) => boolean): void {
    if (range.kind === 'single') {
      const index = this.byKey.get(range.key);
      if (index !== undefined) visit(range.key, index);
      return;
    }
    for (let i = this.lowerBound(range.from); i < this.sortedKeys.length; i++) {
      const key = this.sortedKeys[i];
      invariant(key !== undefined, 'tree index hole');
      if (range.to !== null && key >= range.to) return;
      const index = this.byKey.get(key);
      invariant(index !== undefined, 'tree index: sorted key without an index');
      if (!visit(key, index)) return;
    }
  }

  size(): number {
    return this.sortedKeys.length;
  }

  /** The first position whose key is ≥ key. */
  private lowerBound(key: Key): number {
    let lo = 0;
    let hi = this.sortedKeys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.sortedKeys[mid] ?? '') < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
