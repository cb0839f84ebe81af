// The lessor's rules: minimum and maximum TTL, expiry decided only by the leader's
// clock, and a remaining TTL that survives a leader change through checkpoints.
import test from 'ava';
import { isEtcdError } from '../../core/errors.js';
import { Lessor, minLeaseTtlSeconds } from '../../core/lease/lessor.js';

test('the minimum TTL is 1.5 election timeouts (2 s with etcd defaults); too large is refused', (t) => {
  t.is(minLeaseTtlSeconds(1000), 2);
  const lessor = new Lessor({ minTtlSeconds: 2 });
  const lease = lessor.grant(1, 1, 0);
  t.true(!isEtcdError(lease) && lease.ttlSeconds === 2);
  const big = lessor.grant(2, 9_000_000_001, 0);
  t.true(isEtcdError(big) && big.message === 'etcdserver: too large lease TTL');
  const dup = lessor.grant(1, 10, 0);
  t.true(isEtcdError(dup) && dup.message === 'etcdserver: lease already exists');
});

test('only the leader expires leases, from its own clock', (t) => {
  const lessor = new Lessor({ minTtlSeconds: 2 });
  lessor.grant(5, 10, 0);
  t.deepEqual(lessor.expired(1_000_000), [], 'a follower never expires anything');
  lessor.promote(1000);
  t.deepEqual(lessor.expired(10_999), []);
  t.deepEqual(lessor.expired(11_000), [5]);
});

test('a renewal pushes the deadline; unknown and expired leases renew to TTL 0', (t) => {
  const lessor = new Lessor({ minTtlSeconds: 2 });
  lessor.grant(5, 10, 0);
  lessor.promote(0);
  t.is(lessor.renew(5, 8000).ttlSeconds, 10);
  t.deepEqual(lessor.expired(17_999), []);
  t.is(lessor.renew(42, 0).ttlSeconds, 0);
  t.is(lessor.renew(5, 18_000).ttlSeconds, 0, 'past its deadline');
});

test('remaining TTL survives a leader change through a checkpoint (etcd 3.4 restarts it, #9395)', (t) => {
  const oldLeader = new Lessor({ minTtlSeconds: 2 });
  const newLeader = new Lessor({ minTtlSeconds: 2 });
  for (const l of [oldLeader, newLeader]) l.grant(9, 60, 0);
  oldLeader.promote(0);
  // 50 s later the old leader checkpoints 10 s remaining; the entry is applied everywhere.
  const [cp] = oldLeader.checkpoints(50_000);
  t.deepEqual(cp, { id: 9, remainingMs: 10_000 });
  for (const l of [oldLeader, newLeader]) l.checkpoint(9, cp?.remainingMs ?? 0);
  // The old leader dies; the new one takes over at its own time 100_000.
  newLeader.promote(100_000);
  t.is(newLeader.timeToLive(9, 100_000).ttlSeconds, 10, 'not 60');
  t.deepEqual(newLeader.expired(110_000), [9]);
});

test('a renewal after a checkpoint asks for a fresh one', (t) => {
  const lessor = new Lessor({ minTtlSeconds: 2 });
  lessor.grant(3, 30, 0);
  lessor.promote(0);
  t.false(lessor.renew(3, 1000).checkpointNeeded);
  lessor.checkpoint(3, 5000);
  t.true(lessor.renew(3, 2000).checkpointNeeded);
});

test('revoke returns the attached keys in order; time-to-live of an unknown lease is -1', (t) => {
  const lessor = new Lessor({ minTtlSeconds: 2 });
  lessor.grant(4, 10, 0);
  lessor.attach(4, 'b');
  lessor.attach(4, 'a');
  lessor.detach(4, 'b');
  lessor.attach(4, 'c');
  t.deepEqual(lessor.timeToLive(4, 0).keys, ['a', 'c']);
  t.deepEqual(lessor.revoke(4), ['a', 'c']);
  t.deepEqual(lessor.timeToLive(4, 0), { id: 4, ttlSeconds: -1, grantedTtlSeconds: 0, keys: [] });
  const again = lessor.revoke(4);
  t.true(isEtcdError(again) && again.message === 'etcdserver: requested lease not found');
});
