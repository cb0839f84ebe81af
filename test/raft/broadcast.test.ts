// The leader's appends go out once per Ready (raft.ts broadcastPending): proposals that
// arrive while the previous Ready is being persisted reach each follower as one MsgApp,
// and a follower appends and acknowledges them once. What production's put c=256 on
// three members turned on: 2 MsgApps and 2 acks per put before, 2 per batch after.
import test from 'ava';
import { message, type Message } from '../../core/raft/types.js';
import { appliedTexts, Network } from './harness.js';

const appendsTo = (messages: readonly Message[], to: number): Message[] =>
  messages.filter((m) => m.type === 'MsgApp' && m.to === to);

test('proposals made while a Ready is outstanding reach each follower in one MsgApp', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  const leader = net.get(1).node;
  t.true(net.propose(1, 'first'));
  const writing = leader.ready(); // its write is in flight: no Ready until it is persisted
  t.is(appendsTo(writing.messages, 2).length, 1);
  for (const text of ['a', 'b', 'c', 'd']) t.true(net.propose(1, text));
  t.false(leader.hasReady(), 'no Ready while one is outstanding');
  net.inFlight.push(...writing.messages, ...net.completeReady(net.get(1), writing));

  const next = leader.ready();
  for (const follower of [2, 3]) {
    const appends = appendsTo(next.messages, follower);
    t.is(appends.length, 1, `one MsgApp to ${follower}`);
    t.deepEqual(appends[0]?.entries.map((e) => new TextDecoder().decode(e.data)), ['a', 'b', 'c', 'd']);
  }
  net.inFlight.push(...next.messages, ...net.completeReady(net.get(1), next));
  net.stabilize();
  for (const id of [1, 2, 3]) t.deepEqual(appliedTexts(net.get(id)), ['first', 'a', 'b', 'c', 'd']);
});

test('acknowledgements that advance the commit index twice before a Ready tell each follower once', (t) => {
  const net = new Network({ voters: [1, 2, 3, 4, 5] });
  net.elect(1);
  const acks: Message[] = [];
  for (const text of ['x', 'y']) {
    t.true(net.propose(1, text));
    net.processReady(1);
    // Only 2 and 3 get (and acknowledge) this entry now; 4 and 5 get theirs later.
    for (const follower of [2, 3]) {
      net.deliver((m) => m.to === follower);
      const n = net.get(follower);
      acks.push(...net.completeReady(n, n.node.ready()));
    }
  }
  const leader = net.get(1).node;
  // 2's and 3's acks of x commit x, then their acks of y commit y: two advances.
  for (const ack of acks) leader.step(ack);
  t.is(leader.raft.log.committed, leader.raft.log.lastIndex());
  const rd = leader.ready();
  for (const follower of [2, 3, 4, 5]) t.is(appendsTo(rd.messages, follower).length, 1, `one commit notice to ${follower}`);
  t.deepEqual(rd.committedEntries.map((e) => new TextDecoder().decode(e.data)), ['x', 'y']);
});

test('a broadcast asked for by a leader that stepped down before its Ready is not sent', (t) => {
  const net = new Network({ voters: [1, 2, 3] });
  net.elect(1);
  const leader = net.get(1).node;
  t.true(net.propose(1, 'lost'));
  // A higher term arrives before the Ready is taken: the proposal's append is never sent.
  leader.step(message({ type: 'MsgHeartbeat', from: 2, to: 1, term: leader.raft.term + 1 }));
  t.is(leader.raft.role, 'follower');
  t.deepEqual(leader.ready().messages.filter((m) => m.type === 'MsgApp'), []);
});
