// A keep-alive reaching a member that has just become leader, before its next tick has
// promoted its lessor, is served (the lessor is promoted on the spot) instead of
// tripping the lessor's primary-only invariant. Found by `npm run sim -- --seed 19 --nodes 5`.
import test from 'ava';
import { isEtcdError } from '../../core/errors.js';
import { ServerCluster } from './cluster.js';

test('a keep-alive between winning an election and the next tick is served', (t) => {
  const c = new ServerCluster([1, 2, 3]);
  // elect() stops as soon as a member is leader: it won during message delivery, after its tick.
  const leader = c.elect();
  let first: unknown;
  t.notThrows(() => { leader.leaseKeepAlive({ id: 5n }, (r) => { first = r; }); });
  t.false(isEtcdError(first), isEtcdError(first) ? first.message : '');
  t.like(first, { id: 5n, ttlSeconds: 0 }, 'an unknown lease renews to TTL 0');
  const follower = [...c.servers.values()].find((s) => s !== leader);
  let refused: unknown;
  follower?.leaseKeepAlive({ id: 5n }, (r) => { refused = r; });
  t.true(isEtcdError(refused) && refused.name === 'notLeader', 'a follower does not renew');
});
