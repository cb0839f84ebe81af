// Watches against the store's history: every watcher receives exactly the events of
// its range from its start revision on — ordered, without duplicates or gaps, never a
// revision split across responses — even when it is slow (tiny buffers force it to
// catch up from history), unless compaction removed the history it needs, in which
// case it is canceled with the compact revision.
import test from 'ava';
import fc from 'fast-check';
import { isEtcdError } from '../../core/errors.js';
import { MemoryBackend } from '../../core/mvcc/backend.js';
import { keyOf } from '../../core/mvcc/keys.js';
import { MvccStore } from '../../core/mvcc/store.js';
import { WatchHub, type WatchResponse } from '../../core/watch/watchHub.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

function setup(maxBufferedEvents: number): { store: MvccStore; hub: WatchHub; index: { n: number } } {
  const holder: { hub: WatchHub | null } = { hub: null };
  const store = new MvccStore(new MemoryBackend(), { onEvents: (events, main) => holder.hub?.onEvents(events, main) });
  const hub = new WatchHub(store, { maxBufferedEvents, catchUpRevisionsPerStep: 3 });
  holder.hub = hub;
  return { store, hub, index: { n: 0 } };
}

type Step =
  | { kind: 'put'; key: string }
  | { kind: 'del'; key: string }
  | { kind: 'txn'; keys: string[] }
  | { kind: 'watch'; key: string; prefix: boolean; back: number }
  | { kind: 'take' }
  | { kind: 'compact'; back: number };

const key = fc.constantFrom('a', 'ab', 'b', 'c');
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('put' as const), key }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('del' as const), key }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('txn' as const), keys: fc.uniqueArray(key, { minLength: 1, maxLength: 3 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('watch' as const), key, prefix: fc.boolean(), back: fc.integer({ min: -1, max: 6 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('take' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), back: fc.integer({ min: 0, max: 5 }) }) },
);

interface Expectation { key: string; prefix: boolean; start: number; received: WatchResponse[]; canceledAt: number | null }

const exercised = { events: 0, caughtUp: 0, canceled: 0 };

test('watchers see exactly their history, slow or not', (t) => {
  fc.assert(fc.property(fc.array(step, { minLength: 20, maxLength: 120, size: 'max' }), fc.integer({ min: 1, max: 4 }), (steps, bufferLimit) => {
    const { store, hub, index } = setup(bufferLimit);
    const stream = hub.openStream();
    const watchers = new Map<number, Expectation>();
    /** Every event ever written: [revision, key, type]. */
    const history: [number, string, 'put' | 'delete'][] = [];
    let value = 0;
    const deliver = (): void => {
      for (const r of hub.take(stream)) {
        const w = watchers.get(r.watchId);
        if (w === undefined) continue;
        if (r.canceled) w.canceledAt = r.compactRevision;
        w.received.push(r);
      }
    };
    for (const s of steps) {
      switch (s.kind) {
        case 'put': {
          const r = store.put({ key: enc(s.key), value: enc(`v${value++}`) }, ++index.n);
          if (!isEtcdError(r)) history.push([r.revision, s.key, 'put']);
          break;
        }
        case 'del': {
          const r = store.deleteRange({ key: enc(s.key) }, ++index.n);
          if (!isEtcdError(r) && r.deleted > 0) history.push([r.revision, s.key, 'delete']);
          break;
        }
        case 'txn': {
          const r = store.txn({ compare: [], success: s.keys.map((k) => ({ put: { key: enc(k), value: enc(`t${value++}`) } })), failure: [] }, ++index.n);
          if (!isEtcdError(r)) for (const k of s.keys) history.push([r.revision, k, 'put']);
          break;
        }
        case 'watch': {
          const start = s.back < 0 ? 0 : Math.max(1, store.currentRevision() - s.back);
          const id = hub.watch(stream, { key: enc(s.key), ...(s.prefix ? { rangeEnd: enc(s.key.slice(0, -1) + String.fromCharCode(s.key.charCodeAt(s.key.length - 1) + 1)) } : {}), startRevision: start });
          watchers.set(id, { key: s.key, prefix: s.prefix, start: start === 0 ? store.currentRevision() + 1 : start, received: [], canceledAt: null });
          break;
        }
        case 'take':
          deliver();
          break;
        case 'compact': {
          const target = store.currentRevision() - s.back;
          store.compact({ revision: target }, ++index.n);
          break;
        }
      }
    }
    // Drain: slow watchers catch up a bounded step per take.
    for (let i = 0; i < 200; i++) deliver();
    if (hub.unsyncedCount() !== 0) throw new Error('watchers still catching up after draining');

    for (const [id, w] of watchers) {
      const matches = (k: string): boolean => (w.prefix ? k.startsWith(w.key) : k === w.key);
      const created = w.received[0];
      if (created?.created !== true) throw new Error(`watcher ${id}: first response is not "created"`);
      const events = w.received.flatMap((r) => r.events.map((e) => [e.kv.modRevision, dec(e.kv.key), e.type] as const));
      const expected = history.filter(([r, k]) => r >= w.start && matches(k));
      exercised.events += events.length;
      if (w.start <= store.currentRevision() - 2) exercised.caughtUp++;
      if (w.canceledAt !== null) {
        exercised.canceled++;
        // Canceled only because its history was compacted; what it got before is a prefix.
        if (w.start >= w.canceledAt) throw new Error(`watcher ${id} canceled though its start ${w.start} ≥ compaction ${w.canceledAt}`);
        if (JSON.stringify(events) !== JSON.stringify(expected.slice(0, events.length))) throw new Error(`watcher ${id}: not a prefix before cancel`);
        continue;
      }
      if (JSON.stringify(events) !== JSON.stringify(expected)) {
        throw new Error(`watcher ${id} from ${w.start}: got ${JSON.stringify(events)}, want ${JSON.stringify(expected)}`);
      }
      // Atomic: no revision's events are split between two responses.
      const seen = new Map<number, number>();
      w.received.forEach((r, i) => {
        for (const e of r.events) {
          const first = seen.get(e.kv.modRevision);
          if (first !== undefined && first !== i) throw new Error(`watcher ${id}: revision ${e.kv.modRevision} split across responses`);
          seen.set(e.kv.modRevision, i);
        }
      });
    }
  }), { numRuns: 500 });
  t.log(JSON.stringify(exercised));
  t.true(exercised.events > 2000 && exercised.caughtUp > 100 && exercised.canceled > 10, 'the schedules exercise replay, catch-up and cancel');
});

test('a watch from a compacted revision is canceled with the compact revision; from the compaction point it replays', (t) => {
  const { store, hub, index } = setup(1024);
  for (const v of ['1', '2', '3']) store.put({ key: enc('foo'), value: enc(v) }, ++index.n);
  store.compact({ revision: 3 }, ++index.n);
  const stream = hub.openStream();
  const old = hub.watch(stream, { key: enc('foo'), startRevision: 2 });
  const atCompaction = hub.watch(stream, { key: enc('foo'), startRevision: 3 });
  const out = hub.take(stream);
  const canceled = out.find((r) => r.watchId === old && r.canceled);
  t.is(canceled?.compactRevision, 3);
  const replay = out.find((r) => r.watchId === atCompaction && r.events.length > 0);
  t.deepEqual(replay?.events.map((e) => dec(e.kv.value)), ['2', '3'], 'revisions 3 and 4');
  t.is(keyOf('foo'), 'foo');
});

test('delete events carry only key and mod revision; prev_kv and filters are honoured', (t) => {
  const { store, hub, index } = setup(1024);
  const stream = hub.openStream();
  const all = hub.watch(stream, { key: enc('k'), prevKv: true });
  const noPut = hub.watch(stream, { key: enc('k'), filters: ['noPut'] });
  store.put({ key: enc('k'), value: enc('x') }, ++index.n);
  store.deleteRange({ key: enc('k') }, ++index.n);
  const out = hub.take(stream).filter((r) => r.events.length > 0);
  const allEvents = out.find((r) => r.watchId === all)?.events ?? [];
  t.deepEqual(allEvents.map((e) => e.type), ['put', 'delete']);
  const del = allEvents[1];
  t.deepEqual(del && [del.kv.version, del.kv.createRevision, del.kv.value.length, del.kv.modRevision], [0, 0, 0, 3]);
  t.is(del?.prevKv !== null && del?.prevKv !== undefined ? dec(del.prevKv.value) : null, 'x');
  t.deepEqual(out.find((r) => r.watchId === noPut)?.events.map((e) => e.type), ['delete']);
});

test('a progress request is answered (watch id -1) only once every watcher is synced', (t) => {
  const { store, hub, index } = setup(1);
  for (let i = 0; i < 10; i++) store.put({ key: enc('p'), value: enc(`${i}`) }, ++index.n);
  const stream = hub.openStream();
  hub.watch(stream, { key: enc('p'), startRevision: 2 });
  hub.requestProgress(stream);
  const first = hub.take(stream); // catch-up reads 3 revisions per step: not synced yet
  t.false(first.some((r) => r.watchId === -1));
  let answered: WatchResponse | undefined;
  for (let i = 0; i < 10 && answered === undefined; i++) answered = hub.take(stream).find((r) => r.watchId === -1);
  t.is(answered?.revision, store.currentRevision());
});

test('a watcher that is not drained stops buffering at its bound and falls back to history', (t) => {
  const { store, hub, index } = setup(2);
  const stream = hub.openStream();
  hub.watch(stream, { key: enc('s') });
  for (let i = 0; i < 10; i++) store.put({ key: enc('s'), value: enc(`${i}`) }, ++index.n);
  t.is(hub.unsyncedCount(), 1, 'over its buffer, the watcher is catching up instead of buffering');
  const values: string[] = [];
  for (let i = 0; i < 10; i++) for (const r of hub.take(stream)) values.push(...r.events.map((e) => dec(e.kv.value)));
  t.deepEqual(values, ['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  t.is(hub.unsyncedCount(), 0);
});

test('a watch on an empty or inverted range is created and canceled at once, as etcd\'s "watcher range is empty"', (t) => {
  const { hub } = setup(1024);
  const stream = hub.openStream();
  t.is(hub.watch(stream, { key: enc('d'), rangeEnd: enc('d') }), -1);
  t.is(hub.watch(stream, { key: enc('c'), rangeEnd: enc('b') }), -1);
  t.is(hub.watch(stream, { key: enc('b'), rangeEnd: enc('c') }), 0, 'a proper range is watched');
  t.is(hub.watch(stream, { key: enc('c'), rangeEnd: enc('\0') }), 1, 'range_end "\\0" is from the key on, not a range');
  const refused = hub.take(stream).filter((r) => r.watchId === -1);
  t.deepEqual(refused.map((r) => [r.created, r.canceled, r.cancelReason]), [
    [true, true, 'mvcc: watcher range is empty'], [true, true, 'mvcc: watcher range is empty'],
  ]);
});

test('a watch on a future revision hears no progress below its start, periodic or requested (etcd #20221, fixed in 3.6.2)', (t) => {
  const { store, hub, index } = setup(1024);
  store.put({ key: enc('f'), value: enc('0') }, ++index.n); // revision 2
  const stream = hub.openStream();
  const future = hub.watch(stream, { key: enc('f'), startRevision: 5, progressNotify: true });
  hub.take(stream); // the created response
  hub.notifyProgress();
  hub.requestProgress(stream);
  t.deepEqual(hub.take(stream), [], 'at revision 2 a watch from 5 hears nothing');
  store.put({ key: enc('f'), value: enc('1') }, ++index.n); // 3
  store.put({ key: enc('f'), value: enc('2') }, ++index.n); // 4: the store reached start - 1
  hub.notifyProgress();
  const heard = hub.take(stream).filter((r) => r.events.length === 0);
  t.deepEqual(heard.map((r) => [r.watchId, r.revision]), [[future, 4], [-1, 4]]);
});
