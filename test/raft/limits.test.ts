// The Raft core's limits (core/raft/limits.ts), each reached on purpose: the request past
// it is refused with a typed value, nothing throws, and once the backlog drains the same
// leader takes requests again and the cluster commits them.
import test from 'ava';
import { appliedTexts, Network } from './harness.js';

const bytes = (n: number): Uint8Array => new Uint8Array(n).fill(0x61); // n × "a"

// Reference: etcd-io/raft's Config.MaxUncommittedEntriesSize (etcd-io/etcd#10167).
test('a leader cut off from its quorum drops proposals past its uncommitted-size limit, and takes them again once its tail commits', (t) => {
  const net = new Network({ voters: [1, 2, 3], limits: { maxUncommittedEntriesSizeBytes: 25 } });
  net.elect(1);
  net.isolate(1); // nothing it appends can commit now
  const leader = net.get(1).node;
  t.deepEqual(leader.propose(bytes(10)), { ok: true });
  t.deepEqual(leader.propose(bytes(10)), { ok: true });
  t.deepEqual(leader.propose(bytes(10)), { ok: false, refusal: 'proposalDropped' }, '30 bytes would pass the 25-byte limit');
  t.deepEqual(leader.propose(bytes(0)), { ok: true }, 'an empty payload is never refused');
  t.is(leader.raft.uncommittedSize(), 20);
  net.stabilize();
  t.is(leader.raft.role, 'leader');

  net.heal();
  net.tickAll(1); // a heartbeat: the followers answer, the leader sends what they miss
  net.stabilize();
  t.is(leader.raft.uncommittedSize(), 0, 'committed entries no longer count');
  t.deepEqual(leader.propose(bytes(40)), { ok: true }, 'into an empty tail, even a proposal over the limit is taken');
  net.stabilize();
  t.deepEqual(appliedTexts(net.get(3)).map((s) => s.length), [10, 10, 40]);
});

// Reference: none in etcd-io/raft (it holds ReadIndex requests without a bound); Tern's
// MAX_PENDING_READ_INDEX_REQUESTS.
test('a leader holding its limit of ReadIndex requests refuses the next as tooManyReads, and serves reads again once a quorum confirms', (t) => {
  const net = new Network({ voters: [1, 2, 3], limits: { maxPendingReadIndexRequests: 3 } });
  net.elect(1);
  net.isolate(1); // no heartbeat round can complete
  const leader = net.get(1).node;
  for (const context of ['r1', 'r2', 'r3']) t.deepEqual(leader.readIndex(context), { ok: true });
  t.deepEqual(leader.readIndex('r4'), { ok: false, refusal: 'tooManyReads' });
  net.stabilize();
  t.is(net.get(1).reads.size, 0, 'no read was confirmed without a quorum');

  net.heal();
  net.tickAll(1); // a heartbeat carrying the last read's context confirms all three
  net.stabilize();
  t.deepEqual([...net.get(1).reads.keys()], ['r1', 'r2', 'r3']);
  t.deepEqual(leader.readIndex('r4'), { ok: true });
  net.stabilize();
  t.true(net.get(1).reads.has('r4'), 'the refused read, asked again, is served');
  t.is(leader.raft.role, 'leader');
});
