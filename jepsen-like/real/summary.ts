// What a run found, as summary.json holds it, and its one-screen rendering.

import type { FaultEvent } from './nemesis.js';
import type { ProxyStats } from './proxy.js';
import type { HashKvVerdict, LinearizableVerdict, LostWritesVerdict, MonotonicVerdict } from './verdicts.js';
import type { LeaseVerdict } from './lease.js';
import type { LockVerdict } from './lock.js';
import type { WatchVerdict } from './watch.js';

export interface OpCounts {
  readonly total: number;
  readonly ok: number;
  readonly fail: number;
  readonly unknown: number;
}

export interface Summary {
  readonly target: string;
  readonly nodes: number;
  readonly seed: number;
  readonly timeS: number;
  readonly nemesis: readonly string[];
  readonly workloads: readonly string[];
  readonly reproduce: string;
  readonly wallS: number;
  readonly ops: OpCounts;
  readonly acknowledgedWrites: number;
  readonly faults: Readonly<Record<string, number>>;
  /** Peer connections through the proxies: how many had their dialer identified (a cut needs it). */
  readonly peerConnections: ProxyStats;
  readonly verdicts: {
    readonly linearizable: LinearizableVerdict;
    readonly lostWrites: LostWritesVerdict;
    readonly revisionMonotonic: MonotonicVerdict;
    readonly hashKv: HashKvVerdict;
    readonly lease?: LeaseVerdict;
    readonly lock?: LockVerdict;
    readonly watch?: WatchVerdict;
  };
  /** The closing MemberList, after a run with the member nemesis (null: no member answered). */
  readonly members?: readonly ClusterMember[] | null;
  /** ok: every verdict passed; violation: one failed; unknown: none failed, one could not decide. */
  readonly result: 'ok' | 'violation' | 'unknown';
}

/** One member of the closing MemberList. */
export interface ClusterMember {
  readonly name: string;
  readonly id: string;
  readonly isLearner: boolean;
}

export function overallResult(v: Summary['verdicts']): Summary['result'] {
  const failed = v.linearizable.verdict === 'illegal' || v.lostWrites.lost.length > 0 || !v.revisionMonotonic.ok
    || v.hashKv.ok === false || (v.lease !== undefined && !v.lease.ok) || v.lock?.ok === false || v.watch?.ok === false;
  if (failed) return 'violation';
  return v.linearizable.verdict === 'unknown' || v.hashKv.ok === null || v.watch?.ok === null ? 'unknown' : 'ok';
}

export function countFaults(events: readonly FaultEvent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const e of events) {
    const name = e.aimedAtLeader ? `${e.kind} (leader)` : e.kind;
    counts[name] = (counts[name] ?? 0) + 1;
  }
  return counts;
}

const mark = (ok: boolean | null): string => (ok === null ? 'UNKNOWN' : ok ? 'ok' : 'FAIL');

export function renderSummary(s: Summary, dir: string): string {
  const v = s.verdicts;
  const faults = Object.entries(s.faults).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  const lines = [
    `jepsen-like: ${s.target} x${s.nodes}, ${s.workloads.join('+')} under ${s.nemesis.join('+') || 'no faults'}, seed ${s.seed}, ${s.timeS} s (${s.wallS.toFixed(1)} s wall)`,
    `  ops ${s.ops.total} (ok ${s.ops.ok}, failed ${s.ops.fail}, unknown ${s.ops.unknown}); acknowledged writes ${s.acknowledgedWrites}; faults: ${faults}`,
    `  peer connections ${s.peerConnections.identified + s.peerConnections.unidentified} (dialer unidentified: ${s.peerConnections.unidentified}; closed by cuts: ${s.peerConnections.cut})`,
    `  linearizable          ${v.linearizable.verdict === 'ok' ? 'ok' : v.linearizable.verdict.toUpperCase()}  (${v.linearizable.method}, ${v.linearizable.ms} ms)${v.linearizable.reason === undefined ? '' : `: ${v.linearizable.reason}`}`,
    `  acknowledged writes   ${mark(v.lostWrites.lost.length === 0)}  (${v.lostWrites.checked} read back, ${v.lostWrites.lost.length} lost${v.lostWrites.skippedCompacted > 0 ? `, ${v.lostWrites.skippedCompacted} below the last compaction` : ''})`,
    `  revisions per client  ${mark(v.revisionMonotonic.ok)}  (${v.revisionMonotonic.regressions.length} regressions)`,
    `  HashKV after healing  ${mark(v.hashKv.ok)}  (${Object.entries(v.hashKv.hashes).map(([m, h]) => `${m} ${h}`).join(', ')}${v.hashKv.revision > 0 ? ` at revision ${v.hashKv.revision}` : ''})`,
  ];
  if (s.members !== undefined) {
    lines.push(`  members at the end    ${s.members === null ? 'MemberList failed' : s.members.map((m) => `${m.name || '(unstarted)'} ${m.isLearner ? 'LEARNER' : 'voter'}`).join(', ')}`);
  }
  if (v.lease !== undefined) {
    const l = v.lease;
    lines.push(`  lease expiry          ${mark(l.ok)}  (${l.leases} leases: ${l.outlived.length} outlived TTL + ${l.slackMs} ms + leader changes, ${l.early.length} vanished before TTL, ${l.undecided} undecided)`);
  }
  if (v.lock !== undefined) {
    const l = v.lock;
    lines.push(`  lock exclusivity      ${mark(l.ok)}  (${l.attempts} Lock calls, ${l.acquisitions} acquired, ${l.overlaps.length} overlapping holds${l.overlaps[0] === undefined ? '' : `: ${l.overlaps[0].detail}`})`);
  }
  if (v.watch !== undefined) {
    const w = v.watch;
    lines.push(`  watch streams         ${mark(w.ok)}  (${w.streams} streams, ${w.events} events, ${w.violations.length} violations${w.violations[0] === undefined ? '' : `: ${w.violations[0].property}: ${w.violations[0].message}`}${w.note === undefined ? '' : `; ${w.note}`})`);
  }
  const files = ['summary.json', 'report.html', 'history.jsonl', ...(v.watch === undefined ? [] : ['watch.jsonl']), 'nemesis.jsonl', 'logs/'];
  lines.push(`  result: ${s.result.toUpperCase()}   files: ${dir}/{${files.join(',')}}`);
  lines.push(`  reproduce: ${s.reproduce}`);
  return lines.join('\n');
}
