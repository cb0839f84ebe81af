// The lessor's rules: minimum and maximum TTL, expiry decided only by the leader's
// clock, and a remaining TTL that survives a leader change through checkpoints.
import test from 'ava';
import { isEtcdError } from '../../core/errors.js';
import { Lessor, minLeaseTtlSeconds } from '../../core/lease/lessor.js';

test('the minimum TTL is 1.5 election timeouts (2 s with etcd defaults); too large is refused', (t) => {
  t.is(minLeaseTtlSeconds(1000), 2);
  const lessor = new Lessor({ minTtlSeconds: 2 });
  const lease = lessor.grant(1n, 1, 0);
  t.true(!isEtcdError(lease) && lease.ttlSeconds === 2);
  const big = lessor.grant(2n, 9_000_000_001, 0);
  t.true(isEtcdError(big) && big.message === 'etcdserver: too large lease TTL');
  const dup = lessor.grant(1n, 10, 0);
  t.true(isEtcdError(dup) && dup.message === 'etcdserver: lease already exists');
});

test('only the leader expires leases, from its own clock', (t) => {
  const lessor = new Lessor({ minTtlSeconds: 2 });
  lessor.grant(5n, 10, 0);
  t.deepEqual(lessor.expired(1_000_000), [], 'a follower never expires anything');
  lessor.promote(1000);
  t.deepEqual(lessor.expired(10_999), []);
  t.deepEqual(lessor.expired(11_000), [5n]);
});

test('a renewal pushes the deadline; unknown and expired leases renew to TTL 0', (t) => {
  const lessor = new Lessor({ minTtlSeconds: 2 });
  lessor.grant(5n, 10, 0);
  lessor.promote(0);
  t.is(lessor.renew(5n, 8000).ttlSeconds, 10);
  t.deepEqual(lessor.expired(17_999), []);
  t.is(lessor.renew(42n, 0).ttlSeconds, 0);
  t.is(lessor.renew(5n, 18_000).ttlSeconds, 0, 'past its deadline');
});

test('remaining TTL survives a leader change through a checkpoint (etcd 3.4 restarts it, #9395)', (t) => {
  const oldLeader = new Lessor({ minTtlSeconds: 2 });
  const newLeader = new Lessor({ minTtlSeconds: 2 });
  for (const l of [oldLeader, newLeader]) l.grant(9n, 60, 0);
  oldLeader.promote(0);
  // 50 s later the old leader checkpoints 10 s remaining; the entry is applied everywhere.
  const [cp] = oldLeader.checkpoints(50_000);
  t.deepEqual(cp, { id: 9n, remainingMs: 10_000 });
  for (const l of [oldLeader, newLeader]) l.checkpoint(9n, cp?.remainingMs ?? 0);
  // The old leader dies; the new one takes over at its own time 100_000.
  newLeader.promote(100_000);
  t.is(newLeader.timeToLive(9n, 100_000).ttlSeconds, 10, 'not 60');
  t.deepEqual(newLeader.expired(110_000), [9n]);
});

test('a renewal after a checkpoint asks for a fresh one', (t) => {
  const lessor = new Lessor({ minTtlSeconds: 2 });
  lessor.grant(3n, 30, 0);
  lessor.promote(0);
  t.false(lessor.renew(3n, 1000).checkpointNeeded);
  lessor.checkpoint(3n, 5000);
  t.true(lessor.renew(3n, 2000).checkpointNeeded);
});

test('revoke returns the attached keys in order; time-to-live of an unknown lease is -1', (t) => {
  const lessor = new Lessor({ minTtlSeconds: 2 });
  lessor.grant(4n, 10, 0);
  lessor.attach(4n, 'b');
  lessor.attach(4n, 'a');
  lessor.detach(4n, 'b');
  lessor.attach(4n, 'c');
  t.deepEqual(lessor.timeToLive(4n, 0).keys, ['a', 'c']);
  t.deepEqual(lessor.revoke(4n), ['a', 'c']);
  t.deepEqual(lessor.timeToLive(4n, 0), { id: 4n, ttlSeconds: -1, grantedTtlSeconds: 0, keys: [] });
  const again = lessor.revoke(4n);
  t.true(isEtcdError(again) && again.message === 'etcdserver: requested lease not found');
});

test('ids are exact int64s: neighbours above 2^53 stay apart, and the list is in numeric order', (t) => {
  const lessor = new Lessor({ minTtlSeconds: 2 });
  const ids = [2n ** 63n - 1n, 2n ** 62n + 12345n, 2n ** 53n + 1n, 2n ** 53n, -5n, 3n];
  for (const id of ids) t.false('kind' in lessor.grant(id, 60, 0), `grant ${id}`);
  t.is(lessor.count, ids.length, 'as numbers 2^53 and 2^53+1 would be one lease');
  t.deepEqual(lessor.ids(), [-5n, 3n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 62n + 12345n, 2n ** 63n - 1n]);
  lessor.attach(2n ** 53n + 1n, 'k');
  t.deepEqual(lessor.keysOf(2n ** 53n), []);
  t.deepEqual(lessor.revoke(2n ** 53n + 1n), ['k']);
  t.true(lessor.exists(2n ** 53n));
  t.throws(() => lessor.grant(0n, 60, 0), { message: /no lease/ });
});
