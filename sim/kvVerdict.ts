// The KV workload's verdicts at the end of a run: the clients' history checked for
// linearizability by the etcd model (exactly as `npm run check -- --model etcd` would),
// and the watch streams checked by the watch validator against the committed changes.
// (The global `performance`, not node:perf_hooks: the viewer runs these verdicts in the browser too.)

import { checkEtcdHistory } from '../jepsen-like/etcd/check.js';
import { parseEtcdHistory } from '../jepsen-like/etcd/parse.js';
import type { WatchProperty } from '../jepsen-like/watch/validate.js';
import type { SafetyChecker } from './safetyChecker.js';
import type { KvWorkload, KvWorkloadOptions } from './kvWorkload.js';
import type { RecordedStream, WatchWorkload, WatchWorkloadOptions } from './watchWorkload.js';
import type { StoreEvent } from '../jepsen-like/etcd/store.js';
import { checkStaleReads } from './staleReads.js';
import type { WatchTruth } from './watchTruth.js';

/** The KV workload's verdict (only with `--workload kv`). */
export interface KvResult {
  readonly kv_options: KvWorkloadOptions;
  readonly ops_ok: number;
  readonly ops_fail: number;
  readonly ops_unknown: number;
  /** Stale (serializable) gets answered: not in the linearizability check, checked by staleReads.ts. */
  readonly stale_reads: number;
  /** Short leases the leader revoked on expiry (server ops in the history), and keep-alives sent. */
  readonly lease_expiries: number;
  /** Leases a leader held past their end + the allowed slack (leaseKeeper.ts), the first few. */
  readonly lease_outlived: readonly string[];
  readonly keep_alives: number;
  /** `ok`, or which rule a serializable get broke: `state` (not the committed state at its revision) or `monotonic`. */
  readonly serializable: 'ok' | 'state' | 'monotonic';
  readonly serializable_detail: readonly string[];
  readonly linearizable: 'ok' | 'illegal' | 'unknown';
  /** How the checker decided: "fast path" or why it searched; or what was malformed. */
  readonly check_method: string;
  readonly check_ms: number;
  readonly watch_options: WatchWorkloadOptions;
  /** `ok`, the first broken watch guarantee, or `divergent` (members applied a revision differently). */
  readonly watch: 'ok' | WatchProperty | 'divergent';
  /** Streams judged (created), events and progress notifications they delivered. */
  readonly watch_streams: number;
  readonly watch_events: number;
  readonly watch_progress: number;
  /** The first violations, for humans. */
  readonly watch_detail: readonly string[];
}

/** What the watch verdict judged: every stream (judged or not) and the committed changes. */
export interface WatchRecord {
  readonly streams: readonly RecordedStream[];
  readonly truth: readonly StoreEvent[];
}

/** Where the verdict's raw material goes besides the result (the run's options carry these). */
export interface KvReporting {
  /** With `kv`: receives the history as JSON lines (docs/history-format.md). */
  readonly onHistory?: (text: string) => void;
  /** With `kv`: receives the recorded watch streams and the committed changes they are judged against. */
  readonly onWatches?: (record: WatchRecord) => void;
  /** With `kv`: the linearizability checker's wall-clock budget (default CHECK_TIMEOUT_MS). */
  readonly checkTimeoutMs?: number;
}

export const CHECK_TIMEOUT_MS = 30_000;

/** The KV side of a run's world: the clients, the watch clients, the committed changes. */
export interface KvClients {
  readonly kv: KvWorkload;
  readonly watches: WatchWorkload;
  /** Fed by every member's store: what the watch streams are judged against. */
  readonly truth: WatchTruth;
}

/** Ends the KV and watch workloads, checks both, reports what is broken as violations. */
export function checkKv(clients: KvClients, verdict: { readonly checker: SafetyChecker; readonly reporting: KvReporting }): KvResult {
  const { kv, watches, truth } = clients;
  const { checker, reporting } = verdict;
  kv.stop();
  kv.finish();
  watches.stop();
  const text = kv.historyText();
  reporting.onHistory?.(text);
  reporting.onWatches?.({ streams: watches.streams, truth: truth.log() });
  const started = performance.now();
  const { linearizable, method } = checkHistory(text, { checker, timeoutMs: reporting.checkTimeoutMs ?? CHECK_TIMEOUT_MS });
  const checkMs = Math.round((performance.now() - started) * 10) / 10;
  return {
    kv_options: kv.options, ops_ok: kv.ok, ops_fail: kv.failed, ops_unknown: kv.unknown,
    stale_reads: kv.staleReads, lease_expiries: kv.keeper.expiries, keep_alives: kv.keeper.keepAlives, ...checkLeases(kv, checker),
    ...checkSerializable(clients, checker), linearizable, check_method: method, check_ms: checkMs,
    ...checkWatches(clients, checker),
  };
}

function checkHistory(text: string, { checker, timeoutMs }: { readonly checker: SafetyChecker; readonly timeoutMs: number }): {
  linearizable: KvResult['linearizable']; method: string;
} {
  try {
    const checked = checkEtcdHistory(parseEtcdHistory(text), { timeoutMs });
    if (checked.result.verdict === 'illegal') {
      const failing = checked.result.failing;
      checker.report('notLinearizable', 0,
        `the KV history is not linearizable (${checked.method}): ${failing.reason ?? ''} ops ${failing.ops.slice(0, 10).join(',')}`);
    }
    return { linearizable: checked.result.verdict, method: checked.method };
  } catch (error: unknown) {
    // A malformed history is the recorder's bug: report it, never call it linearizable.
    const method = `malformed history: ${error instanceof Error ? error.message : String(error)}`;
    checker.report('exception', 0, method);
    return { linearizable: 'unknown', method };
  }
}

function checkLeases(kv: KvWorkload, checker: SafetyChecker): Pick<KvResult, 'lease_outlived'> {
  const first = kv.keeper.outlived[0];
  if (first !== undefined) checker.report('leaseOutlived', 0, `a lease outlived its TTL: ${first}`);
  return { lease_outlived: kv.keeper.outlived.slice(0, 5) };
}

function checkSerializable({ kv, truth }: KvClients, checker: SafetyChecker): Pick<KvResult, 'serializable' | 'serializable_detail'> {
  const wrong = checkStaleReads(truth.log(), kv.staleReadRecords());
  const problems = [...wrong, ...kv.staleRegressions];
  const first = problems[0];
  if (first === undefined) return { serializable: 'ok', serializable_detail: [] };
  checker.report('serializableRead', 0, first);
  return { serializable: wrong.length > 0 ? 'state' : 'monotonic', serializable_detail: problems.slice(0, 5) };
}

type WatchVerdict = Pick<KvResult, 'watch_options' | 'watch' | 'watch_streams' | 'watch_events' | 'watch_progress' | 'watch_detail'>;

function checkWatches({ watches, truth }: KvClients, checker: SafetyChecker): WatchVerdict {
  const judged = watches.judged();
  let events = 0;
  let progress = 0;
  for (const s of judged) {
    for (const r of s.responses) {
      events += r.events.length;
      if (r.progress === true) progress++;
    }
  }
  const counts = { watch_options: watches.options, watch_streams: judged.length, watch_events: events, watch_progress: progress };
  if (truth.divergence !== null) {
    checker.report('watchBroken', 0, `the members' stores diverged: ${truth.divergence}`);
    return { ...counts, watch: 'divergent', watch_detail: [truth.divergence] };
  }
  const violations = watches.validate();
  const first = violations[0];
  if (first === undefined) return { ...counts, watch: 'ok', watch_detail: [] };
  const detail = violations.slice(0, 5).map((v) => {
    const s = judged[v.stream];
    const where = s === undefined ? '' : ` (client ${s.client} on member ${s.member}, opened at ${s.openedUs} µs)`;
    return `${v.property}: stream ${v.stream}${where}, response ${v.response}: ${v.message}`;
  });
  checker.report('watchBroken', 0, `watch guarantee broken: ${detail[0] ?? first.property}`);
  return { ...counts, watch: first.property, watch_detail: detail };
}
