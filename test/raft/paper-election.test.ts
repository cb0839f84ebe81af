// The Raft paper (Ongaro & Ousterhout, 2014), §5.1, §5.2 and §5.4.1, checked sentence
// by sentence as etcd-raft's raft_paper_test.go does. Each test has three parts:
// set up a cluster, act, and check what a bug would change.
import test from 'ava';
import type { Message } from '../../core/raft/types.js';
import { Network } from './harness.js';
import { isType, stepAndCollect, terms } from './paper-util.js';

function granted(sent: readonly Message[], type: 'MsgVoteResp' | 'MsgPreVoteResp'): boolean[] {
  return sent.filter((m) => m.type === type).map((m) => !m.reject);
}

// Reference: §5.1 — "If a server's current term is smaller than the other's, it updates
// its current term to the larger value. If a candidate or leader discovers that its term
// is out of date, it immediately reverts to follower state."
test('§5.1 a leader that sees a higher term reverts to follower and adopts the term', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  stepAndCollect(net, { type: 'MsgHeartbeat', from: 2, to: 1, term: 5 });
  const r = net.get(1).node.raft;
  t.is(r.role, 'follower');
  t.is(r.term, 5);
});

// Reference: §5.1 — same rule, for a candidate.
test('§5.1 a candidate that sees a higher term reverts to follower', (t) => {
  const net = new Network({ voters: [1, 2, 3], preVote: false });
  net.isolate(1);
  net.get(1).node.campaign();
  net.processReady(1);
  t.is(net.get(1).node.raft.role, 'candidate');
  stepAndCollect(net, { type: 'MsgApp', from: 2, to: 1, term: 4, index: 0, logTerm: 0 });
  t.is(net.get(1).node.raft.role, 'follower');
  t.is(net.get(1).node.raft.term, 4);
});

// Reference: §5.1 — "If a server receives a request with a stale term number, it rejects
// the request." The answer carries the newer term so that the stale leader steps down.
test('§5.1 a request with a stale term is rejected and answered with the current term', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.load(2, { terms: [1], term: 3 });
  const sent = stepAndCollect(net, {
    type: 'MsgApp', from: 1, to: 2, term: 2, index: 1, logTerm: 1,
    entries: [{ term: 2, index: 2, type: 'normal', data: new Uint8Array([1]) }],
  });
  t.deepEqual(terms(net.get(2)), [1], 'the stale append changed nothing');
  t.deepEqual(sent.map((m) => [m.type, m.term]), [['MsgAppResp', 3]]);
});

// Reference: §5.1 — a leader partitioned away while the others moved on learns the new
// term from the first answer to its heartbeat and steps down.
test('§5.1 a stale leader steps down when it rejoins', (t) => {
  const net = new Network({ voters: [1, 2, 3], checkQuorum: false });
  net.elect(1);
  net.isolate(1);
  net.elect(2);
  t.is(net.get(2).node.raft.term, 2);
  net.heal();
  net.get(1).node.tick(); // heartbeat at term 1
  net.stabilize();
  t.deepEqual(net.leaders(), [2]);
  t.is(net.get(1).node.raft.term, 2);
});

// Reference: §5.2 — "If a follower receives no communication over a period of time called
// the election timeout, then it assumes there is no viable leader and begins an election":
// it increments its term, votes for itself and asks every other server for its vote.
test('§5.2 a follower that hears nothing for an election timeout starts an election', (t) => {
  const net = new Network({ voters: [1, 2, 3], preVote: false });
  const n = net.get(1);
  let ticks = 0;
  while (n.node.raft.role === 'follower' && ticks < 100) {
    n.node.tick();
    ticks++;
  }
  t.true(ticks >= 10 && ticks < 20, `campaigned after ${ticks} ticks, expected within [e, 2e) = [10, 20)`);
  net.processReady(1);
  t.like(n.node.status(), { role: 'candidate', hardState: { term: 1, vote: 1, commit: 0 } });
  t.deepEqual(net.inFlight.filter(isType('MsgVote')).map((m) => [m.to, m.term]), [[2, 1], [3, 1]]);
});

// Reference: §5.2 — "A candidate wins an election if it receives votes from a majority of
// the servers in the full cluster for the same term." The others learn it from its appends.
test('§5.2 a candidate with a majority of votes becomes leader, and the others follow it', (t) => {
  const net = new Network({ voters: [1, 2, 3, 4, 5] });
  net.isolate(4);
  net.isolate(5);
  net.elect(1); // votes of 1, 2, 3: three of five
  t.deepEqual(net.leaders(), [1]);
  t.deepEqual([2, 3].map((id) => net.get(id).node.raft.lead), [1, 1]);
});

// Reference: §5.2 — and without a majority it does not.
test('§5.2 a candidate without a majority does not become leader', (t) => {
  const net = new Network({ voters: [1, 2, 3, 4, 5], preVote: false });
  net.isolate(3);
  net.isolate(4);
  net.isolate(5);
  net.elect(1); // votes of 1 and 2: two of five
  t.deepEqual(net.leaders(), []);
  t.is(net.get(1).node.raft.role, 'candidate');
});

// Reference: §5.2 — "Each server will vote for at most one candidate in a given term, on a
// first-come-first-served basis."
test('§5.2 a server votes for at most one candidate per term, first come first served', (t) => {
  const net = new Network({ voters: [1, 2, 3], preVote: false });
  const first = stepAndCollect(net, { type: 'MsgVote', from: 1, to: 3, term: 1 });
  const second = stepAndCollect(net, { type: 'MsgVote', from: 2, to: 3, term: 1 });
  const again = stepAndCollect(net, { type: 'MsgVote', from: 1, to: 3, term: 1 });
  t.deepEqual(
    [granted(first, 'MsgVoteResp'), granted(second, 'MsgVoteResp'), granted(again, 'MsgVoteResp')],
    [[true], [false], [true]], 'grant 1, refuse 2, grant 1 again (a retransmission)',
  );
  t.is(net.get(3).node.raft.vote, 1);
});

// Reference: §5.2 — the vote survives a crash: it is in the persistent state (Figure 2).
test('§5.2 a restarted server remembers its vote and does not vote twice in a term', (t) => {
  const net = new Network({ voters: [1, 2, 3], preVote: false });
  stepAndCollect(net, { type: 'MsgVote', from: 1, to: 3, term: 1 });
  net.restart(3);
  const second = stepAndCollect(net, { type: 'MsgVote', from: 2, to: 3, term: 1 });
  t.deepEqual(granted(second, 'MsgVoteResp'), [false]);
});

// Reference: §5.2 — "While waiting for votes, a candidate may receive an AppendEntries RPC
// from another server claiming to be leader. If the leader's term is at least as large as
// the candidate's current term, then the candidate recognizes the leader as legitimate and
// returns to follower state."
test('§5.2 a candidate that hears from a leader of its own term becomes its follower', (t) => {
  const net = new Network({ voters: [1, 2, 3], preVote: false });
  net.get(1).node.campaign();
  net.processReady(1);
  net.inFlight = [];
  t.is(net.get(1).node.raft.term, 1);
  stepAndCollect(net, { type: 'MsgApp', from: 2, to: 1, term: 1, index: 0, logTerm: 0 });
  t.like(net.get(1).node.status(), { role: 'follower', lead: 2, hardState: { term: 1, vote: 1, commit: 0 } });
});

// Reference: §5.2 — split votes: "if many followers become candidates at the same time,
// votes could be split so that no candidate obtains a majority. When this happens, each
// candidate will time out and start a new election by incrementing its term."
test('§5.2 a split vote elects nobody; the next election, in a later term, elects one leader', (t) => {
  const net = new Network({ voters: [1, 2, 3, 4], preVote: false });
  // 1 and 2 campaign at once; 3 hears only 1 first and 4 only 2 first.
  net.get(1).node.campaign();
  net.get(2).node.campaign();
  net.processReady(1);
  net.processReady(2);
  net.deliver((m) => (m.from === 1 && m.to === 3) || (m.from === 2 && m.to === 4));
  net.stabilize();
  t.deepEqual(net.leaders(), [], 'two votes each of four: no majority');
  // (Knowing it cannot win, each returns to follower at once, as etcd-raft does.)
  t.deepEqual([1, 2, 3, 4].map((id) => net.get(id).node.raft.term), [1, 1, 1, 1]);
  for (let i = 0; i < 40 && net.leaders().length === 0; i++) {
    net.tickAll();
    net.stabilize();
  }
  t.is(net.leaders().length, 1);
  const leader = net.leaders()[0] ?? 0;
  t.true(net.get(leader).node.raft.term >= 2);
});

// Reference: §5.2 — "Raft uses randomized election timeouts ... chosen randomly from a
// fixed interval": here [electionTicks, 2·electionTicks), drawn afresh at each term.
test('§5.2 election timeouts are randomized in [e, 2e) and differ between servers', (t) => {
  const net = new Network({ voters: [1, 2, 3, 4, 5, 6, 7, 8], preVote: false, seed: 42 });
  const timeouts: number[] = [];
  for (const n of net.nodes.values()) {
    let ticks = 0;
    while (n.node.raft.role === 'follower') {
      n.node.tick();
      ticks++;
    }
    timeouts.push(ticks);
  }
  t.true(timeouts.every((x) => x >= 10 && x < 20), `timeouts ${timeouts.join(',')}`);
  t.true(new Set(timeouts).size > 1, `timeouts ${timeouts.join(',')} are all the same`);
});

// Reference: §5.4.1 — "the voter denies its vote if its own log is more up-to-date than
// that of the candidate ... If the logs have last entries with different terms, then the
// log with the later term is more up-to-date. If the logs end with the same term, then
// whichever log is longer is more up-to-date."
test('§5.4.1 a voter grants only to candidates whose log is at least as up-to-date', (t) => {
  const cases: [lastTerm: number, lastIndex: number, grant: boolean][] = [
    [1, 5, false], // older last term, even if longer
    [2, 2, false], // same last term, shorter
    [2, 3, true], // same last term, same length
    [2, 4, true], // same last term, longer
    [3, 1, true], // later last term, even if shorter
  ];
  const results = cases.map(([logTerm, index], i) => {
    const net = new Network({ voters: [1, 2, 3], preVote: false });
    net.load(1, { terms: [1, 1, 2], term: 2 });
    return granted(stepAndCollect(net, { type: 'MsgVote', from: 2, to: 1, term: 3 + i, index, logTerm }), 'MsgVoteResp')[0];
  });
  t.deepEqual(results, cases.map((c) => c[2]));
});

// Reference: §5.4.1 — the restriction in a running cluster: a server that missed committed
// entries cannot be elected; one that has them can.
test('§5.4.1 a server missing committed entries cannot win; an up-to-date one can', (t) => {
  const net = new Network({ voters: [1, 2, 3], preVote: false, checkQuorum: false });
  net.elect(1);
  net.isolate(3);
  net.propose(1, 'committed');
  net.stabilize(); // committed on 1 and 2
  net.heal();
  net.isolate(1);
  net.elect(3);
  t.not(net.get(3).node.raft.role, 'leader', '2 refuses 3, whose log lacks the committed entry');
  net.elect(2);
  t.is(net.get(2).node.raft.role, 'leader');
  t.true(terms(net.get(3)).length >= 3, 'the new leader brought 3 up to date');
});

// Reference: §5.2 / thesis §9.6 — pre-vote does the same check without changing terms.
test('§5.4.1 pre-votes follow the same restriction', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.load(1, { terms: [1, 1, 2], term: 2 });
  const stale = stepAndCollect(net, { type: 'MsgPreVote', from: 2, to: 1, term: 3, index: 9, logTerm: 1 });
  const fresh = stepAndCollect(net, { type: 'MsgPreVote', from: 2, to: 1, term: 3, index: 3, logTerm: 2 });
  t.deepEqual([granted(stale, 'MsgPreVoteResp'), granted(fresh, 'MsgPreVoteResp')], [[false], [true]]);
  t.is(net.get(1).node.raft.term, 2, 'a pre-vote never changes the voter\'s term');
});
