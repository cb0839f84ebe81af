import test from 'ava';
import { appliedTexts, Network } from './harness.js';

test('three nodes elect a leader and replicate proposals', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  t.deepEqual(net.leaders(), [1]);
  t.true(net.propose(1, 'a'));
  t.true(net.propose(2, 'b')); // forwarded by a follower
  net.stabilize();
  for (const id of [1, 2, 3]) t.deepEqual(appliedTexts(net.get(id)), ['a', 'b']);
});
