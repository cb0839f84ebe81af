// Members publish their name and client URLs through Raft (etcd's publish): an applied
// publish is replicated state on every member, replaced by a later one, dropped when the
// member is removed, carried in the snapshot image, and applied again when a restarted
// member replays its log over a backend that already holds those entries.
import test from 'ava';
import type { MemberAttributes } from '../../core/membership/attributes.js';
import { MAX_ATTRIBUTE_RECORDS } from '../../core/membership/attributes.js';
import { MemoryBackend } from '../../core/mvcc/backend.js';
import { encodeEnvelope } from '../../core/server/requests.js';
import { EtcdStateMachine } from '../../core/server/stateMachine.js';
import type { Entry } from '../../core/raft/types.js';

function machine(options: { backend?: MemoryBackend; seen?: MemberAttributes[] } = {}): EtcdStateMachine {
  return new EtcdStateMachine({
    minLeaseTtlSeconds: 1, clock: { nowMs: () => 0 }, onResult: () => undefined,
    ...(options.backend === undefined ? {} : { backend: options.backend }),
    onAttributes: (a) => { options.seen?.push(a); },
  });
}

function publish(index: number, attributes: MemberAttributes): Entry {
  const data = encodeEnvelope({ requestId: `p-${index}`, proposedAtMs: 0, request: { kind: 'memberAttributes', attributes } });
  return { index, term: 1, type: 'normal', data };
}

const a4 = { raftId: 4, name: 'infra4', clientUrls: ['http://127.0.0.1:4379'] };

test('a publish applies on every member that applies it; a later one replaces it; a removal drops it', (t) => {
  const seen: MemberAttributes[] = [];
  const m = machine({ seen });
  m.apply(publish(1, a4));
  m.apply(publish(2, { raftId: 5, name: 'infra5', clientUrls: [] }));
  m.apply(publish(3, { ...a4, clientUrls: ['http://10.0.0.4:2379'] }));
  t.deepEqual(m.attributes.get(4), { ...a4, clientUrls: ['http://10.0.0.4:2379'] });
  t.is(seen.length, 3, 'the host is told of each');
  m.applyConfChange({ type: 'removeVoter', nodeId: 5 }, 4);
  t.is(m.attributes.get(5), undefined);
  t.is(m.store.appliedIndex(), 3, 'a publish records its index like any request');
});

test('the attributes travel in the snapshot image and replace the restoring machine\'s', (t) => {
  const leader = machine();
  leader.apply(publish(1, a4));
  const follower = machine();
  follower.apply(publish(1, { raftId: 9, name: 'stale', clientUrls: [] }));
  follower.restore(leader.snapshot());
  t.deepEqual(follower.attributes.all(), [a4]);
});

test('a restart over a backend that holds the entries still learns the attributes from the replayed log', (t) => {
  const backend = new MemoryBackend();
  const first = machine({ backend });
  first.apply(publish(1, a4));
  const seen: MemberAttributes[] = [];
  const restarted = machine({ backend, seen });
  restarted.apply(publish(1, a4)); // the driver replays the log after the last snapshot
  t.deepEqual(restarted.attributes.all(), [a4]);
  t.deepEqual(seen, [a4]);
});

test(`records are bounded: at most ${MAX_ATTRIBUTE_RECORDS} members, the oldest goes first`, (t) => {
  const m = machine();
  for (let i = 1; i <= MAX_ATTRIBUTE_RECORDS + 1; i++) m.apply(publish(i, { raftId: i, name: `m${i}`, clientUrls: [] }));
  t.is(m.attributes.all().length, MAX_ATTRIBUTE_RECORDS);
  t.is(m.attributes.get(1), undefined);
  t.is(m.attributes.get(MAX_ATTRIBUTE_RECORDS + 1)?.name, `m${MAX_ATTRIBUTE_RECORDS + 1}`);
});

test('a publish with a malformed record changes nothing at apply (and stops no member)', (t) => {
  const m = machine();
  m.apply(publish(1, { raftId: 0, name: 'x', clientUrls: [] }));
  m.apply(publish(2, { raftId: 3, name: 'x', clientUrls: [7 as unknown as string] }));
  t.is(m.attributes.all().length, 0);
  t.is(m.store.appliedIndex(), 2, 'the entries still count as applied');
});
