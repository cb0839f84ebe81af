// A keep-alive reaching a member that has just become leader, before its next tick has
// promoted its lessor, is refused as "not leader" (the client retries) instead of
// tripping the lessor's primary-only invariant. Found by `npm run sim -- --seed 19 --nodes 5`.
import test from 'ava';
import { isEtcdError } from '../../core/errors.js';
import { ServerCluster } from './cluster.js';

test('a keep-alive between winning an election and the next tick is refused, then served', (t) => {
  const c = new ServerCluster([1, 2, 3]);
  // elect() stops as soon as a member is leader: it won during message delivery, after its tick.
  const leader = c.elect();
  let first: unknown;
  t.notThrows(() => { leader.leaseKeepAlive({ id: 5 }, (r) => { first = r; }); });
  t.true(isEtcdError(first) && first.name === 'notLeader', JSON.stringify(first));
  c.run(1);
  let second: unknown;
  leader.leaseKeepAlive({ id: 5 }, (r) => { second = r; });
  t.false(isEtcdError(second), 'served once the lessor is promoted');
  t.like(second, { id: 5, ttlSeconds: 0 }, 'an unknown lease renews to TTL 0');
});
