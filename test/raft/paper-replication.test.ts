// The Raft paper §5.3 (log replication) and §5.5 (follower crashes), sentence by sentence.
import test from 'ava';
import { Network, appliedTexts } from './harness.js';
import { isType, stepAndCollect, terms } from './paper-util.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

// Reference: §5.3 — "The leader appends the command to its log as a new entry, then issues
// AppendEntries RPCs in parallel to each of the other servers to replicate the entry."
test('§5.3 the leader appends a proposal to its log and sends it to every follower', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  net.propose(1, 'x');
  net.processReady(1);
  t.deepEqual(terms(net.get(1)), [1, 1]);
  const apps = net.inFlight.filter(isType('MsgApp'));
  t.deepEqual(apps.map((m) => [m.to, m.index, m.logTerm, m.entries.map((e) => `${e.term}/${e.index}`).join()]),
    [[2, 1, 1, '1/2'], [3, 1, 1, '1/2']], 'each carries (prevIndex, prevTerm) = (1, 1) and the entry 1/2');
});

// Reference: §5.3 — "A log entry is committed once the leader that created the entry has
// replicated it on a majority of the servers ... the leader applies the entry."
test('§5.3 an entry is committed and applied once on a majority, not before', (t) => {
  const net = new Network({ voters: [1, 2, 3, 4, 5] });
  net.elect(1);
  net.isolate(3);
  net.isolate(4);
  net.isolate(5);
  net.propose(1, 'x');
  net.stabilize();
  t.is(net.get(1).node.raft.log.committed, 1, 'on 1 and 2 only: two of five');
  t.deepEqual(appliedTexts(net.get(1)), []);
  net.heal();
  net.isolate(4);
  net.isolate(5);
  net.get(1).node.tick(); // a heartbeat: 3 answers and is sent the entry
  net.stabilize();
  t.is(net.get(1).node.raft.log.committed, 2, 'on 1, 2 and 3: three of five');
  t.deepEqual(appliedTexts(net.get(1)), ['x']);
});

// Reference: §5.3 — "The leader keeps track of the highest index it knows to be committed,
// and it includes that index in future AppendEntries RPCs (including heartbeats) so that
// the other servers eventually find out. Once a follower learns that a log entry is
// committed, it applies the entry to its local state machine."
test('§5.3 followers learn the commit index from later appends and apply in log order', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  for (const v of ['a', 'b', 'c']) net.propose(1, v);
  net.stabilize();
  for (const id of [2, 3]) {
    t.is(net.get(id).node.raft.log.committed, 4);
    t.deepEqual(appliedTexts(net.get(id)), ['a', 'b', 'c']);
  }
});

// Reference: §5.3 — "When sending an AppendEntries RPC, the leader includes the index and
// term of the entry in its log that immediately precedes the new entries. If the follower
// does not find an entry in its log with the same index and term, then it refuses the new
// entries."
test('§5.3 a follower refuses entries whose predecessor it does not hold, and accepts matching ones', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.load(2, { terms: [1, 1, 2], term: 3 });
  const entry = { term: 3, index: 4, type: 'normal' as const, data: bytes('x') };
  const mismatch = stepAndCollect(net, { type: 'MsgApp', from: 1, to: 2, term: 3, index: 3, logTerm: 3, entries: [entry] });
  t.deepEqual(terms(net.get(2)), [1, 1, 2]);
  t.like(mismatch[0], { type: 'MsgAppResp', reject: true, index: 3 });
  const match = stepAndCollect(net, { type: 'MsgApp', from: 1, to: 2, term: 3, index: 3, logTerm: 2, entries: [entry] });
  t.deepEqual(terms(net.get(2)), [1, 1, 2, 3]);
  t.like(match[0], { type: 'MsgAppResp', reject: false, index: 4 });
});

// Reference: §5.3 — "If an existing entry conflicts with a new one (same index but
// different terms), delete the existing entry and all that follow it" (Figure 2).
test('§5.3 a follower deletes a conflicting entry and everything after it', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.load(2, { terms: [1, 1, 2, 2, 2], term: 3 });
  stepAndCollect(net, {
    type: 'MsgApp', from: 1, to: 2, term: 3, index: 2, logTerm: 1,
    entries: [{ term: 3, index: 3, type: 'normal', data: bytes('x') }],
  });
  t.deepEqual(terms(net.get(2)), [1, 1, 3]);
});

// Reference: §5.3 — "... but it does not delete entries that match": a delayed, shorter
// append must not truncate a follower that has more of the leader's entries (Figure 2:
// "Append any new entries not already in the log").
test('§5.3 a stale duplicate append does not truncate entries that match', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.load(2, { terms: [1, 1, 1, 1], term: 1 });
  stepAndCollect(net, {
    type: 'MsgApp', from: 1, to: 2, term: 1, index: 1, logTerm: 1,
    entries: [{ term: 1, index: 2, type: 'normal', data: bytes('t1i2') }],
  });
  t.deepEqual(terms(net.get(2)), [1, 1, 1, 1]);
});

// Reference: §5.3 — "the leader decrements nextIndex and retries the AppendEntries RPC.
// Eventually nextIndex will reach a point where the leader and follower logs match." With
// the optimisation the paper sketches, the rejection carries a hint so the leader skips a
// whole conflicting term per round trip instead of one index.
test('§5.3 the leader backtracks over a divergent follower log a term at a time', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  // Figure 7 (f) has eleven entries of terms 1, 2 and 3; the leader's diverges after index 3.
  net.load(1, { terms: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6], term: 7 });
  net.load(2, { terms: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3], term: 3 });
  net.trace = [];
  net.elect(1);
  t.deepEqual(terms(net.get(2)), terms(net.get(1)));
  const rejects = net.trace.filter((m) => m.from === 2 && m.type === 'MsgAppResp' && m.reject).length;
  // The rejection of (10, term 6) hints (10, term 3); the leader's last entry of term ≤ 3
  // is index 3, where the logs match: one round trip. One index at a time would take 7.
  t.is(rejects, 1);
});

// Reference: §5.5 — "If a follower or candidate crashes, then future RequestVote and
// AppendEntries RPCs sent to it will fail. Raft handles these failures by retrying
// indefinitely; if the crashed server restarts, then the RPC will complete successfully."
test('§5.5 a crashed follower catches up after it restarts', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  net.isolate(3);
  net.propose(1, 'a');
  net.stabilize();
  net.restart(3);
  net.heal();
  net.propose(1, 'b');
  net.get(1).node.tick();
  net.stabilize();
  t.deepEqual(appliedTexts(net.get(3)), ['a', 'b']);
  t.deepEqual(terms(net.get(3)), terms(net.get(1)));
});
