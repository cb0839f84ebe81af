// The parts of the Wing & Gong search (jepsen-like/search/wgl.ts), one scenario
// each: the entry order (calls before returns on ties), the entry list's lift and
// unlift round trip, Lowe's memo cache (a hit, the Zobrist hash undone, growth,
// hash collisions), the symmetry twins, and a memo hit inside the search itself.

import test from 'ava';
import type { SearchOp, StateSpace } from '../../jepsen-like/search/wgl.js';
import { EntryList, entryOrder, MemoCache, previousTwins, searchLinearization } from '../../jepsen-like/search/wgl.js';

/** An op over a number state that leaves it as it is (only its timing matters here). */
const timed = (call: number, ret: number, symmetryClass?: number): SearchOp<number> => ({
  call,
  ret,
  definite: Number.isFinite(ret),
  step: (s) => s,
  ...(symmetryClass === undefined ? {} : { symmetryClass }),
});

const numbers: StateSpace<number> = { init: () => 0, equal: (a, b) => a === b, hash: (s) => s };

function walk(list: EntryList): number[] {
  const out: number[] = [];
  for (let e = list.first(); e !== -1; e = list.after(e)) out.push(e);
  return out;
}

test('entry order: by time, calls before returns at equal times, then by op', (t) => {
  // op 0 [0, 5], op 1 [5, 6] (called when op 0 returns: they overlap), op 2 [0, +Infinity].
  const order = entryOrder([timed(0, 5), timed(5, 6), timed(0, Infinity)]);
  t.deepEqual([...order], [0, 4, 2, 1, 3, 5]);
});

test('an entry list lift and unlift round trip: LIFO unlifting restores the list exactly', (t) => {
  const list = new EntryList(entryOrder([timed(0, 5), timed(5, 6), timed(0, Infinity)]));
  const whole = walk(list);
  list.liftOp(0);
  t.deepEqual(walk(list), [4, 2, 3, 5]);
  list.liftOp(4);
  t.deepEqual(walk(list), [2, 3], 'the last entry lifted too');
  list.unliftOp(4);
  t.deepEqual(walk(list), [4, 2, 3, 5]);
  list.unliftOp(0);
  t.deepEqual(walk(list), whole);
  // The back pointers came back too: the next lifts splice around the restored nodes.
  list.liftOp(2);
  t.deepEqual(walk(list), [0, 4, 1, 5]);
  list.liftOp(4);
  t.deepEqual(walk(list), [0, 1]);
});

test('an entry list lifts the first and the last op, and both come back', (t) => {
  const list = new EntryList(entryOrder([timed(0, 1), timed(2, 3)]));
  t.deepEqual(walk(list), [0, 1, 2, 3]);
  list.liftOp(2);
  t.deepEqual(walk(list), [0, 1]);
  t.is(list.after(1), -1);
  list.unliftOp(2);
  list.liftOp(0);
  t.deepEqual(walk(list), [2, 3]);
  list.unliftOp(0);
  t.deepEqual(walk(list), [0, 1, 2, 3]);
});

test('a memo hit: the same linearized set with the same state is remembered once', (t) => {
  const cache = new MemoCache(40, numbers);
  t.true(cache.remember(0));
  t.false(cache.remember(0), 'a hit');
  cache.toggle(3);
  t.true(cache.isLinearized(3));
  t.true(cache.remember(0), 'another set');
  cache.toggle(3);
  t.false(cache.isLinearized(3));
  t.false(cache.remember(0), 'toggling back undoes the Zobrist hash');
  cache.toggle(35);
  t.true(cache.isLinearized(35), 'a second bitset word');
  t.true(cache.remember(0));
  t.true(cache.remember(1), 'another state');
  t.is(cache.size, 4);
});

test('the memo cache keeps every entry as it grows, and tells colliding hashes apart', (t) => {
  const cache = new MemoCache(3, numbers);
  for (let s = 0; s < 1500; s++) t.true(cache.remember(s));
  t.is(cache.size, 1500);
  t.false(cache.remember(0));
  t.false(cache.remember(1499));
  const colliding = new MemoCache(3, { ...numbers, hash: () => 0 });
  t.true(colliding.remember(1));
  t.true(colliding.remember(2));
  t.false(colliding.remember(1));
  t.false(colliding.remember(2));
});

test('previous twins: each unknown op points at the previous op of its class by call, not by index', (t) => {
  const ops = [timed(2, Infinity, 7), timed(0, Infinity), timed(1, Infinity, 7), timed(3, Infinity, 7), timed(4, Infinity, 8)];
  t.deepEqual([...previousTwins(ops, entryOrder(ops))], [2, -1, -1, 0, -1]);
});

test('the search does not explore again a set and state it reached in another order', (t) => {
  // Two concurrent writes of 1, then a read of 2 that no order explains. W1 W2 and
  // W2 W1 reach the same (set, state): the read is stepped once, not twice.
  let readSteps = 0;
  const write = (call: number): SearchOp<number> => ({ call, ret: 10, definite: true, step: () => 1 });
  const readTwo: SearchOp<number> = {
    call: 20,
    ret: 21,
    definite: true,
    step: (s) => {
      readSteps++;
      return s === 2 ? s : undefined;
    },
  };
  const result = searchLinearization([write(0), write(0), readTwo], numbers, { deadline: Infinity, now: () => 0, maxCacheEntries: 1000 });
  t.is(result.verdict, 'illegal');
  t.is(readSteps, 1);
});

test('a search that runs out of memory or time on the way says unknown, never illegal', (t) => {
  // Eight concurrent writes of distinct values, then a read of a value none wrote:
  // illegal, but only after exploring many (set, state) pairs.
  const writes = Array.from({ length: 8 }, (_, i): SearchOp<number> => ({ call: 0, ret: 10, definite: true, step: () => i + 1 }));
  const readNine: SearchOp<number> = { call: 20, ret: 21, definite: true, step: (s) => (s === 9 ? s : undefined) };
  const ops = [...writes, readNine];
  t.is(searchLinearization(ops, numbers, { deadline: Infinity, now: () => 0, maxCacheEntries: 1e6 }).verdict, 'illegal');
  t.deepEqual(searchLinearization(ops, numbers, { deadline: Infinity, now: () => 0, maxCacheEntries: 10 }), { verdict: 'unknown', cause: 'memory' });
  let clock = 0;
  const ticking = (): number => clock++;
  t.deepEqual(searchLinearization(ops, numbers, { deadline: 1, now: ticking, maxCacheEntries: 1e6 }), { verdict: 'unknown', cause: 'timeout' });
});
