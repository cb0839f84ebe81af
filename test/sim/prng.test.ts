import test from 'ava';
import { parseSeed, SimRandom } from '../../sim/prng.js';

test('one seed gives one sequence', (t) => {
  const a = new SimRandom(42);
  const b = new SimRandom(42);
  const c = new SimRandom(43);
  const drawsA = Array.from({ length: 1000 }, () => a.intBelow(1_000_000));
  const drawsB = Array.from({ length: 1000 }, () => b.intBelow(1_000_000));
  const drawsC = Array.from({ length: 1000 }, () => c.intBelow(1_000_000));
  t.deepEqual(drawsA, drawsB);
  t.notDeepEqual(drawsA, drawsC);
});

test('the generator is alea, fixed forever: seed 1 starts with these draws', (t) => {
  // Changing the generator changes every seed's run; this pin makes that visible.
  const random = new SimRandom(1);
  t.deepEqual(Array.from({ length: 5 }, () => random.intBelow(1000)), [526, 122, 477, 621, 165]);
});

test('intBelow stays in range and reaches every value', (t) => {
  const random = new SimRandom(7);
  const seen = new Set<number>();
  for (let i = 0; i < 10_000; i++) {
    const v = random.intBelow(10);
    t.true(v >= 0 && v < 10 && Number.isInteger(v));
    seen.add(v);
  }
  t.is(seen.size, 10);
  const big = random.intBelow(2 ** 40);
  t.true(big >= 0 && big < 2 ** 40);
  t.throws(() => random.intBelow(0));
  t.throws(() => random.intBelow(1.5));
});

test('helpers: float, chance, exponential, between, pick, shuffle', (t) => {
  const random = new SimRandom(3);
  for (let i = 0; i < 1000; i++) {
    const f = random.float();
    t.true(f >= 0 && f < 1);
    const b = random.between(-3, 3);
    t.true(b >= -3 && b <= 3);
  }
  t.false(random.chance(0));
  t.true(random.chance(1));
  t.is(random.exponential(0), 0);
  let sum = 0;
  for (let i = 0; i < 20_000; i++) sum += random.exponential(10);
  t.true(Math.abs(sum / 20_000 - 10) < 0.5, 'exponential mean near 10');
  t.is(random.pick(['only']), 'only');
  t.throws(() => random.pick([]));
  const items = [1, 2, 3, 4, 5, 6, 7, 8];
  const shuffled = random.shuffle(items);
  t.deepEqual([...shuffled].sort((x, y) => x - y), items);
  t.deepEqual(items, [1, 2, 3, 4, 5, 6, 7, 8], 'shuffle copies');
});

test('parseSeed accepts decimal integers and git hashes, nothing else', (t) => {
  t.is(parseSeed('0'), 0);
  t.is(parseSeed('123456'), 123456);
  t.is(parseSeed('9007199254740991'), Number.MAX_SAFE_INTEGER);
  t.is(parseSeed('9007199254740992'), null);
  t.is(parseSeed('-1'), null);
  t.is(parseSeed('1.5'), null);
  t.is(parseSeed('abc'), null);
  t.is(parseSeed(''), null);
  t.is(parseSeed('d4b7ee2a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e'), 0xd4b7ee2a0b1c2);
});
