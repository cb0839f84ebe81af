// The checkers catch what they claim, and do not cry wolf: scripted member states
// stand in for a cluster.
import test from 'ava';
import type { Entry, Message, NodeId } from '../../core/raft/types.js';
import { message } from '../../core/raft/types.js';
import type { RaftView } from '../../core/raft/rawNode.js';
import { SafetyChecker } from '../../sim/safetyChecker.js';

interface Fake {
  view: RaftView;
  log: Entry[];
  durable: { term: number; vote: NodeId; lastIndex: number };
}

function world(ids: readonly NodeId[]): { checker: SafetyChecker; nodes: Map<NodeId, Fake> } {
  const nodes = new Map<NodeId, Fake>();
  for (const id of ids) {
    nodes.set(id, {
      view: { role: 'follower', term: 0, commit: 0, firstIndex: 1, lastIndex: 0 },
      log: [],
      durable: { term: 0, vote: 0, lastIndex: 0 },
    });
  }
  const get = (id: NodeId): Fake => {
    const fake = nodes.get(id);
    if (fake === undefined) throw new Error(`no node ${id}`);
    return fake;
  };
  const checker = new SafetyChecker({
    now: () => 1000,
    inspect: (id) => {
      const fake = get(id);
      return {
        status: fake.view,
        entry: (index: number) => (index < fake.view.firstIndex ? undefined : fake.log[index - fake.view.firstIndex]),
      };
    },
    durable: (id) => get(id).durable,
  });
  return { checker, nodes };
}

const entry = (index: number, term: number, text = `${index}/${term}`): Entry =>
  ({ index, term, type: 'normal', data: new TextEncoder().encode(text) });

function setLog(fake: Fake, log: Entry[]): void {
  fake.log = log;
  fake.view.lastIndex = log.length === 0 ? 0 : (log[log.length - 1]?.index ?? 0);
}

function only(node: Map<NodeId, Fake>, id: NodeId): Fake {
  const fake = node.get(id);
  if (fake === undefined) throw new Error('missing');
  return fake;
}

test('two leaders in one term', (t) => {
  const { checker, nodes } = world([1, 2]);
  for (const id of [1, 2]) {
    const fake = only(nodes, id);
    fake.view.role = 'leader';
    fake.view.term = 3;
    checker.afterEvent(id, false);
  }
  t.is(checker.violations[0]?.kind, 'electionSafety');
  t.is(checker.elections, 1);
});

test('a vote granted twice in a term, and a vote granted before it is durable', (t) => {
  const { checker, nodes } = world([1, 2, 3]);
  only(nodes, 1).durable = { term: 2, vote: 2, lastIndex: 0 };
  const grant = (to: NodeId): Message => message({ type: 'MsgVoteResp', from: 1, to, term: 2 });
  checker.onSend(grant(2));
  t.deepEqual(checker.violations, []);
  checker.onSend(grant(3));
  t.deepEqual(checker.violations.map((v) => v.kind), ['persistBeforeSend', 'doubleVote']);
});

test('an append ack beyond the durable log, and entries sent before the term is durable', (t) => {
  const { checker, nodes } = world([1, 2]);
  only(nodes, 2).durable = { term: 1, vote: 1, lastIndex: 4 };
  checker.onSend(message({ type: 'MsgAppResp', from: 2, to: 1, term: 1, index: 4 }));
  t.deepEqual(checker.violations, []);
  checker.onSend(message({ type: 'MsgAppResp', from: 2, to: 1, term: 1, index: 5 }));
  t.is(checker.violations[0]?.kind, 'persistBeforeSend');
  const second = world([1, 2]);
  only(second.nodes, 1).durable = { term: 1, vote: 1, lastIndex: 0 };
  second.checker.onSend(message({ type: 'MsgApp', from: 1, to: 2, term: 2, entries: [entry(1, 2)] }));
  t.is(second.checker.violations[0]?.kind, 'persistBeforeSend');
});

test('log matching: one (index, term), one entry — unless the first lived only in a crashed memory', (t) => {
  const { checker, nodes } = world([1, 2]);
  /** Member `id`, in term 2, holds entry (1, 1) and then (2, 2) with `data`. */
  const holds = (id: number, data: string): void => {
    const node = only(nodes, id);
    node.view.term = 2;
    setLog(node, [entry(1, 1), entry(2, 2, data)]);
    checker.afterEvent(id, true);
  };
  const leaderCrashes = (): void => { checker.onCrash({ id: 1, durableCommit: 0, durableLastIndex: 1 }); };
  holds(1, 'x');
  // The leader crashes before entry 2 is durable or sent anywhere: it is forgotten.
  leaderCrashes();
  holds(1, 'y');
  t.deepEqual(checker.violations, []);
  // Now a follower holds (2, 2, 'y'); a different entry at (2, 2) is a violation.
  holds(2, 'y');
  leaderCrashes();
  holds(1, 'z');
  t.is(checker.violations[0]?.kind, 'logMatching');
});

test('state machine safety: two different entries applied at one index', (t) => {
  const { checker } = world([1, 2]);
  checker.onApplied(1, entry(1, 1, 'a'));
  checker.onApplied(2, entry(1, 1, 'a'));
  t.deepEqual(checker.violations, []);
  checker.onApplied(2, entry(2, 1, 'b'));
  checker.onApplied(1, entry(2, 1, 'c'));
  t.is(checker.violations[0]?.kind, 'stateMachineSafety');
  t.is(checker.appliedMax, 2);
});

test('commit rule and commit regression', (t) => {
  const { checker, nodes } = world([1]);
  const leader = only(nodes, 1);
  leader.view = { role: 'leader', term: 3, commit: 0, firstIndex: 1, lastIndex: 0 };
  setLog(leader, [entry(1, 1), entry(2, 3)]);
  checker.afterEvent(1, false);
  leader.view.commit = 1; // an entry of term 1, counted by a leader of term 3
  checker.afterEvent(1, false);
  t.is(checker.violations[0]?.kind, 'commitRule');
  const again = world([1]);
  const node = only(again.nodes, 1);
  setLog(node, [entry(1, 1), entry(2, 1)]);
  node.view.term = 1;
  node.view.commit = 2;
  again.checker.afterEvent(1, false);
  node.view.commit = 1;
  again.checker.afterEvent(1, false);
  t.is(again.checker.violations[0]?.kind, 'commitRegressed');
});

test('a ReadIndex read below what was committed when it was issued is stale', (t) => {
  const { checker } = world([1]);
  checker.onReadServed({ id: 1, index: 5, committedWhenIssued: 5 });
  t.deepEqual(checker.violations, []);
  checker.onReadServed({ id: 1, index: 4, committedWhenIssued: 5 });
  t.is(checker.violations[0]?.kind, 'staleRead');
});
