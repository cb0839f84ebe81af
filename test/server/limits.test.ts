// The server core's limits (core/server/limits.ts), each reached on purpose: the request
// past it is answered at once with etcd's `etcdserver: too many requests`, nothing
// throws, and once the backlog drains the member serves again.
import test from 'ava';
import { isEtcdError, type EtcdError } from '../../core/errors.js';
import { MAX_LEASES_REVOKING } from '../../core/server/limits.js';
import { EtcdServer, type Reply } from '../../core/server/server.js';
import type { LogStore, LogWrite, WriteResult } from '../../core/node/ports.js';
import { MemoryLogStore } from '../../core/node/memoryLogStore.js';
import { TestRandom } from '../raft/harness.js';
import { call, enc, ok, ServerCluster } from './cluster.js';

const TOO_MANY = { kind: 'etcdError', name: 'tooManyRequests', message: 'etcdserver: too many requests' };

/** Collects the replies of requests made without running the cluster. */
function replies<T>(): { readonly got: (T | EtcdError)[]; readonly reply: Reply<T> } {
  const got: (T | EtcdError)[] = [];
  return { got, reply: (r) => { got.push(r); } };
}

// Reference: etcd's rafthttp maxPendingProposals (4096 concurrent proposers).
test('a member with its limit of proposals pending refuses the next with too many requests, and takes writes again once they apply', (t) => {
  const c = new ServerCluster([1], { limits: { pendingProposals: 3 } });
  const s = c.get(1); // no leader yet: the puts wait, retried every tick
  const puts = replies<unknown>();
  for (const key of ['a', 'b', 'c', 'd']) s.put({ key: enc(key), value: enc('v') }, puts.reply);
  t.deepEqual(puts.got, [TOO_MANY], 'the fourth is refused at once; three wait');
  t.is(s.pendingProposals(), 3);
  c.elect();
  c.run(2);
  t.is(puts.got.length, 4);
  t.true(puts.got.slice(1).every((r) => !isEtcdError(r)), 'the three that waited were written');
  t.is(ok(call(c, s.put.bind(s), { key: enc('d'), value: enc('v') })).header.revision, 5);
});

// Reference: none in etcd (it folds waiting reads into one ReadIndex); Tern's MAX_PENDING_READS.
test('a member with its limit of linearizable reads pending refuses the next with too many requests, and serves reads again', (t) => {
  const c = new ServerCluster([1], { limits: { pendingReads: 2 } });
  const s = c.get(1);
  const reads = replies<unknown>();
  for (let i = 0; i < 3; i++) s.range({ key: enc('k') }, reads.reply);
  t.deepEqual(reads.got, [TOO_MANY]);
  c.elect();
  c.run(2);
  t.is(reads.got.length, 3);
  t.true(reads.got.slice(1).every((r) => !isEtcdError(r)), 'the two that waited were served');
  t.deepEqual(ok(call(c, s.range.bind(s), { key: enc('k') })).kvs, []);
});

/** A disk whose writes complete only when the test says, one at a time. */
class HeldDisk implements LogStore {
  private readonly inner = new MemoryLogStore();
  private readonly held: (() => void)[] = [];
  write(request: LogWrite, done: (r: WriteResult) => void): void {
    this.held.push(() => { this.inner.write(request, done); });
  }
  compact(...args: Parameters<LogStore['compact']>): void {
    this.inner.compact(...args);
  }
  recover(): ReturnType<LogStore['recover']> {
    return this.inner.recover();
  }
  completeOne(): void {
    this.held.shift()?.();
  }
  completeAll(): void {
    for (let i = 0; this.held.length > 0; i++) {
      if (i > 10_000) throw new Error('the disk never drains');
      this.completeOne();
    }
  }
}

// Reference: etcd's maxGapBetweenApplyAndCommitIndex (etcdserver/v3_server.go): a member
// whose applying lags what is committed by more than it stops taking proposals.
test('a member whose applied index lags its committed index past the gap refuses writes with too many requests, and writes again once it catches up', (t) => {
  const disk = new HeldDisk();
  let nowMs = 0;
  const s = EtcdServer.start(
    { id: 1, initialVoters: [1], clusterId: 99, tickMs: 100, electionTicks: 10, limits: { applyGapEntries: 2 } },
    { logStore: disk, transport: { send: () => undefined }, random: new TestRandom(1), clock: { nowMs: () => nowMs } },
  );
  if ('kind' in s) throw new Error(s.detail);
  for (let i = 0; i < 30 && s.driver.status().role !== 'leader'; i++) {
    nowMs += 100;
    s.tick();
    disk.completeAll();
  }
  t.is(s.driver.status().role, 'leader');
  const puts = replies<unknown>();
  for (const key of ['a', 'b', 'c', 'd', 'e']) s.put({ key: enc(key), value: enc('v') }, puts.reply);
  disk.completeOne(); // 'a' is durable, so committed; its apply waits for the next write
  disk.completeOne(); // 'b'..'e' are durable and committed; only 'a' is applied
  t.true(s.driver.raft.unappliedEntries() > 2, `${s.driver.raft.unappliedEntries()} committed entries unapplied`);
  s.put({ key: enc('f'), value: enc('v') }, puts.reply);
  t.deepEqual(puts.got.filter(isEtcdError), [TOO_MANY], 'only the put past the gap is refused');

  disk.completeAll();
  t.is(s.driver.raft.unappliedEntries(), 0);
  t.is(puts.got.filter((r) => !isEtcdError(r)).length, 5, 'the five before it were all written');
  s.put({ key: enc('f'), value: enc('v') }, puts.reply);
  disk.completeAll();
  t.false(isEtcdError(puts.got[puts.got.length - 1]), 'and the refused write, sent again, is too');
});

// Reference: etcd's lessor, which revokes at most leaseRevokeRate = 1000 leases a second.
test('a leader with more leases expiring than its revoke limit proposes the limit at once and the rest on later ticks', (t) => {
  const c = new ServerCluster([1, 2, 3]);
  const leader = c.elect();
  const grants = replies<unknown>();
  for (let id = 1; id <= MAX_LEASES_REVOKING + 5; id++) leader.leaseGrant({ id: BigInt(id), ttlSeconds: 5 }, grants.reply);
  c.run(3);
  t.is(leader.machine.lessor.ids().length, MAX_LEASES_REVOKING + 5, 'every lease was granted');
  c.nowMs += 10_000; // every lease is past its TTL
  leader.tick(); // its revokes are proposed, and nothing is delivered yet
  t.is(leader.pendingProposals(), MAX_LEASES_REVOKING + 1, 'the limit of revokes, and the lease clock entry');
  c.run(5);
  t.deepEqual(leader.machine.lessor.ids(), [], 'the five left over were revoked on a later tick');
  t.false(isEtcdError(call(c, leader.put.bind(leader), { key: enc('after'), value: enc('v') })));
});
