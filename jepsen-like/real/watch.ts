// The watch workload: per member, a watcher on the kv keys ([k, l)) with prev_kv and
// progress notifications, asking for progress every second. A stream that ends (its
// member killed, a lost connection) is resumed by a new one from the revision after the
// last one it vouched for (its last event or progress notification), as clients do.
//
// The verdict is the existing watch validator (jepsen-like/watch/validate.ts): every
// stream against the event log of the linearization the checker's fast path found
// (ordered, unique, atomic, reliable, bookmarkable, contents). Without that
// linearization there is no ground truth and the verdict is unknown.

import type { EtcdClient, Wire } from './client.js';
import { bytes, keyValue, num, revisionOf } from './client.js';
import { revisionDirectedCheck, type FastPathResult } from '../etcd/fast-path.js';
import { parseEtcdHistory } from '../etcd/parse.js';
import { NO_WATCH_FACTS, watchFactsOf, type WatchFacts } from '../etcd/watchFacts.js';
import type { KeyValue } from '../etcd/types.js';
import type { RecordedEvent, WatchResponse, WatchStream, WatchViolation } from '../watch/validate.js';
import { validateWatches } from '../watch/validate.js';

const KEY = 'k';
const RANGE_END = 'l';
const PROGRESS_EVERY_MS = 100;
/** A stream that has said nothing for this long (its member paused or cut off) is given up and resumed. */
const SILENT_MS = 3000;
/** Responses kept per run: beyond, the watcher stops recording (and says so). */
const MAX_RESPONSES = 200_000;

export interface Watcher {
  readonly name: string;
  readonly client: EtcdClient;
  /** What it watches: [key, rangeEnd) (the kv keys unless set: the kubernetes workload's pods). */
  readonly key?: string;
  readonly rangeEnd?: string;
  readonly streams: MutableStream[];
  /** Highest revision any of its streams vouched for (or, after a cancel for compaction, the compact revision - 1). */
  vouched: number;
}

interface MutableStream {
  readonly request: WatchStream['request'];
  createdRevision: number;
  readonly responses: WatchResponse[];
}

const sleep = (ms: number): Promise<void> => new Promise((done) => { setTimeout(done, ms); });

function recordedEvent(e: Wire): RecordedEvent {
  const kv = keyValue(e['kv']);
  const type = e['type'] === 'DELETE' ? 'delete' : 'put';
  // A delete event carries only the key and the deletion's revision.
  const partial: Partial<KeyValue> = type === 'delete' ? { key: kv.key, modRevision: kv.modRevision } : kv;
  const prev = e['prev_kv'];
  return { type, kv: partial, prevKv: prev === null || prev === undefined ? null : keyValue(prev) };
}

/** One stream from `start` until it ends, goes silent, or `stop`; its record is added to the watcher's. */
function watchOnce(w: Watcher, start: number, stop: () => boolean, total: () => number): Promise<void> {
  const stream = w.client.watchStream();
  const [key, rangeEnd] = [w.key ?? KEY, w.rangeEnd ?? RANGE_END];
  const record: MutableStream = { request: { key, rangeEnd, startRevision: start, prevKv: true }, createdRevision: 0, responses: [] };
  w.streams.push(record);
  let heard = performance.now();
  return new Promise((resolve) => {
    const timer = setInterval(() => {
      if (stop() || performance.now() - heard > SILENT_MS) finish();
      else stream.write({ progress_request: {} });
    }, PROGRESS_EVERY_MS);
    const finish = (): void => { clearInterval(timer); stream.cancel(); resolve(); };
    stream.on('data', (r: Wire) => {
      heard = performance.now();
      if (r['created'] === true) { record.createdRevision = revisionOf(r); return; }
      if (total() >= MAX_RESPONSES) return;
      const events = ((r['events'] ?? []) as Wire[]).map(recordedEvent);
      const canceled = r['canceled'] === true;
      const response: WatchResponse = {
        revision: revisionOf(r), events,
        ...(events.length === 0 && !canceled ? { progress: true } : {}),
        ...(canceled ? { canceled: true, compactRevision: num(r['compact_revision']) } : {}),
      };
      record.responses.push(response);
      w.vouched = Math.max(w.vouched, events.length > 0 ? Math.max(...events.map((e) => e.kv.modRevision ?? 0)) : response.revision);
      // Canceled for compaction: resume where history starts, as clients do (the events below are gone).
      if (canceled && response.compactRevision !== undefined && response.compactRevision > w.vouched + 1) w.vouched = response.compactRevision - 1;
      if (canceled) finish();
    });
    stream.on('error', finish);
    stream.on('end', finish);
    stream.write({ create_request: { key: bytes(key), range_end: bytes(rangeEnd), start_revision: String(start), prev_kv: true, progress_notify: true } });
  });
}

/** Watches until `stop`, resuming after every ended stream. */
export async function driveWatcher(w: Watcher, stop: () => boolean): Promise<void> {
  const total = (): number => w.streams.reduce((n, s) => n + s.responses.length, 0);
  while (!stop()) {
    await watchOnce(w, w.vouched + 1, stop, total);
    if (!stop()) await sleep(200);
  }
}

export interface WatchVerdict {
  /** null: the history has no linearization from the fast path, so no ground truth. */
  readonly ok: boolean | null;
  readonly streams: number;
  readonly events: number;
  readonly violations: readonly WatchViolation[];
  readonly note?: string;
}

/**
 * Revisions an acknowledged write names as its own. The others were made by writes whose
 * outcome is unknown (or by lease expiries), and the history alone may not say which:
 * two unknown deletes can fill revisions 66 and 68 in either order, and the fast path
 * picks one. A watch that saw the other order is right, not wrong.
 */
function claimedRevisions(historyText: string): Set<number> {
  const claimed = new Set<number>();
  for (const op of parseEtcdHistory(historyText)) {
    const r = op.output;
    if (op.outcome !== 'ok' || r === undefined || typeof r['revision'] !== 'number' || r['error'] !== undefined) continue;
    const wrote = op.input.type === 'put' || (op.input.type === 'delete' && r['deleted'] !== 0)
      || (op.input.type === 'txn' && r['succeeded'] === true && op.input.success.some((o) => o.type !== 'range'));
    if (wrote) claimed.add(r['revision']);
  }
  return claimed;
}

/** The revisions a violation is about: its response's events, or the one its message names. */
function revisionsOf(v: WatchViolation, streams: readonly WatchStream[]): number[] {
  const response = streams[v.stream]?.responses[v.response];
  if (response !== undefined) return response.events.map((e) => e.kv.modRevision ?? 0);
  return [...v.message.matchAll(/at (?:revision )?(\d+)/g)].map((m) => Number(m[1]));
}

/**
 * A linearization of the history that also agrees with everything the streams heard
 * (the fast path directed by the watch facts). Found, it is a linearization of the
 * history alone too — the facts only narrow the search — so an `ok` here decides a
 * history the checker gave up on; an `illegal` here says nothing about the history alone.
 */
export function linearizeWithStreams(historyText: string, recorded: readonly WatchStream[], timeoutMs: number): FastPathResult {
  const streams = recorded.filter((s) => s.createdRevision > 0);
  const linearize = budgeted(parseEtcdHistory(historyText), timeoutMs);
  const heard = watchFactsOf(streams);
  const full = linearize(heard, 0.5);
  return full.verdict === 'ok' ? full : linearize({ ...heard, spans: [] }, 1);
}

/**
 * The fast path on `history` within `timeoutMs` in all: each call may use `share` of the
 * time still left, so that a search that blows up on one set of facts (the silences of
 * many streams multiply the candidate fillers) leaves time for the next.
 */
function budgeted(history: ReturnType<typeof parseEtcdHistory>, timeoutMs: number): (facts: WatchFacts, share: number) => FastPathResult {
  const now = (): number => performance.now();
  const end = now() + timeoutMs;
  return (watchFacts, share) => {
    const deadline = now() + Math.max(0, end - now()) * share;
    return revisionDirectedCheck(history, { budget: { now, deadline }, watchFacts });
  };
}

/**
 * Every stream against the event log of a linearization of the history that also
 * agrees with what the streams heard (etcd/watchFacts.ts): where the history alone
 * cannot say which unknown write made a revision, the events can. When no
 * linearization agrees with them, the streams heard what no run of the history
 * could have produced: a violation.
 */
export function judgeWatches(historyText: string, recorded: readonly WatchStream[], compactedTo = 0, timeoutMs = 60_000): WatchVerdict {
  // A stream that never got its created response has nothing to check.
  const streams = recorded.filter((s) => s.createdRevision > 0);
  const events = streams.reduce((n, s) => n + s.responses.reduce((m, r) => m + r.events.length, 0), 0);
  // Bounded as the linearizability verdict is: out of time, the fast path is inconclusive and the verdict unknown.
  const linearize = budgeted(parseEtcdHistory(historyText), timeoutMs);
  // With every fact first; when the streams contradict one another (one missed what another
  // heard) or the silences make the search too big, without the silences, so that the
  // validator can name the stream at fault.
  const heard = watchFactsOf(streams);
  let facts = heard;
  let fast = linearize(facts, 0.5);
  // Out of time with the silences (not refuted by them): a linearization found without them
  // may put an unknown write where every stream heard nothing, so a disagreement with it
  // proves nothing, while an agreement still shows a run the streams fit.
  const silencesUntried = fast.verdict === 'inconclusive';
  if (fast.verdict !== 'ok') fast = linearize((facts = { ...heard, spans: [] }), 0.5);
  if (fast.verdict === 'illegal' && linearize(NO_WATCH_FACTS, 1).verdict === 'ok') {
    const violation: WatchViolation = { stream: -1, response: -1, property: 'contents', message: `the events fit no linearization of the history: ${fast.reason}` };
    return { ok: false, streams: streams.length, events, violations: [violation] };
  }
  if (fast.verdict === 'inconclusive') {
    // No time to bind the events to their writers: compare with the history's own
    // linearization; its unclaimed revisions then stay ambiguous (claimed below).
    const plain = linearize(NO_WATCH_FACTS, 1);
    if (plain.verdict === 'ok') [facts, fast] = [NO_WATCH_FACTS, plain];
  }
  if (fast.verdict !== 'ok') return { ok: null, streams: streams.length, events, violations: [], note: `no linearization to compare with (fast path: ${fast.verdict})` };
  const violations = validateWatches(fast.store.events, streams, compactedTo > 0 ? { compactRevision: compactedTo } : {});
  // A revision the streams heard has its writer fixed by the facts, as an acknowledged write's is.
  const claimed = new Set([...claimedRevisions(historyText), ...facts.puts.map((p) => p.revision), ...facts.deletes.map((d) => d.revision)]);
  // Only reliable and contents compare with the log; the rest are the stream's own.
  const againstLog = (v: WatchViolation): boolean => v.property === 'reliable' || v.property === 'contents';
  const certain = violations.filter((v) => !againstLog(v) || (!silencesUntried && revisionsOf(v, streams).every((r) => claimed.has(r))));
  const ambiguous = violations.length - certain.length;
  const why = silencesUntried
    ? 'with a linearization found without the streams\' silences (the search with them ran out of time)'
    : 'at revisions only unknown-outcome writes explain (the history cannot say which made them)';
  const note = ambiguous === 0 ? {} : { note: `${ambiguous} disagreements ${why}` };
  const ok = certain.length > 0 ? false : ambiguous > 0 ? null : true;
  return { ok, streams: streams.length, events, violations: certain.slice(0, 50), ...note };
}
