// The etcd server core over a three-member cluster: writes through Raft from any
// member, linearizable and serializable reads, etcd's response header, leases that
// expire by the leader's clock, and exactly-once apply across a restart.
import test from 'ava';
import { isEtcdError } from '../../core/errors.js';
import { call, dec, enc, ok, ServerCluster } from './cluster.js';


test('a write through a follower is visible to a linearizable read on another member, with etcd headers', (t) => {
  const c = new ServerCluster([1, 2, 3]);
  const leader = c.elect();
  const follower = [1, 2, 3].map((id) => c.get(id)).find((s) => s !== leader);
  if (follower === undefined) throw new Error('no follower');
  const put = ok(call(c, follower.put.bind(follower), { key: enc('foo'), value: enc('bar') }));
  t.is(put.header.revision, 2);
  t.is(put.header.memberId, follower.memberId);
  t.true(put.header.raftTerm >= 1);
  const third = [1, 2, 3].map((id) => c.get(id)).find((s) => s !== leader && s !== follower) ?? leader;
  const got = ok(call(c, third.range.bind(third), { key: enc('foo') }));
  t.is(dec(got.kvs[0]?.value ?? enc('')), 'bar');
  t.is(got.header.revision, 2);
  t.is(got.header.clusterId, 99);
});

test('bad requests are refused before Raft with etcd texts', (t) => {
  const c = new ServerCluster([1]);
  const leader = c.elect();
  const empty = call(c, leader.put.bind(leader), { key: enc(''), value: enc('x') });
  t.true(isEtcdError(empty) && empty.message === 'etcdserver: key is not provided');
  const dup = call(c, leader.txn.bind(leader),
    { compare: [], success: [{ put: { key: enc('a'), value: enc('1') } }, { put: { key: enc('a'), value: enc('2') } }], failure: [] });
  t.true(isEtcdError(dup) && dup.message === 'etcdserver: duplicate key given in txn request');
  t.is(leader.machine.store.currentRevision(), 1, 'nothing was written');
});

test('a lease expires by the leader\'s clock and its keys go in one revision', (t) => {
  const c = new ServerCluster([1, 2, 3]);
  const leader = c.elect();
  const grant = ok(call(c, leader.leaseGrant.bind(leader), { ttlSeconds: 5, id: 0n }));
  t.is(grant.ttlSeconds, 5);
  for (const k of ['a', 'b']) ok(call(c, leader.put.bind(leader), { key: enc(k), value: enc('v'), lease: grant.id }));
  const before = leader.machine.store.currentRevision();
  c.run(20); // 2 s: still alive
  t.is(ok(call(c, leader.range.bind(leader), { key: enc('a'), rangeEnd: enc('c') })).count, 2);
  c.run(40); // past 5 s
  const after = ok(call(c, leader.range.bind(leader), { key: enc('a'), rangeEnd: enc('c') }));
  t.is(after.count, 0);
  t.is(after.header.revision, before + 1, 'both keys deleted in one revision');
  const ttl = ok(call(c, leader.leaseTimeToLive.bind(leader), { id: grant.id }));
  t.is(ttl.ttlSeconds, -1);
});

test('a lease\'s remaining TTL survives a leader change (the replicated lease clock)', (t) => {
  const c = new ServerCluster([1, 2, 3]);
  const leader = c.elect();
  const grant = ok(call(c, leader.leaseGrant.bind(leader), { ttlSeconds: 30, id: 0n }));
  c.run(200); // 20 s pass; the lease clock entries say ~10 s remain
  c.crash(leader.memberId);
  const next = c.elect();
  t.not(next.memberId, leader.memberId);
  const ttl = ok(call(c, next.leaseTimeToLive.bind(next), { id: grant.id }));
  t.true(ttl.ttlSeconds > 0 && ttl.ttlSeconds <= 11, `remaining ${ttl.ttlSeconds}s, not the full 30 s`);
});

test('a restarted member re-applies its log exactly once', (t) => {
  const c = new ServerCluster([1, 2, 3]);
  const leader = c.elect();
  for (let i = 0; i < 5; i++) ok(call(c, leader.put.bind(leader), { key: enc('k'), value: enc(`${i}`) }));
  const victim = [1, 2, 3].find((id) => id !== leader.memberId) ?? 1;
  const revisionBefore = c.get(victim).machine.store.currentRevision();
  c.crash(victim);
  const restarted = c.start(victim);
  c.run(30);
  t.is(restarted.machine.store.currentRevision(), revisionBefore);
  const kv = ok(call(c, restarted.range.bind(restarted), { key: enc('k'), serializable: true })).kvs[0];
  t.is(kv?.version, 5, 'five puts, each applied once');
});

test('requests survive the entry codec when keys and values are Node Buffers (as gRPC decodes them)', (t) => {
  const c = new ServerCluster([1]);
  const leader = c.elect();
  ok(call(c, leader.put.bind(leader), { key: Buffer.from('buf'), value: Buffer.from([0, 255, 7]) }));
  const got = ok(call(c, leader.range.bind(leader), { key: Buffer.from('buf') }));
  t.deepEqual([...(got.kvs[0]?.value ?? [])], [0, 255, 7]);
  t.is(dec(got.kvs[0]?.key ?? enc('')), 'buf');
});

test('a grant without an id gets one the proposer drew: random 63-bit, distinct, the same lease on every member', (t) => {
  const c = new ServerCluster([1, 2, 3]);
  c.elect();
  const granted: bigint[] = [];
  for (let i = 0; i < 150; i++) {
    const via = c.get(1 + (i % 3)); // followers propose too
    granted.push(ok(call(c, via.leaseGrant.bind(via), { ttlSeconds: 600, id: 0n })).id);
  }
  t.true(granted.every((id) => id >= 1n && id <= 2n ** 63n - 1n), 'positive int64s');
  t.is(new Set(granted).size, granted.length, 'distinct');
  t.true(granted.filter((id) => id > 2n ** 53n).length > 100, 'most beyond 2^53');
  c.run(5);
  const sorted = [...granted].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const id of [1, 2, 3]) t.deepEqual(c.get(id).machine.lessor.ids(), sorted, `member ${id} holds the same ids, exactly`);
  const [first] = granted;
  if (first === undefined) return;
  const ttl = ok(call(c, c.get(2).leaseTimeToLive.bind(c.get(2)), { id: first }));
  t.is(ttl.id, first);
  t.is(ttl.grantedTtlSeconds, 600);
});
