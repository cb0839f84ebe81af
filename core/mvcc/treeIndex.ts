// The ordered index of keys → KeyIndex (etcd's treeIndex): the keys in order
// (sortedKeys.ts, chunks of at most 512) beside a Map for point lookups; range scans
// walk the chunks.

import { invariant } from '../util/invariant.js';
import { KeyIndex } from './keyIndex.js';
import type { Key, KeyRange } from './keys.js';
import { SortedKeys } from './sortedKeys.js';

export class TreeIndex {
  private readonly sortedKeys = new SortedKeys();
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
    this.sortedKeys.insert(key);
    return created;
  }

  remove(key: Key): void {
    if (!this.byKey.delete(key)) return;
    this.sortedKeys.remove(key);
  }

  /** Visits the keys in the range in ascending order; stop by returning false. */
  forEachInRange(range: KeyRange, visit: (key: Key, index: KeyIndex) => boolean): void {
    if (range.kind === 'single') {
      const index = this.byKey.get(range.key);
      if (index !== undefined) visit(range.key, index);
      return;
    }
    const to = range.to;
    this.sortedKeys.forEachFrom(range.from, (key) => {
      if (to !== null && key >= to) return false;
      const index = this.byKey.get(key);
      invariant(index !== undefined, 'tree index: sorted key without an index');
      return visit(key, index);
    });
  }

  size(): number {
    return this.sortedKeys.size;
  }
}
