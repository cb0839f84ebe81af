// The nemesis: faults on a schedule drawn from the seed, each logged with its times.
//
// The plan (kinds, start times, durations, which member when not aimed at the leader) is
// fixed by the seed before the run starts; only the leader, when a fault is aimed at it,
// is found at the time (it is whoever Status says it is then). One fault at a time,
// each healed before the next, and none in the last stretch of the run, so that the
// cluster ends healed and the closing checks (HashKV, final reads) see all members.

import type { SimRandom } from '../../sim/prng.js';
import type { EtcdResponse } from '../etcd/types.js';
import { EtcdClient, revisionOf, statusOf } from './client.js';
import type { RealCluster } from './cluster.js';
import { replaceMember } from './memberFault.js';

export type FaultKind = 'kill' | 'pause' | 'partition' | 'compact' | 'defrag' | 'member';
/** The faults `leader` alone stands for (compact, defrag and member are asked for by name). */
export const FAULT_KINDS: readonly FaultKind[] = ['kill', 'pause', 'partition'];
const OPERATIONS: readonly FaultKind[] = ['compact', 'defrag'];
/** Remove a member and add it back, learner first (memberFault.ts): slow, so only by name. */
const RECONFIGURATIONS: readonly FaultKind[] = ['member'];
/** The faults `leader` can aim. */
const AIMABLE: readonly FaultKind[] = [...FAULT_KINDS, ...RECONFIGURATIONS];
export const NEMESES = [...FAULT_KINDS, ...OPERATIONS, ...RECONFIGURATIONS, 'leader', 'none'] as const;

export interface PlannedFault {
  readonly atMs: number;
  readonly kind: FaultKind;
  readonly durationMs: number;
  readonly aimAtLeader: boolean;
  /** Draws for the victim and, in a partition of 5, its companion on the minority side. */
  readonly pick: number;
  readonly companionPick: number;
}

export interface FaultEvent {
  readonly kind: FaultKind;
  readonly target: string;
  readonly aimedAtLeader: boolean;
  /** Microseconds since the run started. */
  readonly start: number;
  readonly end: number;
  readonly detail: string;
}

/** Faults start after this warm-up, and the last one heals this long before the end. */
export const WARMUP_MS = 1000;
export const QUIET_TAIL_MS = 1500;
const MIN_QUIET_MS = 500;

/** How long the cluster is left alone between two faults, and how long a fault lasts, each drawn in [min, max]. */
export interface FaultGap {
  readonly minMs: number;
  readonly maxMs: number;
  readonly minDurationMs: number;
  readonly maxDurationMs: number;
}

export const DEFAULT_GAP: FaultGap = { minMs: 500, maxMs: 1500, minDurationMs: 800, maxDurationMs: 2500 };

/**
 * With leases: half a TTL to a TTL between faults, and each fault long enough (1.5 s,
 * above the 1 s election timeout) to make the cluster elect. A leader change can only be
 * seen to restart a lease's TTL (etcd #9395) when the lease had aged under a running
 * leader first; back-to-back faults leave the cluster leaderless most of the time, and
 * then a correct lessor keeps the key as long as the buggy one does.
 */
export function leaseGap(ttlS: number): FaultGap {
  return { minMs: Math.max(DEFAULT_GAP.minMs, (ttlS * 1000) / 2), maxMs: Math.max(DEFAULT_GAP.maxMs, ttlS * 1000), minDurationMs: 1500, maxDurationMs: DEFAULT_GAP.maxDurationMs };
}

export function planFaults(nemeses: readonly string[], timeMs: number, rng: SimRandom, gap: FaultGap = DEFAULT_GAP): PlannedFault[] {
  const aimAtLeader = nemeses.includes('leader');
  // Appended after the older kinds: a seed's plan for them is the one it always was.
  let kinds = [...FAULT_KINDS, ...OPERATIONS, ...RECONFIGURATIONS].filter((k) => nemeses.includes(k));
  if (!AIMABLE.some((k) => nemeses.includes(k)) && aimAtLeader) kinds = [...kinds, ...FAULT_KINDS];
  const plan: PlannedFault[] = [];
  if (kinds.length === 0) return plan;
  for (let at = WARMUP_MS + rng.between(0, 500); ; ) {
    const durationMs = rng.between(gap.minDurationMs, gap.maxDurationMs);
    if (at + durationMs > timeMs - QUIET_TAIL_MS) break;
    plan.push({ atMs: at, kind: rng.pick(kinds), durationMs, aimAtLeader, pick: rng.intBelow(1 << 30), companionPick: rng.intBelow(1 << 30) });
    at += durationMs + rng.between(gap.minMs, gap.maxMs);
  }
  return plan;
}

export interface NemesisContext {
  readonly cluster: RealCluster;
  /** The highest revision a compact fault compacted to (the closing read-back skips what is below). */
  compactedTo: number;
  /**
   * A compaction goes into the history (a process of its own): a read at an old revision
   * that it made fail ("compacted") must be explained by it.
   */
  readonly recordCompaction: (record: { call: number; ret: number | null; revision: number; response: EtcdResponse | null; error?: string }) => void;
  /** Microseconds since the run started (the recorder's clock). */
  readonly now: () => number;
  readonly aborted: () => boolean;
  /**
   * The run was stopped (Ctrl-C), not just out of time: a member fault still running at the
   * end of the time finishes (else it would leave a member out), but not after that.
   */
  readonly interrupted: () => boolean;
  readonly log: (event: FaultEvent) => void;
}

const sleep = (ms: number): Promise<void> => new Promise((done) => { setTimeout(done, Math.max(0, ms)); });

/** The member index the live members agree is leader, or -1. */
export async function findLeader(cluster: RealCluster): Promise<number> {
  const statuses = await Promise.all(cluster.endpoints.map(async (endpoint, i) => {
    if (!cluster.isUp(i) || cluster.members[i]?.paused === true) return null;
    const client = new EtcdClient(endpoint, 1000);
    try {
      return await statusOf(client);
    } finally {
      client.close();
    }
  }));
  const self = statuses.findIndex((s) => s !== null && s.leader !== '0' && s.leader === s.memberId);
  return self;
}

/** Runs the plan to its end (or until aborted), healing each fault before the next. */
export async function runNemesis(plan: readonly PlannedFault[], context: NemesisContext): Promise<void> {
  // A fault that ran long (a slow restart) still leaves the cluster a quiet moment before the next.
  let quietUntilMs = 0;
  for (const fault of plan) {
    await sleep(Math.max(fault.atMs, quietUntilMs) - context.now() / 1000);
    if (context.aborted()) return;
    await inject(fault, context);
    quietUntilMs = context.now() / 1000 + MIN_QUIET_MS;
  }
}

async function inject(fault: PlannedFault, context: NemesisContext): Promise<void> {
  const { cluster } = context;
  const n = cluster.members.length;
  const leader = fault.aimAtLeader ? await findLeader(cluster) : -1;
  const victim = leader >= 0 ? leader : fault.pick % n;
  const name = cluster.members[victim]?.name ?? '?';
  const start = context.now();
  let detail = fault.aimAtLeader && leader < 0 ? 'no leader found: a drawn member instead' : '';
  switch (fault.kind) {
    case 'kill':
      await cluster.kill(victim);
      await sleep(fault.durationMs);
      await cluster.restart(victim);
      detail ||= `down ${fault.durationMs} ms, restarted on its data dir`;
      break;
    case 'pause':
      cluster.pause(victim);
      await sleep(fault.durationMs);
      cluster.resume(victim);
      detail ||= `SIGSTOP for ${fault.durationMs} ms`;
      break;
    case 'compact': {
      const compacted = await compactSomewhere(cluster, victim, fault.companionPick, context);
      if (compacted !== null) context.compactedTo = Math.max(context.compactedTo, compacted);
      detail ||= compacted === null ? 'no revision to compact (member down or Status failed)' : `compacted to revision ${compacted} through ${name}`;
      break;
    }
    case 'defrag': {
      const answer = await defragment(cluster, victim);
      detail ||= `defragment ${name}: ${answer}`;
      break;
    }
    case 'member':
      detail = [detail, await replaceMember(cluster, victim, fault.durationMs, context.interrupted)].filter((x) => x !== '').join('; ');
      break;
    case 'partition': {
      const minority = minoritySide(victim, fault.companionPick, n);
      const names = cluster.members.map((m) => m.name);
      const cut = names.flatMap((a, i) => (minority.has(i) ? names.filter((_, j) => !minority.has(j)).map((b) => [a, b] as const) : []));
      cluster.cuts.set(cut);
      await sleep(fault.durationMs);
      cluster.cuts.set([]);
      detail ||= `{${[...minority].map((i) => names[i]).join(',')}} cut from the rest for ${fault.durationMs} ms`;
      break;
    }
  }
  context.log({ kind: fault.kind, target: name, aimedAtLeader: leader >= 0, start, end: context.now(), detail });
}

/** Within the last this many revisions: the workloads' streams and reads are around there. */
const COMPACT_WINDOW = 100;

/** Compacts at a drawn revision among the last COMPACT_WINDOW the member has; null when it cannot. */
async function compactSomewhere(cluster: RealCluster, index: number, pick: number, context: NemesisContext): Promise<number | null> {
  const endpoint = cluster.endpoints[index];
  if (endpoint === undefined || !cluster.canLead(index)) return null;
  const client = new EtcdClient(endpoint, 2000);
  try {
    const status = await statusOf(client, 2000);
    if (status === null || status.revision < 2) return null;
    const revision = Math.max(1, status.revision - (pick % Math.min(COMPACT_WINDOW, status.revision)));
    const call = context.now();
    try {
      const answer = await client.call('kv', 'Compact', { revision: String(revision) });
      context.recordCompaction({ call, ret: context.now(), revision, response: { revision: revisionOf(answer) } });
      return revision;
    } catch (error: unknown) {
      const message = error instanceof Error ? error.message : String(error);
      // Compacted already at or past it: an answer (the model knows it); else it may have happened.
      const compacted = /required revision has been compacted/.test(message);
      context.recordCompaction({ call, ret: compacted ? context.now() : null, revision, response: compacted ? { error: 'compacted' } : null, error: message });
      return compacted ? null : revision;
    }
  } finally {
    client.close();
  }
}

async function defragment(cluster: RealCluster, index: number): Promise<string> {
  const endpoint = cluster.endpoints[index];
  if (endpoint === undefined || !cluster.isUp(index) || cluster.members[index]?.paused === true) return 'member not up';
  const client = new EtcdClient(endpoint, 5000);
  try {
    await client.call('maintenance', 'Defragment', {});
    return 'ok';
  } catch (error: unknown) {
    return `failed: ${error instanceof Error ? error.message : String(error)}`;
  } finally {
    client.close();
  }
}

/** The victim alone, or in a cluster of 5 or more, with a companion half the time. */
function minoritySide(victim: number, pick: number, n: number): Set<number> {
  const side = new Set([victim]);
  if (n >= 5 && pick % 2 === 1) side.add((victim + 1 + (pick >> 1) % (n - 1)) % n);
  return side;
}
