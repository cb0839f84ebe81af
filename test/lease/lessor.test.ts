// The lessor's rules: minimum and maximum TTL, expiry decided only by the leader's
// clock, and a remaining TTL that survives a leader change through the replicated lease
// clock and the checkpoints of renewals.
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

test('only the leader expires leases, from its own clock; promotion counts the time since the grant and adds an election timeout', (t) => {
  const lessor = new Lessor({ minTtlSeconds: 2 });
  lessor.grant(5n, 10, 0);
  t.deepEqual(lessor.expired(1_000_000), [], 'a follower never expires anything');
  lessor.promote(1000, 1000, 0);
  t.deepEqual(lessor.expired(10_999), []);
  t.deepEqual(lessor.expired(11_000), [5n], 'granted at 0 s for 10 s, plus the 1 s extension');
});

test('a renewal pushes the deadline; unknown and expired leases renew to TTL 0', (t) => {
  const lessor = new Lessor({ minTtlSeconds: 2 });
  lessor.grant(5n, 10, 0);
  lessor.promote(0, 0, 0);
  t.is(lessor.renew(5n, 8000), 10);
  t.deepEqual(lessor.expired(17_999), []);
  t.is(lessor.renew(42n, 0), 0);
  t.is(lessor.renew(5n, 18_000), 0, 'past its deadline');
});

/** Two members apply the same entries; `leader` proposes the checkpoints. */
function pair(bugResetTtlOnPromote = false): { leader: Lessor; follower: Lessor; both: (f: (l: Lessor) => void) => void } {
  const leader = new Lessor({ minTtlSeconds: 2 });
  const follower = new Lessor({ minTtlSeconds: 2, bugResetTtlOnPromote });
  return { leader, follower, both: (f) => { f(leader); f(follower); } };
}

test('a lease never renewed ends on time after a leader change: the lease clock says how much has passed (etcd 3.4 restarts it, #9395)', (t) => {
  const { leader, follower, both } = pair();
  both((l) => l.grant(9n, 60, 0));
  leader.promote(0, 1000, 0);
  // Every 500 ms the leader's checkpoint entry moves the clock on; both apply it at once.
  for (let now = 500; now <= 50_000; now += 500) {
    const { elapsedMs, checkpoints } = leader.takeCheckpoint(now, 1000);
    t.is(elapsedMs, 500);
    t.deepEqual(checkpoints, []);
    both((l) => { l.applyCheckpoint(elapsedMs, checkpoints, now, 1); });
  }
  // The leader dies at 50 s; the follower wins at 52 s, having seen 2 s pass since the last entry.
  follower.promote(52_000, 1000, 0);
  t.is(follower.timeToLive(9n, 52_000).ttlSeconds, 9, '60 - 52 s left, plus the 1 s extension; not 60');
  t.deepEqual(follower.expired(60_999), []);
  t.deepEqual(follower.expired(61_000), [9n]);
});

test('with the planted bug leaseTtlResetLost, a new leader restarts the lease from its full TTL', (t) => {
  const { leader, follower, both } = pair(true);
  both((l) => l.grant(9n, 60, 0));
  leader.promote(0, 1000, 0);
  const { elapsedMs, checkpoints } = leader.takeCheckpoint(50_000, 1000);
  both((l) => { l.applyCheckpoint(elapsedMs, checkpoints, 50_000, 1); });
  follower.promote(50_000, 1000, 0);
  t.deepEqual(follower.expired(110_999), [], 'the key lives 61 s past its 60 s TTL');
});

test('a renewal goes out with the next checkpoint, so a new leader keeps the TTL the client was promised', (t) => {
  const { leader, follower, both } = pair();
  both((l) => l.grant(3n, 30, 0));
  leader.promote(0, 1000, 0);
  t.is(leader.renewalsPending, 0);
  t.is(leader.renew(3n, 20_000), 30);
  t.is(leader.renewalsPending, 1);
  const { elapsedMs, checkpoints } = leader.takeCheckpoint(20_100, 1000);
  t.deepEqual({ elapsedMs, checkpoints }, { elapsedMs: 20_100, checkpoints: [{ id: 3n, remainingMs: 29_900 }] });
  t.is(leader.renewalsPending, 0);
  both((l) => { l.applyCheckpoint(elapsedMs, checkpoints, 20_100, 1); });
  follower.promote(25_000, 1000, 0);
  // Renewed at 20 s for 30 s: ends at 50 s (+ the 1 s extension); without the checkpoint it would end at 31 s.
  t.deepEqual(follower.expired(50_999), []);
  t.deepEqual(follower.expired(51_000), [3n]);
});

test("a predecessor's checkpoint applied after the promotion still moves the new leader's deadline (jepsen campaign seed 19)", (t) => {
  const { leader, follower, both } = pair();
  both((l) => l.grant(4n, 10, 0));
  leader.promote(0, 1000, 0);
  t.is(leader.renew(4n, 9_400), 10);
  const { elapsedMs, checkpoints } = leader.takeCheckpoint(9_400, 1000);
  t.deepEqual(checkpoints, [{ id: 4n, remainingMs: 10_000 }]);
  leader.applyCheckpoint(elapsedMs, checkpoints, 9_900, 7); // committed and applied on the old leader: answered at 9.9 s
  // The follower holds entry 7 but had not heard it committed when it won at 11.5 s; it applies it after.
  follower.promote(11_500, 1000, 7);
  t.is(follower.deadlineMs(4n), 12_500, 'from the grant alone: nothing left, plus the extension');
  follower.applyCheckpoint(elapsedMs, checkpoints, 11_600, 7);
  // The client was promised the lease until 19.4 s. Before the fix the deadline stayed at 12.5 s.
  t.deepEqual(follower.expired(19_400), []);
  t.is(follower.deadlineMs(4n), 22_600, 'what was left (10 s) on the lease clock when it applied, plus the extension');
  // Its own checkpoints (after index 7) leave its deadlines to its own renewals.
  t.is(follower.renew(4n, 21_000), 10);
  const own = follower.takeCheckpoint(21_000, 1000);
  follower.applyCheckpoint(own.elapsedMs, own.checkpoints, 21_500, 9);
  t.is(follower.deadlineMs(4n), 31_000, 'renewed at 21 s for 10 s, not stretched by the apply latency');
});

test('a checkpoint whose proposal failed sends its renewals again; a checkpoint carries at most max renewals', (t) => {
  const lessor = new Lessor({ minTtlSeconds: 2 });
  for (const id of [1n, 2n, 3n]) lessor.grant(id, 10, 0);
  lessor.promote(0, 0, 0);
  for (const id of [3n, 1n, 2n]) lessor.renew(id, 100);
  const first = lessor.takeCheckpoint(200, 2);
  t.deepEqual(first.checkpoints.map((cp) => cp.id), [3n, 1n], 'renewal order, at most 2');
  lessor.renewalsNotCheckpointed(first.checkpoints.map((cp) => cp.id));
  t.deepEqual(lessor.takeCheckpoint(300, 10).checkpoints.map((cp) => cp.id), [2n, 3n, 1n]);
  t.is(lessor.takeCheckpoint(400, 10).elapsedMs, 100, 'elapsed time is proposed once');
});

test('a snapshot carries what is left on the lease clock; a member restored from it counts from there', (t) => {
  const { leader, both } = pair();
  both((l) => l.grant(7n, 60, 0));
  leader.promote(0, 0, 0);
  const { elapsedMs, checkpoints } = leader.takeCheckpoint(45_000, 1000);
  both((l) => { l.applyCheckpoint(elapsedMs, checkpoints, 45_000, 1); });
  const image = leader.exportLeases();
  t.deepEqual(image, [{ id: 7n, ttlSeconds: 60, remainingMsAtCheckpoint: 15_000, keys: [] }]);
  const restored = new Lessor({ minTtlSeconds: 2 });
  restored.importLeases(image, 45_000);
  t.deepEqual(restored.exportLeases(), image, 'the image round-trips');
  restored.promote(50_000, 0, 0);
  t.deepEqual(restored.expired(59_999), []);
  t.deepEqual(restored.expired(60_000), [7n], '15 s left at 45 s');
  const legacy = new Lessor({ minTtlSeconds: 2 });
  legacy.importLeases([{ id: 7n, ttlSeconds: 60, remainingMsAtCheckpoint: null, keys: [] }], null);
  legacy.promote(1000, 0, 0);
  t.deepEqual(legacy.expired(61_000), [7n], 'an image from before the lease clock: the full TTL');
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
