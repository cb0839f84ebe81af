// A survey: one execution of a spec from start to end that notes where things happen,
// for the page's timeline and its "jump to the next …" buttons: elections (a member
// becomes leader of a new term), commits (the highest commit index rises), faults
// (the nemesis's events and the fork's actions) and violations (the checker's first
// finding, and any after it).

import type { RaftView } from '../../core/raft/rawNode.js';
import type { KvRecord } from '../kvWorkload.js';
import { checkKv } from '../kvVerdict.js';
import type { EventKind } from '../scheduler.js';
import type { SimWorld } from '../world.js';
import { Execution } from './execution.js';
import { failingWindow, watchFinding, type FailingWindow, type WatchFinding } from './failure.js';
import type { RunSpec } from './runSpec.js';

export const MARK_KINDS = ['election', 'commit', 'fault', 'violation'] as const;
export type MarkKind = (typeof MARK_KINDS)[number];

/** One KV client operation, invoke → complete, for the page's timeline (Porcupine's picture, small). */
export interface OpBar {
  /** The history's process: one client at a time, a new one after an op that ended unknown. */
  readonly process: number;
  readonly member: number;
  /** `put k3`, `range k0..l`, `txn`, `leaseGrant 1004`, … */
  readonly text: string;
  readonly callUs: number;
  /** Null: never answered by the run's end. */
  readonly retUs: number | null;
  readonly outcome: string;
  /** Sent from the page (a fork's put or read). */
  readonly manual: boolean;
}

/** The KV verdicts of the whole run, judged at its end as the CLI judges them (sim/kvVerdict.ts). */
export interface RunVerdict {
  readonly linearizable: string;
  readonly checkMethod: string;
  readonly serializable: string;
  readonly watch: string;
  readonly watchStreams: number;
  readonly watchEvents: number;
  readonly leaseOutlived: readonly string[];
  readonly opsOk: number;
  readonly opsFail: number;
  readonly opsUnknown: number;
  /** What the end-of-run checks found (the safety checker's findings during the run are in the frames). */
  readonly detail: readonly string[];
  /** When the history is not linearizable: the checker's minimal failing window (sim/replay/failure.ts). */
  readonly window: FailingWindow | null;
  /** When a watch guarantee is broken: the validator's first violation and its stream. */
  readonly watchFirst: WatchFinding | null;
}

/** Bars the survey keeps (a 10 s run has a few thousand ops). */
export const OP_BARS_MAX = 6000;
/** The linearizability check's budget in the page, ms (the CLI allows 30 s; a page should not hang). */
const PAGE_CHECK_TIMEOUT_MS = 5000;

export interface Survey {
  /** Events in the whole run. */
  readonly events: number;
  readonly traceHash: string;
  /** For each kind, the event indexes (ascending) after which it happened. */
  readonly marks: Readonly<Record<MarkKind, readonly number[]>>;
  /** Simulated time after each event, µs (index 0: before the first). */
  readonly timesUs: Float64Array;
  readonly wallMs: number;
  /** With the KV workload: the clients' operations, and the verdicts at the end. */
  readonly ops: readonly OpBar[];
  readonly verdict: RunVerdict | null;
}

function opText(record: KvRecord): string {
  const r = record.request;
  if (record.note !== undefined) return record.note;
  if (r.type === 'put' || r.type === 'delete') return `${r.type} ${r.key}${r.type === 'put' ? `=${r.value}` : ''}`;
  if (r.type === 'range') return `range ${r.key}${r.rangeEnd === undefined ? '' : `..${r.rangeEnd}`}${r.revision === undefined ? '' : ` @${r.revision}`}`;
  if (r.type === 'leaseGrant' || r.type === 'leaseRevoke') return `${r.type} ${r.id}`;
  return r.type;
}

function opBars(world: SimWorld): OpBar[] {
  const kv = world.kv?.kv;
  if (kv === undefined) return [];
  const manual = new Set(kv.manual.map((m) => m.record));
  return kv.records.slice(0, OP_BARS_MAX).map((record) => ({
    process: record.process, member: record.member, text: opText(record), callUs: record.call, retUs: record.ret,
    outcome: record.outcome, manual: manual.has(record),
  }));
}

/** The CLI's end-of-run KV checks, on the survey's own world (which is thrown away after). */
function verdictOf(world: SimWorld, run: { readonly invokedAt: readonly number[]; readonly timesUs: Float64Array }): RunVerdict | null {
  if (world.kv === null) return null;
  const before = world.checker.violations.length;
  let history = '';
  const reporting = { checkTimeoutMs: PAGE_CHECK_TIMEOUT_MS, onHistory: (text: string): void => { history = text; } };
  const result = checkKv(world.kv, { checker: world.checker, reporting });
  const { kv, watches } = world.kv;
  // The CLI's verdict keeps only the window's op ids in words: the page asks the checker again for the ops themselves.
  const window = result.linearizable === 'illegal'
    ? failingWindow(history, { records: kv.records, invokedAt: run.invokedAt, describe: opText, timeoutMs: PAGE_CHECK_TIMEOUT_MS })
    : null;
  const watchFirst = result.watch === 'ok' || result.watch === 'divergent' ? null : watchFinding(watches.validate()[0], watches.judged(), run.timesUs);
  return {
    window, watchFirst,
    linearizable: result.linearizable, checkMethod: result.check_method, serializable: result.serializable, watch: result.watch,
    watchStreams: result.watch_streams, watchEvents: result.watch_events, leaseOutlived: result.lease_outlived,
    opsOk: result.ops_ok, opsFail: result.ops_fail, opsUnknown: result.ops_unknown,
    detail: world.checker.violations.slice(before).map((v) => `${v.kind}: ${v.detail}`),
  };
}

const FAULT_KINDS: ReadonlySet<EventKind> = new Set<EventKind>(['crash', 'restart', 'pause', 'resume', 'partition', 'heal', 'clock', 'diskFault']);

/** What the survey compares from one event to the next. */
class Watcher {
  private readonly leaderTerm = new Map<number, number>();
  private commitMax = 0;
  private violations = 0;
  private readonly view: RaftView = { role: 'follower', term: 0, commit: 0, firstIndex: 0, lastIndex: 0 };

  constructor(private readonly execution: Execution) {}

  /** Which marks the event just run makes. */
  look(marks: Record<MarkKind, number[]>, forked: boolean): void {
    const { world, index } = this.execution;
    let elected = false;
    let commitMax = this.commitMax;
    for (const member of world.cluster.members.values()) {
      const driver = member.state === 'up' ? member.driver : null;
      if (driver === null) continue;
      driver.raft.inspect(this.view);
      commitMax = Math.max(commitMax, this.view.commit);
      if (this.view.role === 'leader' && this.leaderTerm.get(member.id) !== this.view.term) {
        this.leaderTerm.set(member.id, this.view.term);
        elected = true;
      }
    }
    if (elected) marks.election.push(index);
    if (commitMax > this.commitMax) marks.commit.push(index);
    this.commitMax = commitMax;
    const last = this.execution.lastEvent;
    if (forked || (last !== null && FAULT_KINDS.has(last.kind))) marks.fault.push(index);
    const violations = world.checker.violations.length;
    if (violations > this.violations) marks.violation.push(index);
    this.violations = violations;
  }
}

/** Runs `spec` to its end once; `now` is a wall clock in ms (performance.now in both worlds), for the figure only. */
export function survey(spec: RunSpec, now: () => number): Survey {
  const started = now();
  const execution = new Execution(spec);
  const marks: Record<MarkKind, number[]> = { election: [], commit: [], fault: [], violation: [] };
  const watcher = new Watcher(execution);
  const forkedAt = new Set(spec.script.map((a) => a.eventIndex));
  let times = new Float64Array(1 << 15);
  // For each KV record, the event after which it existed (the event that invoked it): one number per op of the run.
  const invokedAt: number[] = [];
  const noteInvoked = (): void => {
    const records = execution.world.kv?.kv.records;
    if (records !== undefined) while (invokedAt.length < records.length) invokedAt.push(execution.index);
  };
  watcher.look(marks, forkedAt.has(0));
  noteInvoked();
  while (execution.step()) {
    const index = execution.index;
    noteInvoked();
    if (index >= times.length) {
      const grown = new Float64Array(times.length * 2);
      grown.set(times);
      times = grown;
    }
    times[index] = execution.world.scheduler.nowUs;
    watcher.look(marks, forkedAt.has(index));
  }
  const ops = opBars(execution.world);
  const timesUs = times.slice(0, execution.index + 1);
  const verdict = verdictOf(execution.world, { invokedAt, timesUs });
  return {
    events: execution.index, traceHash: execution.traceHash, marks, timesUs, wallMs: now() - started,
    ops, verdict,
  };
}

/** The first mark of `kind` after `index`, or null. */
export function nextMark(found: Survey, kind: MarkKind, index: number): number | null {
  const list = found.marks[kind];
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((list[mid] ?? 0) <= index) lo = mid + 1; else hi = mid;
  }
  return list[lo] ?? null;
}
