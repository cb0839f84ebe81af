// etcd's "unhealthy cluster" refusal: a removal must leave a quorum of voters that have
// been connected for the health interval (core/membership/removalHealth.ts).
import test from 'ava';
import { HEALTH_INTERVAL_MS, removalKeepsConnectedQuorum, type ConnectedView } from '../../core/membership/removalHealth.js';

const NOW = 100_000;
const LONG_AGO = NOW - HEALTH_INTERVAL_MS - 1;

function view(voters: readonly bigint[], up: ReadonlyMap<bigint, number>): ConnectedView {
  return { self: 1n, voters, activeSinceMs: (id) => up.get(id) ?? null, nowMs: NOW };
}

test('three voters all connected: any one may go', (t) => {
  const v = view([1n, 2n, 3n], new Map([[2n, LONG_AGO], [3n, LONG_AGO]]));
  for (const id of [1n, 2n, 3n]) t.true(removalKeepsConnectedQuorum(v, id), id.toString());
});

test('three voters, one down: the down one may go, a live one may not', (t) => {
  const v = view([1n, 2n, 3n], new Map([[2n, LONG_AGO]]));
  t.true(removalKeepsConnectedQuorum(v, 3n), 'a member that is down is not part of the active quorum');
  t.false(removalKeepsConnectedQuorum(v, 2n), 'leaves this member alone with a dead one');
  t.false(removalKeepsConnectedQuorum(v, 1n));
});

test('a peer connected only just now does not count yet', (t) => {
  const v = view([1n, 2n, 3n], new Map([[2n, LONG_AGO], [3n, NOW - 10]]));
  t.false(removalKeepsConnectedQuorum(v, 2n), 'member 3 has been up for 10 ms, not the health interval');
  t.true(removalKeepsConnectedQuorum(view([1n, 2n, 3n], new Map([[2n, LONG_AGO], [3n, NOW - HEALTH_INTERVAL_MS]])), 2n), 'exactly the interval counts');
});

test('five voters, two down: one more live removal is refused, a down one is not', (t) => {
  const v = view([1n, 2n, 3n, 4n, 5n], new Map([[2n, LONG_AGO], [3n, LONG_AGO]]));
  t.false(removalKeepsConnectedQuorum(v, 2n), '3 connected of 5; after removing one, 2 of the remaining 4 is below quorum 3');
  t.true(removalKeepsConnectedQuorum(v, 4n));
  t.throws(() => removalKeepsConnectedQuorum(v, 9n));
});
