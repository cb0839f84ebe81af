// Watch clients in the KV workload: streams opened on members, resumed after crashes
// and leaderless members, re-opened after compaction, judged by the watch validator
// against the committed changes — and the judge is not vacuous.
import test from 'ava';
import { validateWatches } from '../../jepsen-like/watch/validate.js';
import type { WatchResponse } from '../../jepsen-like/watch/validate.js';
import type { RunResult, WatchRecord } from '../../sim/run.js';
import { runSimulation } from '../../sim/run.js';
import type { RecordedStream } from '../../sim/watchWorkload.js';

function watchRun(seed: number): { result: RunResult; record: WatchRecord } {
  let record: WatchRecord = { streams: [], truth: [] };
  const result = runSimulation({
    seed, nodes: 5, timeMs: 5000, faults: 'swarm', workload: 'kv', checkTimeoutMs: 5000,
    onWatches: (r) => { record = r; },
  });
  return { result, record };
}

// Seeds whose draws meet a compaction cancel too (the last of them): a re-list from the past.
const runs = [1, 2, 3, 5].map(watchRun);

test('watch streams under swarm faults keep etcd\'s guarantees', (t) => {
  for (const { result } of runs) {
    t.is(result.watch, 'ok', `seed ${result.seed}: ${JSON.stringify(result.kv?.watch_detail)}`);
    t.true((result.kv?.watch_streams ?? 0) > 0, `seed ${result.seed}: no stream was judged`);
  }
});

test('the slice is not vacuous: events, progress, resumed streams, prev_kv, broken streams', (t) => {
  const streams = runs.flatMap(({ record }) => record.streams.filter((s) => s.created));
  const events = streams.reduce((n, s) => n + s.responses.reduce((m, r) => m + r.events.length, 0), 0);
  t.true(events > 50, `only ${events} events`);
  t.true(streams.some((s) => s.responses.some((r) => r.progress === true)), 'no progress notification');
  t.true(streams.some((s) => (s.request.startRevision ?? 0) > 0), 'no stream from a past revision');
  t.true(streams.some((s) => s.request.prevKv === true && s.responses.some((r) => r.events.some((e) => e.prevKv !== undefined && e.prevKv !== null))),
    'no prev_kv delivered');
  t.true(streams.some((s) => s.closeReason === 'member crashed'), 'no stream broke on a crash');
  t.true(streams.some((s) => s.responses.some((r) => r.canceled === true && (r.compactRevision ?? 0) > 0)), 'no compaction cancel');
});

/** The first judged stream with at least `n` event responses, with its run's ground truth. */
function busyStream(n: number): { stream: RecordedStream; record: WatchRecord } {
  for (const { record } of runs) {
    const stream = record.streams.find((s) => s.created && s.responses.filter((r) => r.events.length > 0).length >= n);
    if (stream !== undefined) return { stream, record };
  }
  throw new Error('no busy stream');
}

test('the judge is not vacuous: a dropped, duplicated or altered event is caught', (t) => {
  const { stream, record } = busyStream(3);
  t.deepEqual(validateWatches(record.truth, [stream]), []);
  const withEvents = stream.responses.map((r, i) => ({ r, i })).filter(({ r }) => r.events.length > 0);
  const second = withEvents[1]?.i ?? -1;
  const tampered = (responses: WatchResponse[]): RecordedStream => ({ ...stream, responses });
  const dropped = stream.responses.filter((_, i) => i !== second);
  t.true(validateWatches(record.truth, [tampered(dropped)]).some((v) => v.property === 'reliable'), 'a gap');
  const target = stream.responses[second];
  if (target === undefined) return t.fail();
  const duplicated = [...stream.responses.slice(0, second + 1), target, ...stream.responses.slice(second + 1)];
  t.true(validateWatches(record.truth, [tampered(duplicated)]).some((v) => v.property === 'unique'), 'a duplicate');
  const event = target.events[0];
  if (event === undefined) return t.fail();
  const altered = stream.responses.map((r, i) => i !== second ? r
    : { ...r, events: [{ ...event, kv: { ...event.kv, value: `${event.kv.value ?? ''}!` } }, ...r.events.slice(1)] });
  t.true(validateWatches(record.truth, [tampered(altered)]).some((v) => v.property === 'contents'), 'a wrong value');
});

test('the ground truth is in revision order and not empty', (t) => {
  for (const { record } of runs) {
    const revisions = record.truth.map((e) => e.revision);
    t.deepEqual(revisions, [...revisions].sort((a, b) => a - b));
    t.true(revisions.length > 0);
  }
});

test('the same seed records the same watch streams', (t) => {
  const again = watchRun(2);
  const first = runs[1];
  if (first === undefined) return t.fail();
  t.is(JSON.stringify(again.record.streams), JSON.stringify(first.record.streams));
  t.is(again.result.trace_hash, first.result.trace_hash);
});
