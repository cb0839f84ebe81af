// Membership changes one server at a time (thesis §4.1, §4.2.1 for learners, called
// non-voting members there; §4.2.2 for removing the leader), and log compaction with
// InstallSnapshot (paper §7, Figure 12; thesis §5).
import test from 'ava';
import type { ConfChange, NodeId } from '../../core/raft/types.js';
import { Network, appliedTexts } from './harness.js';
import { isType } from './paper-util.js';

/** The configuration a joining member starts from (the voters before it joins). */
const BOOTSTRAP = { voters: [1, 2, 3], learners: [] };

function change(net: Network, leader: NodeId, c: ConfChange): void {
  const result = net.get(leader).node.proposeConfChange(c);
  if (!result.ok) throw new Error(`conf change refused: ${result.refusal}`);
  net.stabilize();
}

function committed(net: Network, id: NodeId): number {
  return net.get(id).node.raft.log.committed;
}

// Reference: thesis §4.1 — "the leader ... appends the new configuration to its log and
// replicates it"; "a server always uses the latest configuration in its log": once the
// new voter is in, it counts toward the quorum (three of four).
test('§4.1 add a voter: it receives the log, and then counts toward the quorum', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  net.addNode(4, BOOTSTRAP); // as it would be started to join (etcd: --initial-cluster-state existing)
  change(net, 1, { type: 'addVoter', nodeId: 4 });
  t.deepEqual([1, 2, 3, 4].map((id) => net.get(id).node.status().confState.voters), Array.from({ length: 4 }, () => [1, 2, 3, 4]));
  net.isolate(3);
  net.propose(1, 'x');
  net.stabilize();
  t.deepEqual(appliedTexts(net.get(4)), ['x'], 'committed with 1, 2 and 4');
  net.isolate(2);
  const before = committed(net, 1);
  net.propose(1, 'y');
  net.stabilize();
  t.is(committed(net, 1), before, 'two of four is not a quorum');
});

// Reference: thesis §4.1 — removing a voter shrinks the quorum: with 4 removed from
// {1,2,3,4}, members 1 and 2 alone (two of three) commit.
test('§4.1 remove a voter: the quorum shrinks to a majority of the rest', (t) => {
  const net = new Network({ voters: [1, 2, 3, 4] });
  net.elect(1);
  net.isolate(4);
  change(net, 1, { type: 'removeVoter', nodeId: 4 });
  t.deepEqual(net.get(1).node.status().confState.voters, [1, 2, 3]);
  net.isolate(3);
  net.propose(1, 'x');
  net.stabilize();
  t.deepEqual(appliedTexts(net.get(2)), ['x'], 'two of three voters suffice');
});

// Reference: thesis §4.1 — one change at a time: "the leader does not start a new
// configuration change until the previous one has been committed" (applied, here).
test('§4.1 a second membership change is refused while the first is pending', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  net.isolate(2);
  net.isolate(3); // the first change cannot commit
  t.true(net.get(1).node.proposeConfChange({ type: 'addLearner', nodeId: 4 }).ok);
  t.deepEqual(net.get(1).node.proposeConfChange({ type: 'addLearner', nodeId: 5 }), { ok: false, refusal: 'confChangePending' });
});

// Reference: thesis §4.2.1 — new servers join "as non-voting members: the leader replicates
// log entries to them, but they are not yet counted towards majorities".
test('§4.2.1 a learner receives the log but does not count toward the commit quorum', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  net.addNode(4, BOOTSTRAP);
  change(net, 1, { type: 'addLearner', nodeId: 4 });
  t.deepEqual(net.get(1).node.status().confState, { voters: [1, 2, 3], learners: [4] });
  const before = committed(net, 1);
  // Leader and learner on one side: were the learner counted, two acks would look like a
  // majority of three.
  net.partition([1, 4], [2, 3]);
  net.propose(1, 'x');
  net.stabilize();
  t.is(net.get(4).node.status().lastIndex, net.get(1).node.status().lastIndex, 'the learner has the entry');
  t.is(committed(net, 1), before, 'leader + learner is not a quorum of three voters');
});

// Reference: thesis §4.2.1 — learners are not voters: they never campaign and are never
// asked for a vote.
test('§4.2.1 a learner never campaigns and is never asked to vote', (t) => {
  const net = new Network({ voters: [1, 2, 3], learners: [4] });
  net.elect(1);
  net.isolate(1);
  net.trace = [];
  for (let i = 0; i < 60; i++) {
    for (const id of [2, 3, 4]) net.get(id).node.tick();
    net.stabilize();
  }
  t.is(net.get(4).node.raft.role, 'follower');
  t.deepEqual(net.trace.filter((m) => m.from === 4 && (m.type === 'MsgVote' || m.type === 'MsgPreVote')), []);
  t.deepEqual(net.trace.filter((m) => m.to === 4 && (m.type === 'MsgVote' || m.type === 'MsgPreVote')), []);
  const newLeaders = net.leaders().filter((id) => id !== 1);
  t.true(newLeaders.length === 1 && (newLeaders[0] === 2 || newLeaders[0] === 3), `new leader ${newLeaders.join()}`);
});

// Reference: thesis §4.2.1 — "once the new server is caught up ... the reconfiguration can
// proceed": promoting the learner makes it a voter that can itself be elected.
test('§4.2.1 a promoted learner becomes a voter that can be made leader', (t) => {
  const net = new Network({ voters: [1, 2, 3], learners: [4] });
  net.elect(1);
  net.get(1).node.transferLeader(4);
  net.stabilize();
  t.deepEqual(net.leaders(), [1], 'a learner cannot take over');
  change(net, 1, { type: 'addVoter', nodeId: 4 });
  t.deepEqual(net.get(4).node.status().confState, { voters: [1, 2, 3, 4], learners: [] });
  net.get(1).node.transferLeader(4);
  net.stabilize();
  t.deepEqual(net.leaders(), [4], 'the promoted voter wins with the votes of the others');
});

// Reference: thesis §4.2.2 — "the leader steps down (returns to follower state) once the
// configuration entry that removes it is committed"; the rest elect a new leader.
test('§4.2.2 a removed leader steps down and the remaining voters elect a new one', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  change(net, 1, { type: 'removeVoter', nodeId: 1 });
  t.is(net.get(1).node.raft.role, 'follower');
  t.deepEqual(net.get(2).node.status().confState.voters, [2, 3]);
  for (let i = 0; i < 30 && net.leaders().length === 0; i++) {
    net.tickAll();
    net.stabilize();
  }
  t.is(net.leaders().length, 1);
  t.not(net.leaders()[0], 1);
  t.true(net.propose(net.leaders()[0] ?? 0, 'after'));
  net.stabilize();
  t.deepEqual(appliedTexts(net.get(3)), ['after']);
});

// Reference: paper §7, Figure 12 — "the leader must occasionally send snapshots to
// followers that lag behind ... when the leader has already discarded the next log entry
// that it needs to send to a follower."
test('§7 a follower behind the compacted log is sent InstallSnapshot and catches up', (t) => {
  const net = behindCompaction(10, new TextEncoder().encode('state@11'));
  t.is(net.get(1).storage.firstIndex(), 12, 'the leader compacted its 11 applied entries');
  net.trace = [];
  net.get(1).node.tick(); // heartbeat: 3 answers, the leader finds its entries compacted
  net.stabilize();
  t.deepEqual(net.trace.filter(isType('MsgSnap')).map((m) => [m.to, m.snapshot?.metadata.index]), [[3, 11]]);
  t.like(net.get(3).node.status(), { firstIndex: 12, lastIndex: 11, hardState: { commit: 11 } });
  net.propose(1, 'after');
  net.stabilize();
  t.deepEqual(appliedTexts(net.get(3)), ['after'], 'replication resumes after the snapshot');
});

/**
 * 3 misses `proposals` entries that the leader (1) then compacts away into a snapshot
 * holding `image`; returns the network, healed.
 */
function behindCompaction(proposals = 5, image = new Uint8Array(0)): Network {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  net.isolate(3);
  for (let i = 0; i < proposals; i++) net.propose(1, `v${i}`);
  net.stabilize();
  const leader = net.get(1);
  const applied = leader.node.raft.log.applied;
  leader.storage.createSnapshot(applied, leader.node.status().confState, image);
  leader.storage.compact(applied);
  net.heal();
  return net;
}

// Reference: paper §7 — a snapshot is only for a follower that needs compacted entries:
// one that is behind, but not past the compaction point, gets ordinary appends.
test('§7 a follower behind, but not behind the compacted log, gets appends, not a snapshot', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  net.propose(1, 'a');
  net.stabilize();
  net.isolate(3);
  net.propose(1, 'b');
  net.stabilize();
  const leader = net.get(1);
  leader.storage.createSnapshot(2, leader.node.status().confState, new Uint8Array(0));
  leader.storage.compact(2); // 3 holds index 2; it needs only 3 onwards
  net.heal();
  net.trace = [];
  net.get(1).node.tick();
  net.stabilize();
  t.deepEqual(net.trace.filter(isType('MsgSnap')), []);
  t.deepEqual(appliedTexts(net.get(3)), ['a', 'b']);
});

// Reference: paper §7 with etcd's ReportSnapshot contract — a snapshot that was lost in
// transit is sent again once the driver reports the failure and the follower is heard from.
test('§7 a lost snapshot is sent again after the driver reports the failure', (t) => {
  const net = behindCompaction();
  net.trace = [];
  net.get(1).node.tick();
  for (let i = 0; i < 10 && !net.inFlight.some(isType('MsgSnap')); i++) {
    for (const id of [1, 2, 3]) net.processReady(id);
    net.deliver((m) => m.type !== 'MsgSnap');
  }
  t.is(net.inFlight.filter(isType('MsgSnap')).length, 1);
  net.inFlight = net.inFlight.filter((m) => m.type !== 'MsgSnap'); // lost
  net.stabilize();
  t.is(net.get(3).node.status().lastIndex, 1, 'still behind');
  net.get(1).node.reportSnapshot(3, false);
  net.get(1).node.tick(); // heartbeat; its answer lets the leader retry
  net.stabilize();
  t.is(net.trace.filter(isType('MsgSnap')).length, 2);
  t.is(net.get(3).node.status().lastIndex, net.get(1).node.status().lastIndex);
});
