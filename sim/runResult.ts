// What one simulation run found (runSimulation's output), and how it is read off the
// world once the run is over.

import type { MembershipStats } from './membershipNemesis.js';
import type { PlantedBugs } from '../core/raft/rawNode.js';
import type { NodeId } from '../core/raft/types.js';
import type { AuthResult } from './authVerdict.js';
import type { KvResult } from './kvVerdict.js';
import type { FaultMode, RunOptions, WorkloadMode } from './runOptions.js';
import type { Violation } from './safetyChecker.js';
import type { SwarmOptions } from './swarm.js';
import type { SimWorld } from './world.js';

export type Liveness = 'ok' | 'stuck' | 'skipped';

export interface RunResult {
  readonly seed: number;
  readonly nodes: number;
  readonly time_ms: number;
  readonly faults: FaultMode;
  readonly bugs: readonly string[];
  /** What the seed drew: the run's whole configuration. */
  readonly options: SwarmOptions;
  readonly trace_hash: string;
  readonly events: number;
  readonly sim_ms: number;
  readonly wall_ms: number;
  readonly events_per_s: number;
  /** Proposals acknowledged (applied by some member). */
  readonly committed: number;
  readonly proposed: number;
  readonly elections: number;
  readonly crashes: number;
  readonly restarts: number;
  readonly reads_served: number;
  readonly violations: readonly Violation[];
  /** `skipped` when a violation ended the run before the liveness phase. */
  readonly liveness: Liveness;
  /** Simulated time the liveness phase took to see progress (-1 if it did not). */
  readonly liveness_ms: number;
  /** How often each fault actually struck (a swarm that never fires tests nothing). */
  readonly injected: Injected;
  /** Each member at the end: process state and Raft status. */
  readonly members: readonly MemberSummary[];
  /** The stack of an exception thrown inside the run, for humans (not part of a verdict). */
  readonly stack?: string;
  readonly workload?: WorkloadMode;
  /** With `kv`, the headline verdicts (details in `kv`). */
  readonly ops_ok?: number;
  readonly ops_unknown?: number;
  readonly linearizable?: KvResult['linearizable'];
  readonly watch?: KvResult['watch'];
  readonly kv?: KvResult;
  /** With --auth: the auth workload's model check (authVerdict.ts). */
  readonly auth?: AuthResult;
  /** With --membership: what the membership nemesis changed, what the cluster refused, and the voters at the end (the leader's). */
  readonly membership?: MembershipStats & { readonly voters: readonly NodeId[] };
}

export interface Injected {
  readonly partitions: number;
  readonly clogs: number;
  readonly crashes: number;
  readonly targetedCrashes: number;
  /** Crashes by a failpoint where logs diverged (swarm.ts FaultOptions.crashAtElectionProbability). */
  readonly failpointCrashes: number;
  readonly pauses: number;
  readonly clockJumps: number;
  readonly diskFulls: number;
  readonly bitRots: number;
  readonly messagesDropped: number;
  readonly messagesDuplicated: number;
  readonly unsyncedWritesLost: number;
  readonly tornWrites: number;
  readonly tornTailsTruncated: number;
  readonly readErrors: number;
  readonly writeFailures: number;
  readonly corruptionRefusals: number;
}

export interface MemberSummary {
  readonly id: NodeId;
  readonly state: string;
  readonly role: string;
  readonly term: number;
  readonly commit: number;
  readonly applied: number;
  readonly lastIndex: number;
}

/** How the two phases ended (run.ts). */
export interface PhaseOutcome {
  readonly liveness: Liveness;
  readonly livenessMs: number;
  /** The stack of an exception the run caught, if one was thrown. */
  readonly stack: string | undefined;
}

export interface ResultInput {
  readonly world: SimWorld;
  readonly options: RunOptions;
  readonly phases: PhaseOutcome;
  /** With the KV workload: its verdicts. */
  readonly kv: KvResult | null;
  /** With --auth: its verdict. */
  readonly auth: AuthResult | null;
  readonly wallMs: number;
}

export function bugNames(bugs: PlantedBugs | undefined): string[] {
  if (bugs === undefined) return [];
  const names: string[] = [];
  if (bugs.voteWithoutPersist === true) names.push('voteWithoutPersist');
  if (bugs.commitOldTermByCounting === true) names.push('commitOldTermByCounting');
  if (bugs.appendWithoutTruncate === true) names.push('appendWithoutTruncate');
  if (bugs.authCheckStaleRevision === true) names.push('authCheckStaleRevision');
  return names;
}

/** The result, in the field order the JSON output has always had. */
export function resultOf({ world, options, phases, kv, auth, wallMs }: ResultInput): RunResult {
  const { scheduler, workload, checker, cluster } = world;
  const result: RunResult = {
    seed: options.seed,
    nodes: options.nodes,
    time_ms: options.timeMs,
    faults: options.faults,
    bugs: bugNames(options.bugs),
    options: world.swarm,
    trace_hash: scheduler.traceHash,
    events: scheduler.events,
    sim_ms: scheduler.nowUs / 1000,
    wall_ms: Math.round(wallMs * 10) / 10,
    events_per_s: wallMs > 0 ? Math.round(scheduler.events / (wallMs / 1000)) : 0,
    committed: workload.acknowledged.size,
    proposed: workload.proposed,
    elections: checker.elections,
    crashes: cluster.crashes,
    restarts: cluster.restarts,
    reads_served: workload.readsServed,
    violations: checker.violations,
    liveness: phases.liveness,
    liveness_ms: phases.livenessMs,
    injected: injectedFaults(world),
    members: memberSummaries(world),
  };
  const withKv = kv === null ? result : {
    ...result, workload: 'kv' as const, ops_ok: kv.ops_ok, ops_unknown: kv.ops_unknown,
    linearizable: kv.linearizable, watch: kv.watch, kv,
  };
  const withAuth = auth === null ? withKv : { ...withKv, workload: 'kv' as const, auth };
  const changes = world.nemesis.membership;
  const voters = world.cluster.leader()?.status().confState.voters ?? [];
  const withMembership = changes === null ? withAuth : {
    ...withAuth, membership: { ...changes.stats, refusals: changes.stats.refusals.map((r) => ({ ...r })), voters: [...voters].sort((x, y) => x - y) },
  };
  return phases.stack === undefined ? withMembership : { ...withMembership, stack: phases.stack };
}

function memberSummaries({ cluster }: SimWorld): MemberSummary[] {
  return [...cluster.members.values()].map((member) => {
    const status = member.driver?.status();
    return {
      // Out of the cluster (--membership): removed, or a spare never added.
      id: member.id, state: member.retired ? 'removed' : member.inCluster ? member.state : 'spare', role: status?.role ?? '-', term: status?.hardState.term ?? -1,
      commit: status?.hardState.commit ?? -1, applied: status?.applied ?? -1, lastIndex: status?.lastIndex ?? -1,
    };
  });
}

function injectedFaults({ cluster, nemesis, network }: SimWorld): Injected {
  let unsyncedWritesLost = 0;
  let tornWrites = 0;
  let tornTailsTruncated = 0;
  let readErrors = 0;
  let writeFailures = 0;
  let corruptionRefusals = 0;
  for (const member of cluster.members.values()) {
    const d = member.disk.stats;
    unsyncedWritesLost += d.lostOnCrash;
    tornWrites += d.tornWrites;
    tornTailsTruncated += d.tornTruncated;
    readErrors += d.readErrors;
    writeFailures += d.failedWrites;
    corruptionRefusals += d.corruptDetected;
  }
  const n = nemesis.stats;
  return {
    partitions: n.partitions, clogs: n.clogs, crashes: cluster.crashes, targetedCrashes: n.targetedCrashes, failpointCrashes: n.failpointCrashes,
    pauses: n.pauses, clockJumps: n.clockJumps, diskFulls: n.diskFulls, bitRots: n.bitRots,
    messagesDropped: network.stats.dropped, messagesDuplicated: network.stats.duplicated,
    unsyncedWritesLost, tornWrites, tornTailsTruncated, readErrors, writeFailures, corruptionRefusals,
  };
}

/** True when the run found nothing wrong. */
export function passed(result: RunResult): boolean {
  return result.violations.length === 0 && result.liveness === 'ok';
}
