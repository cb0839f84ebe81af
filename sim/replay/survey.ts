// A survey: one execution of a spec from start to end that notes where things happen,
// for the page's timeline and its "jump to the next …" buttons: elections (a member
// becomes leader of a new term), commits (the highest commit index rises), faults
// (the nemesis's events and the fork's actions) and violations (the checker's first
// finding, and any after it).

import type { RaftView } from '../../core/raft/rawNode.js';
import type { EventKind } from '../scheduler.js';
import { Execution } from './execution.js';
import type { RunSpec } from './runSpec.js';

export const MARK_KINDS = ['election', 'commit', 'fault', 'violation'] as const;
export type MarkKind = (typeof MARK_KINDS)[number];

export interface Survey {
  /** Events in the whole run. */
  readonly events: number;
  readonly traceHash: string;
  /** For each kind, the event indexes (ascending) after which it happened. */
  readonly marks: Readonly<Record<MarkKind, readonly number[]>>;
  /** Simulated time after each event, µs (index 0: before the first). */
  readonly timesUs: Float64Array;
  readonly wallMs: number;
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
  watcher.look(marks, forkedAt.has(0));
  while (execution.step()) {
    const index = execution.index;
    if (index >= times.length) {
      const grown = new Float64Array(times.length * 2);
      grown.set(times);
      times = grown;
    }
    times[index] = execution.world.scheduler.nowUs;
    watcher.look(marks, forkedAt.has(index));
  }
  return {
    events: execution.index, traceHash: execution.traceHash, marks, timesUs: times.slice(0, execution.index + 1), wallMs: now() - started,
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
