// Persist before send (thesis §3.8 and Figure 3.1's note "updated on stable storage before
// responding to RPCs"), as RawNode's Ready contract expresses it: messages that promise
// durable state (vote grants, append acks, and the member's own vote and own append) are
// only obtainable from persisted(), after the driver made the Ready's state durable.
import test from 'ava';
import { MemoryStorage } from '../../core/raft/memoryStorage.js';
import { RawNode, type Ready } from '../../core/raft/rawNode.js';
import { message } from '../../core/raft/types.js';
import { InvariantError } from '../../core/util/invariant.js';
import { TestRandom } from './harness.js';

function member(id: number, voters: number[]): { node: RawNode; storage: MemoryStorage } {
  const storage = new MemoryStorage({ voters, learners: [] });
  return { node: new RawNode({ id, storage, random: new TestRandom(id) }), storage };
}

function persist(storage: MemoryStorage, rd: Ready): void {
  if (rd.snapshot !== null) storage.applySnapshot(rd.snapshot);
  storage.append(rd.entries);
  if (rd.hardState !== null) storage.setHardState(rd.hardState);
}

// Reference: thesis §3.8 — a vote is a promise: "servers must ... persist their vote before
// granting it". The grant leaves only with persisted(), with the vote in the hard state.
test('§3.8 a vote grant is only released by persisted(), after its hard state', (t) => {
  const { node, storage } = member(2, [1, 2, 3]);
  node.step(message({ type: 'MsgVote', from: 1, to: 2, term: 1 }));
  const rd = node.ready();
  t.deepEqual(rd.messages, [], 'nothing to send before the vote is durable');
  t.deepEqual(rd.hardState, { term: 1, vote: 1, commit: 0 });
  t.true(rd.mustSync);
  persist(storage, rd);
  const held = node.persisted(rd);
  t.deepEqual(held.map((m) => [m.type, m.to, m.reject]), [['MsgVoteResp', 1, false]]);
  node.advance(rd);
});

// Reference: thesis §3.8 — an append ack promises the entries are durable.
test('§3.8 an append acknowledgement is only released by persisted(), after its entries', (t) => {
  const { node, storage } = member(2, [1, 2, 3]);
  const entry = { term: 1, index: 1, type: 'normal' as const, data: new Uint8Array([7]) };
  node.step(message({ type: 'MsgApp', from: 1, to: 2, term: 1, index: 0, logTerm: 0, entries: [entry], commit: 0 }));
  const rd = node.ready();
  t.deepEqual(rd.entries.map((e) => [e.term, e.index]), [[1, 1]]);
  t.deepEqual(rd.messages, []);
  persist(storage, rd);
  t.deepEqual(node.persisted(rd).map((m) => [m.type, m.index, m.reject]), [['MsgAppResp', 1, false]]);
  node.advance(rd);
});

// Reference: thesis §3.8 — the same for a candidate's own vote: a single member becomes
// leader only once its term and self-vote are durable.
test('§3.8 a candidate counts its own vote only after persisting it', (t) => {
  const { node, storage } = member(1, [1]);
  const roles: string[] = [];
  node.campaign();
  for (let i = 0; i < 5 && node.hasReady(); i++) {
    const rd = node.ready();
    roles.push(`${node.raft.role}@${node.raft.term}`);
    persist(storage, rd);
    node.persisted(rd);
    roles.push(`persisted:${node.raft.role}@${node.raft.term}`);
    node.advance(rd);
  }
  // pre-vote (term stays 0) → candidate at term 1, vote durable → leader.
  t.deepEqual(roles.slice(0, 4), ['preCandidate@0', 'persisted:candidate@1', 'candidate@1', 'persisted:leader@1']);
});

// Reference: thesis §3.8 — the leader's own append counts toward the commit only once durable.
test('§3.8 a leader counts its own entry toward the commit only after persisting it', (t) => {
  const { node, storage } = member(1, [1]);
  node.campaign();
  while (node.hasReady()) {
    const rd = node.ready();
    persist(storage, rd);
    node.persisted(rd);
    node.advance(rd);
  }
  t.is(node.raft.role, 'leader');
  const before = node.raft.log.committed;
  t.true(node.propose(new Uint8Array([1])).ok);
  const rd = node.ready();
  t.is(node.raft.log.committed, before, 'not committed while only in memory');
  t.deepEqual(rd.committedEntries, []);
  persist(storage, rd);
  node.persisted(rd);
  t.is(node.raft.log.committed, before + 1);
  node.advance(rd);
});

// Reference: the Ready contract — advance() before persisted() would lose the held messages.
test('Ready contract: advance() before persisted() throws', (t) => {
  const { node } = member(2, [1, 2, 3]);
  node.step(message({ type: 'MsgVote', from: 1, to: 2, term: 1 }));
  const rd = node.ready();
  t.throws(() => {
    node.advance(rd);
  }, { instanceOf: InvariantError });
});

// Reference: the Ready contract — "two accepted Ready structs without call to Advance" (etcd panics).
test('Ready contract: a second ready() before advance() throws', (t) => {
  const { node } = member(2, [1, 2, 3]);
  node.step(message({ type: 'MsgVote', from: 1, to: 2, term: 1 }));
  node.ready();
  t.throws(() => node.ready(), { instanceOf: InvariantError });
});

// Reference: the Ready contract — persisted() only for the outstanding Ready, once.
test('Ready contract: persisted() twice, or of another Ready, throws', (t) => {
  const { node, storage } = member(2, [1, 2, 3]);
  node.step(message({ type: 'MsgVote', from: 1, to: 2, term: 1 }));
  const rd = node.ready();
  persist(storage, rd);
  t.throws(() => node.persisted({ ...rd }), { instanceOf: InvariantError });
  node.persisted(rd);
  t.throws(() => node.persisted(rd), { instanceOf: InvariantError });
});

// Reference: the Ready contract — an expected refusal is a typed result, not an exception.
test('Ready contract: a proposal with no leader is refused with a typed result', (t) => {
  const { node } = member(2, [1, 2, 3]);
  t.deepEqual(node.propose(new Uint8Array([1])), { ok: false, refusal: 'proposalDropped' });
  t.deepEqual(node.readIndex('r'), { ok: false, refusal: 'proposalDropped' });
});
