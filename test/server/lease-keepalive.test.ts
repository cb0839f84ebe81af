// A keep-alive reaching a member that has just become leader, before its next tick has
// promoted its lessor, is served (the lessor is promoted on the spot) instead of
// tripping the lessor's primary-only invariant. Found by `npm run sim -- --seed 19 --nodes 5`.
// And a leader renews only once a ReadIndex round has confirmed it still leads (etcd
// 3.5's ensureLeadership): found by `npm run jepsen -- --workload lease --nemesis leader`,
// where a cut-off leader's renewal made the next leader end the lease early.
import test from 'ava';
import { isEtcdError } from '../../core/errors.js';
import type { EtcdServer } from '../../core/server/server.js';
import { ServerCluster } from './cluster.js';

/** Grants a lease on `leader` and runs until it is applied: its id, or null if the grant failed. */
function grant(c: ServerCluster, leader: EtcdServer, ttlSeconds: number): bigint | null {
  let granted: unknown;
  leader.leaseGrant({ id: 0n, ttlSeconds }, (r) => { granted = r; });
  c.run(2);
  return isEtcdError(granted) || granted === undefined ? null : (granted as { id: bigint }).id;
}

test('a keep-alive between winning an election and the next tick is served', (t) => {
  const c = new ServerCluster([1, 2, 3]);
  // elect() stops as soon as a member is leader: it won during message delivery, after its tick.
  const leader = c.elect();
  let first: unknown;
  t.notThrows(() => { leader.leaseKeepAlive({ id: 5n }, (r) => { first = r; }); });
  c.run(2); // the ReadIndex round that confirms the leadership
  t.false(isEtcdError(first), isEtcdError(first) ? first.message : '');
  t.like(first, { id: 5n, ttlSeconds: 0 }, 'an unknown lease renews to TTL 0');
  const follower = [...c.servers.values()].find((s) => s !== leader);
  let refused: unknown;
  follower?.leaseKeepAlive({ id: 5n }, (r) => { refused = r; });
  t.true(isEtcdError(refused) && refused.name === 'notLeader', 'a follower does not renew');
});

test('a leader cut off from its peers does not renew: the keep-alive fails instead of promising a TTL no one else will keep', (t) => {
  const c = new ServerCluster([1, 2, 3]);
  const leader = c.elect();
  const id = grant(c, leader, 5);
  if (id === null) return t.fail('the grant failed');
  let renewed: unknown;
  leader.leaseKeepAlive({ id }, (r) => { renewed = r; });
  c.run(2);
  t.like(renewed, { id, ttlSeconds: 5 }, 'a leader its peers still follow renews');

  c.isolated.add(leader.memberId);
  let cutOff: unknown;
  leader.leaseKeepAlive({ id }, (r) => { cutOff = r; });
  c.run(3); // well within the election timeout: it still thinks it leads
  t.is(leader.driver.status().role, 'leader');
  t.is(cutOff, undefined, 'no answer while its leadership is unconfirmed');
  c.run(80); // past check-quorum and the request timeout
  t.true(isEtcdError(cutOff), `the keep-alive fails (got ${JSON.stringify(cutOff, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v))})`);
});

test('a lease granted by a new leader before its first tick lives its TTL, not its TTL plus the promotion\'s extension', (t) => {
  const c = new ServerCluster([1, 2, 3]);
  const leader = c.elect(); // leader, and its lessor not yet promoted: no tick since it won
  let granted: unknown;
  leader.leaseGrant({ id: 0n, ttlSeconds: 3 }, (r) => { granted = r; });
  c.deliver(); // committed and applied before any tick
  if (isEtcdError(granted) || granted === undefined) return t.fail('the grant was not applied before a tick');
  const id = (granted as { id: bigint }).id;
  c.run(33); // 3.3 s: past the TTL and the revoke's round trip, well before TTL + the 1 s extension
  let ttl: unknown;
  leader.leaseTimeToLive({ id }, (r) => { ttl = r; });
  c.run(2);
  t.like(ttl, { ttlSeconds: -1 }, 'revoked on time (etcd\'s TestCtlV3LeaseTestTimeToLiveExpired)');
});

test('a keep-alive is answered only once its renewal is replicated: a leader that dies right after answering leaves the renewal behind', (t) => {
  // Found by `npm run jepsen -- --workload kv,watch,lease,lock --nemesis kill,pause,partition,leader --seed 4`:
  // the leader answered a keep-alive and was paused 45 ms later, before the renewal's
  // checkpoint committed; the next leader counted from the renewal before and the key went
  // 455 ms before the TTL the answer promised.
  const c = new ServerCluster([1, 2, 3]);
  const leader = c.elect();
  const id = grant(c, leader, 10);
  if (id === null) return t.fail('the grant failed');
  c.run(60); // 6 s of its 10 s gone
  let renewed: unknown;
  leader.leaseKeepAlive({ id }, (r) => { renewed = r; });
  for (let i = 0; i < 20 && renewed === undefined; i++) c.run(1);
  t.like(renewed, { id, ttlSeconds: 10 });
  // Dies the moment it answered: nothing more leaves it.
  c.crash(leader.memberId);
  const next = c.elect();
  let ttl: unknown;
  next.leaseTimeToLive({ id }, (r) => { ttl = r; });
  c.run(2);
  // The renewal is replicated: about 10 s from the answer, less the election (without it: 4 s less).
  const left = (ttl as { ttlSeconds?: number }).ttlSeconds ?? -1;
  t.true(left >= 7, `the new leader gives the lease ${left} s`);
});

test('a keep-alive answer held for its checkpoint fails when leadership is lost first', (t) => {
  const c = new ServerCluster([1, 2, 3]);
  const leader = c.elect();
  const id = grant(c, leader, 10);
  if (id === null) return t.fail('the grant failed');
  let answer: unknown;
  leader.leaseKeepAlive({ id }, (r) => { answer = r; });
  c.isolated.add(leader.memberId); // the ReadIndex round cannot complete, nor a checkpoint commit
  c.run(100);
  t.true(isEtcdError(answer), 'no TTL is promised');
});
