// What a failing run's verdict names, for the page: the KV checker's minimal failing
// window (the few ops that cannot be linearized together, as `npm run check` and the
// real-cluster report give it, jepsen-like/checkers.ts) tied to the run's records and
// the event each op was invoked at; and the watch validator's first violation with the
// stream it names. Computed on the survey's finished world; reads only.

import { checkerNamed } from '../../jepsen-like/checkers.js';
import type { KvRecord } from '../kvWorkload.js';
import type { RecordedStream } from '../watchWorkload.js';
import type { WatchViolation } from '../../jepsen-like/watch/validate.js';

/** One op of the window, in the history's and the run's terms. */
export interface WindowOp {
  /** Its line in the history (1-based), as the checker and `npm run check` number it. */
  readonly line: number;
  readonly process: number;
  readonly member: number;
  /** `put k3=v7`, `range k0..l`, … (the survey's op text). */
  readonly text: string;
  /** The response as the history records it (JSON), or '' when it ended without one. */
  readonly response: string;
  readonly outcome: string;
  readonly callUs: number;
  readonly retUs: number | null;
  /** Its index in the run's records (the survey's op bars, when it is among the first OP_BARS_MAX), or null. */
  readonly record: number | null;
  /** The event index after which it was in the records: the event that invoked it. */
  readonly invokedAt: number;
}

export interface FailingWindow {
  /** The checker's words for what is impossible ('' when it gave none). */
  readonly reason: string;
  /** The window's ops, in invocation order. */
  readonly ops: readonly WindowOp[];
}

/** The first broken watch guarantee, with the stream it is about. */
export interface WatchFinding {
  readonly property: string;
  readonly message: string;
  /** The stream's index among the judged ones (the CLI's `stream N`). */
  readonly stream: number;
  readonly client: number;
  readonly member: number;
  readonly key: string;
  readonly rangeEnd: string;
  /** The revision the stream asked to start from, or null (from now). */
  readonly startRevision: number | null;
  readonly createdRevision: number;
  /** The response at fault (-1: the stream as a whole), its header revision and its events' mod revisions. */
  readonly response: number;
  readonly responseRevision: number | null;
  readonly eventRevisions: readonly number[];
  readonly openedUs: number;
  /** The first event at or after the moment the stream was opened. */
  readonly openedAt: number;
}

/** Window ops listed at most (the etcd fast path's culprits are a handful; a search's window is small too). */
const WINDOW_OPS_MAX = 50;
/** Events' revisions listed at most for the response at fault. */
const EVENT_REVISIONS_MAX = 20;

interface HistoryLine {
  readonly process: number;
  readonly call: number;
  readonly response?: unknown;
}

function isHistoryLine(value: unknown): value is HistoryLine {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return typeof v['process'] === 'number' && typeof v['call'] === 'number';
}

/**
 * The minimal failing window of an illegal history, or null when the history is not
 * illegal (or the second check ran out of budget). `invokedAt[i]` is the event after
 * which records[i] existed.
 */
export function failingWindow(history: string, run: {
  readonly records: readonly KvRecord[];
  readonly invokedAt: readonly number[];
  readonly describe: (record: KvRecord) => string;
  readonly timeoutMs: number;
}): FailingWindow | null {
  const checker = checkerNamed('etcd');
  if (checker === undefined) return null;
  const checked = checker(history, { timeoutMs: run.timeoutMs });
  if (checked.result.verdict !== 'illegal') return null;
  const explanation = checked.explain();
  const ids = new Set(explanation?.window ?? checked.result.failing.ops);
  const lines = history.split('\n');
  // A history process has one op at a time, so (process, call) names a record.
  const recordOf = new Map<string, number>();
  run.records.forEach((r, i) => { recordOf.set(`${r.process}:${r.call}`, i); });
  const ops: WindowOp[] = [];
  for (const op of checked.ops) {
    if (!ids.has(op.id) || ops.length >= WINDOW_OPS_MAX) continue;
    const parsed: unknown = JSON.parse(lines[op.line - 1] ?? 'null');
    if (!isHistoryLine(parsed)) continue;
    const index = recordOf.get(`${parsed.process}:${parsed.call}`);
    const record = index === undefined ? undefined : run.records[index];
    ops.push({
      line: op.line, process: parsed.process, member: record?.member ?? 0,
      text: record === undefined ? op.text : run.describe(record),
      response: parsed.response === undefined ? '' : JSON.stringify(parsed.response),
      outcome: record?.outcome ?? op.outcome, callUs: parsed.call, retUs: record?.ret ?? null,
      record: index ?? null, invokedAt: index === undefined ? 0 : run.invokedAt[index] ?? 0,
    });
  }
  ops.sort((a, b) => a.callUs - b.callUs || a.line - b.line);
  return { reason: explanation?.reason ?? checked.result.failing.reason ?? '', ops };
}

/** The first event index whose time is at or after `us` (times ascending, index 0 before the first event). */
export function firstEventAt(timesUs: Float64Array, us: number): number {
  let lo = 0;
  let hi = timesUs.length - 1;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((timesUs[mid] ?? 0) < us) lo = mid + 1; else hi = mid;
  }
  return lo;
}

/** The validator's first violation with its stream, or null when the streams are fine. */
export function watchFinding(first: WatchViolation | undefined, judged: readonly RecordedStream[], timesUs: Float64Array): WatchFinding | null {
  if (first === undefined) return null;
  const s = judged[first.stream];
  if (s === undefined) return null;
  const response = first.response >= 0 ? s.responses[first.response] : undefined;
  return {
    property: first.property, message: first.message, stream: first.stream, client: s.client, member: s.member,
    key: s.request.key, rangeEnd: s.request.rangeEnd ?? '',
    startRevision: s.request.startRevision === undefined || s.request.startRevision <= 0 ? null : s.request.startRevision,
    createdRevision: s.createdRevision, response: first.response, responseRevision: response?.revision ?? null,
    eventRevisions: (response?.events ?? []).slice(0, EVENT_REVISIONS_MAX).map((e) => e.kv.modRevision ?? 0),
    openedUs: s.openedUs, openedAt: firstEventAt(timesUs, s.openedUs),
  };
}
