// RaftLog.slice under a size limit: whatever the split between the stable part (storage)
// and the unstable tail, it returns the longest prefix of [lo, hi) within maxSizeBytes,
// and never nothing (etcd-raft's limitSize). The slice is cut before it is copied, so the
// rule is checked here against a plain reference over the whole range.
import test from 'ava';
import fc from 'fast-check';
import { RaftLog } from '../../core/raft/log.js';
import { MemoryStorage } from '../../core/raft/memoryStorage.js';
import { entrySizeBytes, type Entry } from '../../core/raft/types.js';

function entry(index: number, bytes: number): Entry {
  return { index, term: 1, type: 'normal', data: new Uint8Array(bytes) };
}

/** The rule, written plainly: keep entries while the total stays within the limit, and at least one. */
function reference(entries: readonly Entry[], maxSizeBytes: number): number[] {
  const kept: number[] = [];
  let size = 0;
  for (const e of entries) {
    size += entrySizeBytes(e);
    if (kept.length > 0 && size > maxSizeBytes) break;
    kept.push(e.index);
  }
  return kept;
}

/** A log whose first `stable` entries are in storage and the rest unstable. */
function logOf(sizes: readonly number[], stable: number): RaftLog {
  const storage = new MemoryStorage({ voters: [1], learners: [] });
  const entries = sizes.map((bytes, i) => entry(i + 1, bytes));
  storage.append(entries.slice(0, stable));
  const log = new RaftLog(storage, {});
  log.append(entries.slice(stable));
  return log;
}

test('a size-limited slice keeps the longest prefix within the limit, across the stable and unstable parts', (t) => {
  fc.assert(fc.property(
    fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 30 }),
    fc.nat(), fc.nat(), fc.nat(), fc.integer({ min: 1, max: 400 }),
    (sizes, stableDraw, loDraw, spanDraw, maxSizeBytes) => {
      const log = logOf(sizes, stableDraw % (sizes.length + 1));
      const lo = 1 + (loDraw % sizes.length);
      const hi = lo + 1 + (spanDraw % (sizes.length + 1 - lo));
      const all = sizes.map((bytes, i) => entry(i + 1, bytes)).slice(lo - 1, hi - 1);
      t.deepEqual(log.slice(lo, hi, maxSizeBytes).map((e) => e.index), reference(all, maxSizeBytes));
      t.deepEqual(log.slice(lo, hi, Number.POSITIVE_INFINITY).map((e) => e.index), all.map((e) => e.index));
    },
  ), { numRuns: 500 });
});

test('an entry larger than the limit is still sent alone, and the one after it is not', (t) => {
  const log = logOf([100, 1, 1], 1);
  t.deepEqual(log.slice(1, 4, 50).map((e) => e.index), [1]);
  t.deepEqual(log.slice(2, 4, 50).map((e) => e.index), [2, 3], '17 + 17 bytes fit in 50');
  t.deepEqual(log.slice(2, 4, 34).map((e) => e.index), [2, 3], 'exactly the limit fits');
  t.deepEqual(log.slice(2, 4, 33).map((e) => e.index), [2]);
});

test('entryAt reads one entry from either part and nothing outside the log', (t) => {
  const log = logOf([1, 2, 3, 4], 2);
  t.deepEqual([1, 2, 3, 4].map((i) => log.entryAt(i)?.data.byteLength), [1, 2, 3, 4]);
  t.is(log.entryAt(0), undefined);
  t.is(log.entryAt(5), undefined);
});
