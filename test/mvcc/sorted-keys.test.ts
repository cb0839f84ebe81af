// The tree index's ordered keys (core/mvcc/sortedKeys.ts) against a plain sorted array:
// any run of inserts and removes, over enough keys to split and empty many chunks,
// leaves the same keys in the same order, and a walk from any key starts where a binary
// search of the array would.
import test from 'ava';
import fc from 'fast-check';
import { SortedKeys } from '../../core/mvcc/sortedKeys.js';

type Step = { readonly insert: boolean; readonly key: string };

function walk(keys: SortedKeys, from: string, limit = Number.POSITIVE_INFINITY): string[] {
  const seen: string[] = [];
  keys.forEachFrom(from, (key) => { seen.push(key); return seen.length < limit; });
  return seen;
}

test('inserts and removes keep the keys as a sorted array does; walks start at the first key at or above', (t) => {
  // Keys from a small alphabet collide often (removes find them); many steps split chunks.
  const key = fc.stringMatching(/^[a-d]{0,6}$/);
  const step: fc.Arbitrary<Step> = fc.record({ insert: fc.boolean(), key });
  fc.assert(fc.property(fc.array(step, { maxLength: 3000 }), fc.array(key, { maxLength: 20 }), (steps, froms) => {
    const keys = new SortedKeys();
    const model = new Set<string>();
    for (const { insert, key: k } of steps) {
      if (insert && !model.has(k)) { keys.insert(k); model.add(k); }
      if (!insert && model.has(k)) { keys.remove(k); model.delete(k); }
    }
    const sorted = [...model].sort();
    t.is(keys.size, sorted.length);
    t.deepEqual(walk(keys, ''), sorted);
    for (const from of froms) t.deepEqual(walk(keys, from, 7), sorted.filter((k) => k >= from).slice(0, 7), `from ${JSON.stringify(from)}`);
  }), { numRuns: 60 });
});

test('100 000 keys in random order, then every other one removed: order and size hold at scale', (t) => {
  const keys = new SortedKeys();
  const all = Array.from({ length: 100_000 }, (_, i) => `key${String(i).padStart(6, '0')}`);
  // A fixed shuffle (an LCG), so the test is the same every run.
  let x = 12345;
  const shuffled = all.slice();
  for (let i = shuffled.length - 1; i > 0; i--) {
    x = (x * 1103515245 + 12345) % 2147483648;
    const j = x % (i + 1);
    [shuffled[i], shuffled[j]] = [shuffled[j] as string, shuffled[i] as string];
  }
  for (const k of shuffled) keys.insert(k);
  t.deepEqual(walk(keys, ''), all);
  for (let i = 0; i < all.length; i += 2) keys.remove(all[i] as string);
  t.is(keys.size, 50_000);
  t.deepEqual(walk(keys, 'key05'), all.filter((k, i) => i % 2 === 1 && k >= 'key05'));
});

test('inserting a key twice or removing an absent one is an invariant failure, not a silent duplicate', (t) => {
  const keys = new SortedKeys();
  keys.insert('a');
  t.throws(() => { keys.insert('a'); });
  t.throws(() => { keys.remove('b'); });
  t.is(keys.size, 1);
});
