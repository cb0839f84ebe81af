// The members' records are replicated state: the state machine keeps the latest
// conf-change context of each member added through Raft, drops it when the member is
// removed, and carries the records in its snapshot image (issue #15: a member that
// catches up by snapshot must learn of members added in compacted entries).
import test from 'ava';
import { EtcdStateMachine } from '../../core/server/stateMachine.js';

const machine = (): EtcdStateMachine => new EtcdStateMachine({ minLeaseTtlSeconds: 1, clock: { nowMs: () => 0 }, onResult: () => undefined });
const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (m: EtcdStateMachine): Record<string, string> =>
  Object.fromEntries([...m.memberContexts()].map(([id, c]) => [String(id), new TextDecoder().decode(c)]));

test('adds and updates keep the latest context; a removal drops it; a change without context keeps what was there', (t) => {
  const m = machine();
  m.applyConfChange({ type: 'addLearner', nodeId: 4, context: bytes('add 4') }, 10);
  m.applyConfChange({ type: 'addVoter', nodeId: 5, context: bytes('add 5') }, 11);
  m.applyConfChange({ type: 'addVoter', nodeId: 4, context: bytes('promote 4') }, 12);
  m.applyConfChange({ type: 'addVoter', nodeId: 5 }, 13);
  t.deepEqual(text(m), { 4: 'promote 4', 5: 'add 5' });
  m.applyConfChange({ type: 'removeVoter', nodeId: 5, context: bytes('remove 5') }, 14);
  t.deepEqual(text(m), { 4: 'promote 4' });
});

test('the records travel in the snapshot image and replace the restoring machine\'s', (t) => {
  const leader = machine();
  leader.applyConfChange({ type: 'addVoter', nodeId: 7, context: bytes('add 7') }, 20);
  const follower = machine();
  follower.applyConfChange({ type: 'addVoter', nodeId: 9, context: bytes('stale 9') }, 3);
  follower.restore(leader.snapshot());
  t.deepEqual(text(follower), { 7: 'add 7' });
});
