// The Observe state machine (core/concurrency/observer.ts), step by step: what it asks
// for, what it reports, and when it gives up — the sequence etcd's Election.Observe
// follows, fed by hand-made ranges and watch responses.
import test from 'ava';
import { LeaderObserver, type ObserverAction } from '../../core/concurrency/observer.js';
import type { KeyValue, RangeResponse } from '../../core/mvcc/types.js';
import type { WatchResponse } from '../../core/watch/watchHub.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);
const prefix = enc('chair/');

const kv = (key: string, value: string, createRevision: number, modRevision = createRevision): KeyValue => ({
  key: enc(key), value: enc(value), createRevision, modRevision, version: 1, lease: 5n,
});
const range = (revision: number, ...kvs: KeyValue[]): RangeResponse => ({ revision, kvs, more: false, count: kvs.length });
const events = (revision: number, ...evs: { type: 'put' | 'delete'; kv: KeyValue }[]): WatchResponse => ({
  watchId: 0, revision, created: false, canceled: false, compactRevision: 0, events: evs.map((e) => ({ ...e, prevKv: null })),
});
const describe = (a: ObserverAction): string => {
  switch (a.kind) {
    case 'range': return `range ${dec(a.request.key)} first-created`;
    case 'watch': return `watch ${dec(a.request.key)}${a.request.rangeEnd === undefined ? '' : '…'} from ${a.request.startRevision ?? 0}`;
    default: return a.kind;
  }
};

test('reports the leader, its proclamations, and after its key goes, the next leader', (t) => {
  const o = new LeaderObserver(prefix);
  t.is(describe(o.start()), 'range chair/ first-created');
  const found = o.onRange(range(9, kv('chair/a', 'alice', 4)));
  t.deepEqual(found.send.map((s) => [s.revision, dec(s.kv.value)]), [[9, 'alice']]);
  t.is(describe(found.next), 'watch chair/a from 10', 'follows the leader from the revision after the report');
  const proclaimed = o.onWatch(events(11, { type: 'put', kv: kv('chair/a', 'alice2', 4, 11) }));
  t.deepEqual(proclaimed.send.map((s) => [s.revision, dec(s.kv.value)]), [[11, 'alice2']]);
  t.is(proclaimed.next.kind, 'keep');
  // A proclamation and the resignation in one response: the put is reported, then it ranges again.
  const resigned = o.onWatch(events(13,
    { type: 'put', kv: kv('chair/a', 'alice3', 4, 12) },
    { type: 'delete', kv: kv('chair/a', '', 0, 13) },
    { type: 'put', kv: kv('chair/a', 'never read', 4, 13) }));
  t.deepEqual(resigned.send.map((s) => dec(s.kv.value)), ['alice3']);
  t.is(describe(resigned.next), 'range chair/ first-created');
  const next = o.onRange(range(13, kv('chair/b', 'bob', 6)));
  t.deepEqual(next.send.map((s) => [s.revision, dec(s.kv.key)]), [[13, 'chair/b']]);
  t.false(o.ended);
});

test('with nobody campaigning it awaits the first put under the prefix, reported at its own revision', (t) => {
  const o = new LeaderObserver(prefix);
  o.start();
  const none = o.onRange(range(20));
  t.deepEqual(none.send, []);
  t.is(describe(none.next), 'watch chair/… from 20');
  t.is(o.onWatch(events(21, { type: 'delete', kv: kv('chair/x', '', 0, 21) })).next.kind, 'keep', 'a delete names no leader');
  const elected = o.onWatch(events(23, { type: 'put', kv: kv('chair/c', 'carol', 22) }, { type: 'put', kv: kv('chair/d', 'dave', 23) }));
  t.deepEqual(elected.send.map((s) => [s.revision, dec(s.kv.key)]), [[22, 'chair/c']]);
  t.is(describe(elected.next), 'watch chair/c from 23');
});

test('a watch canceled by the server (compacted history) ends the stream; misuse is an invariant failure', (t) => {
  const o = new LeaderObserver(prefix);
  t.throws(() => o.onWatch(events(1)), { message: /while ranging/ });
  o.start();
  t.throws(() => o.start(), { message: /starts once/ });
  o.onRange(range(5, kv('chair/a', 'alice', 3)));
  t.throws(() => o.onRange(range(5)), { message: /while following/ });
  const ended = o.onWatch({ ...events(9), canceled: true, compactRevision: 8 });
  t.is(ended.next.kind, 'end');
  t.true(o.ended);
});
