// Ongaro's thesis ("Consensus: Bridging Theory and Practice", 2014): pre-vote and
// check-quorum (§9.6, §6.2), leadership transfer (§3.10), ReadIndex reads (§6.4).
import test from 'ava';
import type { Message } from '../../core/raft/types.js';
import { Network, appliedTexts } from './harness.js';
import { isType, round, stepAndCollect } from './paper-util.js';

function isolatedTicks(net: Network, id: number, ticks: number): void {
  for (let i = 0; i < ticks; i++) {
    net.get(id).node.tick();
    net.stabilize();
  }
}

// ------------------------------------------------------------------ pre-vote

// Reference: thesis §9.6 — "a server first asks whether its log is up-to-date enough to
// get votes ... only if it hears back from a majority does it increment its term": a
// partitioned server never inflates its term, and on rejoining it disrupts nobody.
test('§9.6 pre-vote: a partitioned member does not bump its term and does not disrupt on rejoining', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  net.isolate(3);
  isolatedTicks(net, 3, 100); // many election timeouts alone
  t.is(net.get(3).node.raft.term, 1, 'failed pre-votes leave the term alone');
  net.heal();
  net.tickAll(3);
  net.stabilize();
  t.deepEqual(net.leaders(), [1]);
  t.deepEqual([1, 2, 3].map((id) => net.get(id).node.raft.term), [1, 1, 1]);
});

// Reference: thesis §9.6 — the disruption pre-vote prevents: without pre-vote and
// check-quorum the rejoining member's inflated term deposes a healthy leader.
test('§9.6 without pre-vote, the rejoining member\'s higher term deposes the leader', (t) => {
  const net = new Network({ voters: [1, 2, 3], preVote: false, checkQuorum: false });
  net.elect(1);
  net.isolate(3);
  isolatedTicks(net, 3, 100);
  const inflated = net.get(3).node.raft.term;
  t.true(inflated > 2);
  net.heal();
  isolatedTicks(net, 3, 20); // 3 times out again; its vote requests carry the inflated term
  t.true(net.get(1).node.raft.term > inflated, 'the healthy leader was forced into a later term');
});

// ------------------------------------------------------------------ check-quorum

// Reference: thesis §6.2 — "a leader steps down if an election timeout elapses without a
// successful round of heartbeats to a majority of its cluster".
test('§6.2 check-quorum: a leader that cannot reach a quorum steps down within an election timeout', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  net.isolate(1);
  isolatedTicks(net, 1, 20); // two election timeouts: the first may be half over
  t.is(net.get(1).node.raft.role, 'follower');
  t.is(net.get(1).node.raft.lead, 0);
});

// Reference: thesis §6.2 — and a leader that does hear from a quorum stays.
test('§6.2 check-quorum: a leader that hears from a quorum stays leader', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  net.isolate(3);
  isolatedTicks(net, 1, 50);
  t.deepEqual(net.leaders(), [1]);
});

// Reference: thesis §4.2.3 — "if a server receives a RequestVote request within the
// minimum election timeout of hearing from a current leader, it does not update its term
// or grant its vote".
test('§4.2.3 a follower in its leader\'s lease ignores a vote request of a higher term', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  const sent = stepAndCollect(net, { type: 'MsgVote', from: 3, to: 2, term: 5, index: 9, logTerm: 1 });
  t.deepEqual(sent, [], 'no answer at all');
  t.like(net.get(2).node.status(), { lead: 1, hardState: { term: 1, vote: 1, commit: 1 } });
});

// Reference: thesis §4.2.3 — once the lease has expired (no word from the leader for an
// election timeout), the same request is answered.
test('§4.2.3 after the lease expires, a follower grants the vote of a higher term', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  for (let i = 0; i < 10; i++) net.get(2).node.tick(); // an election timeout without a word from the leader
  const sent = stepAndCollect(net, { type: 'MsgVote', from: 3, to: 2, term: 5, index: 9, logTerm: 1 });
  t.deepEqual(sent.filter(isType('MsgVoteResp')).map((m) => m.reject), [false]);
  t.is(net.get(2).node.raft.term, 5);
});

// ------------------------------------------------------------------ leader transfer

// Reference: thesis §3.10 — "the prior leader sends a TimeoutNow request to the target
// server. This request has the same effect as the target server's election timer firing:
// the target server starts a new election (incrementing its term)".
test('§3.10 leader transfer: TimeoutNow makes an up-to-date target the leader of the next term', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  net.trace = [];
  t.true(net.get(1).node.transferLeader(3).ok);
  net.stabilize();
  t.deepEqual(net.leaders(), [3]);
  t.is(net.get(3).node.raft.term, 2);
  t.deepEqual(net.trace.filter(isType('MsgTimeoutNow')).map((m) => [m.from, m.to]), [[1, 3]]);
});

// Reference: thesis §3.10 — "the prior leader ... brings the target's log up to date
// before sending TimeoutNow"; otherwise the target could not win.
test('§3.10 leader transfer to a lagging follower first catches it up', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  net.isolate(3);
  for (const v of ['a', 'b', 'c']) net.propose(1, v);
  net.stabilize();
  net.heal();
  t.true(net.get(1).node.transferLeader(3).ok);
  let lastIndexOf3AtTimeoutNow = -1;
  for (let round = 0; round < 50 && net.leaders()[0] !== 3; round++) {
    for (const id of [1, 2, 3]) net.processReady(id);
    if (net.inFlight.some(isType('MsgTimeoutNow')) && lastIndexOf3AtTimeoutNow < 0) {
      lastIndexOf3AtTimeoutNow = net.get(3).node.status().lastIndex;
    }
    net.deliver();
  }
  t.is(lastIndexOf3AtTimeoutNow, 4, 'TimeoutNow leaves only once 3 holds all four entries');
  t.deepEqual(net.leaders(), [3]);
  net.stabilize();
  t.deepEqual(appliedTexts(net.get(3)), ['a', 'b', 'c']);
});

// Reference: thesis §3.10 — "the prior leader stops accepting new client requests" during
// the transfer; and if the transfer does not complete within an election timeout, it is
// aborted and the leader resumes accepting them.
test('§3.10 proposals are refused during a transfer, and accepted again once it is abandoned', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  net.isolate(3); // the transfer cannot complete
  net.propose(1, 'a');
  net.stabilize();
  t.true(net.get(1).node.transferLeader(3).ok);
  t.deepEqual(net.get(1).node.propose(new TextEncoder().encode('b')), { ok: false, refusal: 'proposalDropped' });
  isolatedTicks(net, 1, 10); // an election timeout
  t.deepEqual(net.leaders(), [1]);
  t.true(net.get(1).node.propose(new TextEncoder().encode('c')).ok);
});

// ------------------------------------------------------------------ ReadIndex

function readIndexRound(net: Network, id: number, ctx: string): { beforeQuorum: number | undefined; heartbeats: Message[] } {
  t0(net.get(id).node.readIndex(ctx).ok);
  // Process and forward until heartbeats carrying the read's context are in flight.
  for (let i = 0; i < 5 && !net.inFlight.some((m) => m.type === 'MsgHeartbeat' && m.context === ctx); i++) {
    for (const n of net.nodes.keys()) net.processReady(n);
    if (!net.inFlight.some((m) => m.type === 'MsgHeartbeat' && m.context === ctx)) net.deliver();
  }
  const heartbeats = net.inFlight.filter((m) => m.type === 'MsgHeartbeat' && m.context === ctx);
  for (const n of net.nodes.keys()) net.processReady(n);
  return { beforeQuorum: net.get(id).reads.get(ctx), heartbeats };
}

function t0(ok: boolean): void {
  if (!ok) throw new Error('readIndex refused');
}

// Reference: thesis §6.4 — "The leader needs to make sure it hasn't been superseded by a
// newer leader ... it sends a new round of heartbeats and waits for their acknowledgments
// from a majority of the cluster"; then readIndex (its commit index) may be served.
test('§6.4 ReadIndex: the leader serves a read only after a heartbeat round confirms it', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  net.propose(1, 'a');
  net.stabilize();
  const { beforeQuorum, heartbeats } = readIndexRound(net, 1, 'r1');
  t.is(beforeQuorum, undefined, 'not before the heartbeats are answered');
  t.deepEqual(heartbeats.map((m) => m.to), [2, 3]);
  net.stabilize();
  t.is(net.get(1).reads.get('r1'), 2, 'the read index is the commit index when the read arrived');
});

// Reference: thesis §6.4 — a deposed leader cut off from the majority must not serve reads.
test('§6.4 ReadIndex: a leader cut off from the majority never serves the read', (t) => {
  const net = new Network({ voters: [1, 2, 3], checkQuorum: false });
  net.elect(1);
  net.isolate(1);
  t.true(net.get(1).node.readIndex('r1').ok);
  net.stabilize();
  net.tickAll(5);
  net.stabilize();
  t.is(net.get(1).reads.get('r1'), undefined);
});

// Reference: thesis §6.4 — "followers ... could issue a request to the leader that just
// asks for the current readIndex"; the follower then serves the read itself.
test('§6.4 ReadIndex: a follower forwards the read to the leader and gets its index back', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  net.propose(1, 'a');
  net.stabilize();
  net.trace = [];
  t.true(net.get(2).node.readIndex('f1').ok);
  net.stabilize();
  t.is(net.get(2).reads.get('f1'), 2);
  t.deepEqual(net.trace.filter((m) => m.type === 'MsgReadIndex' || m.type === 'MsgReadIndexResp').map((m) => `${m.from}->${m.to} ${m.type}`),
    ['2->1 MsgReadIndex', '1->2 MsgReadIndexResp']);
});

// Reference: thesis §6.4 — "The leader waits for its state machine to advance at least as
// far as the readIndex" before serving: here a follower that has the read index but has
// not applied up to it yet holds the read back.
test('§6.4 ReadIndex: a read is released only once applied ≥ its index', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  // 2 is starved of appends (every other message gets through): it learns no entries.
  const starve2 = (m: Message): boolean => m.to === 2 && m.type === 'MsgApp';
  for (const v of ['a', 'b']) net.propose(1, v);
  for (let i = 0; i < 5; i++) round(net, starve2);
  t.is(net.get(1).node.raft.log.committed, 3);
  t.is(net.get(2).node.status().lastIndex, 1);
  net.trace = [];
  t.true(net.get(2).node.readIndex('f1').ok);
  for (let i = 0; i < 5; i++) round(net, starve2);
  t.like(net.trace.find(isType('MsgReadIndexResp')), { to: 2, index: 3 }, 'the leader answered: read at 3');
  t.is(net.get(2).reads.get('f1'), undefined, 'held back: 2 has applied nothing yet');
  net.get(1).node.tick(); // a heartbeat; its answer gets 2 its entries
  net.stabilize();
  t.is(net.get(2).reads.get('f1'), 3);
  t.deepEqual(appliedTexts(net.get(2)), ['a', 'b']);
});

// Reference: thesis §6.4 — "if the leader has not yet marked an entry from its current term
// committed, it waits until it has done so" before it may use its commit index for reads.
test('§6.4 ReadIndex: a new leader waits for an entry of its own term to commit before serving', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  net.propose(1, 'a');
  net.stabilize();
  // 2 wins term 2, but its empty entry is not committed yet when a read arrives.
  net.get(2).node.transferLeader(2);
  net.processReady(1);
  const before = net.get(1).node.raft.term;
  for (let i = 0; i < 20 && net.get(2).node.raft.role !== 'leader'; i++) {
    for (const id of [1, 2, 3]) net.processReady(id);
    net.deliver();
  }
  t.is(net.get(2).node.raft.role, 'leader');
  t.true(net.get(2).node.raft.term > before);
  t.true(net.get(2).node.raft.log.committed < net.get(2).node.raft.log.lastIndex(), 'its term\'s entry is not committed yet');
  t.true(net.get(2).node.readIndex('r').ok);
  net.processReady(2);
  t.false(net.inFlight.some((m) => m.type === 'MsgHeartbeat' && m.context === 'r'), 'no read round before the commit');
  net.stabilize();
  t.is(net.get(2).reads.get('r'), 3, 'served at the index of its own term\'s entry');
});

// Reference: thesis §6.4 — (the end-to-end point) a read after a write sees the write.
test('§6.4 ReadIndex: a read issued after a write commits is served at or after it', (t) => {
  const net = new Network({ voters: [1, 2, 3, 4, 5] });
  net.elect(1);
  net.propose(1, 'w');
  net.stabilize();
  const writeIndex = net.get(1).node.raft.log.committed;
  t.true(net.get(4).node.readIndex('r').ok);
  net.stabilize();
  t.true((net.get(4).reads.get('r') ?? 0) >= writeIndex);
});
