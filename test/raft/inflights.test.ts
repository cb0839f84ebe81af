// The leader's flow-control window: a ring that wraps and grows, freed from the oldest.

import test from 'ava';
import { Inflights } from '../../core/raft/inflights.js';

test('a window fills to its capacity, and acknowledgements free it from the oldest', (t) => {
  const window = new Inflights(20);
  for (let i = 1; i <= 20; i++) window.add(i * 10, i);
  t.true(window.full());
  t.is(window.inflightBytes(), 210);
  window.freeLE(55); // frees 10..50
  t.is(window.count(), 15);
  t.false(window.full());
  t.is(window.inflightBytes(), 210 - 15);
  t.throws(() => { window.add(150, 1); }, { message: /not after the newest/ });
});

test('the ring wraps around many times and keeps order and byte counts', (t) => {
  const window = new Inflights(5);
  let next = 1;
  let expectedBytes = 0;
  for (let round = 0; round < 100; round++) {
    while (!window.full()) {
      window.add(next, next % 7);
      expectedBytes += next % 7;
      next++;
    }
    // Free the two oldest: they are next-5 and next-4.
    window.freeLE(next - 4);
    expectedBytes -= ((next - 5) % 7) + ((next - 4) % 7);
    t.is(window.count(), 3);
    t.is(window.inflightBytes(), expectedBytes);
  }
});

test('freeFirstOne frees exactly the oldest, and reset empties the window', (t) => {
  const window = new Inflights(64);
  for (let i = 1; i <= 40; i++) window.add(i, 1); // grows past its first slots
  window.freeFirstOne();
  t.is(window.count(), 39);
  window.freeLE(39);
  t.is(window.count(), 1);
  window.reset();
  t.is(window.count(), 0);
  t.is(window.inflightBytes(), 0);
  window.add(1, 1); // after a reset the order starts afresh
  t.is(window.count(), 1);
});
