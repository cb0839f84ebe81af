// One simulation run: a seed, a cluster, two phases, a verdict.
//
//   1. Safety phase: the workload runs and the nemesis injects the faults the seed's
//      swarm options turned on, for `timeMs` of simulated time. The checkers look at
//      the cluster after every event; the first violation ends the run.
//   2. Liveness phase: every fault heals (partitions and clogs end, the network and
//      disks turn calm, paused members resume, crashed members restart). Within
//      `livenessTimeoutMs` a leader must commit a proposal made after healing,
//      otherwise the run is `stuck`.

import { performance } from 'node:perf_hooks';
import type { PlantedBugs } from '../core/raft/rawNode.js';
import type { RawNode, RaftView } from '../core/raft/rawNode.js';
import type { Entry, NodeId } from '../core/raft/types.js';
import type { Violation } from './safetyChecker.js';
import { SafetyChecker } from './safetyChecker.js';
import { Cluster } from './cluster.js';
import { CALM_DISK } from './disk.js';
import { CALM_NETWORK, SimNetwork } from './network.js';
import { Nemesis } from './nemesis.js';
import { SimRandom } from './prng.js';
import type { TraceSink } from './scheduler.js';
import { Scheduler } from './scheduler.js';
import type { SwarmOptions } from './swarm.js';
import { calmOptions, drawSwarm } from './swarm.js';
import { proposalOf, Workload } from './workload.js';
import { drawKvOptions, KvWorkload } from './kvWorkload.js';
import { checkKv, type KvResult, type WatchRecord } from './kvVerdict.js';
import { drawWatchOptions, WatchWorkload } from './watchWorkload.js';
import { WatchTruth } from './watchTruth.js';

export type FaultMode = 'none' | 'swarm';
/** `none`: Raft proposals on bare drivers; `kv`: EtcdServer members and KV clients too. */
export type WorkloadMode = 'none' | 'kv';

export interface RunOptions {
  readonly seed: number;
  readonly nodes: number;
  readonly timeMs: number;
  readonly faults: FaultMode;
  readonly bugs?: PlantedBugs;
  readonly livenessTimeoutMs?: number;
  readonly trace?: TraceSink;
  /** Rule checks (persistBeforeSend, commitRule) on (default) or off; see checkers.ts. */
  readonly ruleChecks?: boolean;
  /** Default `none`. */
  readonly workload?: WorkloadMode;
  /** With `kv`: receives the history as JSON lines (docs/history-format.md). */
  readonly onHistory?: (text: string) => void;
  /** With `kv`: receives the recorded watch streams and the committed changes they are judged against. */
  readonly onWatches?: (record: WatchRecord) => void;
  /** With `kv`: the linearizability checker's wall-clock budget (default 30000 ms). */
  readonly checkTimeoutMs?: number;
}

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
}

export type { KvResult, WatchRecord } from './kvVerdict.js';

export interface Injected {
  readonly partitions: number;
  readonly clogs: number;
  readonly crashes: number;
  readonly targetedCrashes: number;
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

export const DEFAULT_LIVENESS_TIMEOUT_MS = 10_000;

export function bugNames(bugs: PlantedBugs | undefined): string[] {
  if (bugs === undefined) return [];
  const names: string[] = [];
  if (bugs.voteWithoutPersist === true) names.push('voteWithoutPersist');
  if (bugs.commitOldTermByCounting === true) names.push('commitOldTermByCounting');
  if (bugs.appendWithoutTruncate === true) names.push('appendWithoutTruncate');
  return names;
}

export function runSimulation(options: RunOptions): RunResult {
  const wallStart = performance.now();
  const random = new SimRandom(options.seed);
  const swarm = options.faults === 'swarm' ? drawSwarm(random) : calmOptions(random);
  const kvMode = options.workload === 'kv';
  const kvOptions = kvMode ? drawKvOptions(random) : null;
  const watchOptions = kvMode ? drawWatchOptions(random) : null;
  const truth = kvMode ? new WatchTruth() : null;
  const scheduler = new Scheduler();
  if (options.trace !== undefined) scheduler.setTraceSink(options.trace);
  const nodeIds: NodeId[] = [];
  for (let id = 1; id <= options.nodes; id++) nodeIds.push(id);

  let cluster: Cluster | null = null;
  let nemesis: Nemesis | null = null;
  let inspectedNode: RawNode | null = null;
  const raftView: RaftView = { role: 'follower', term: 0, commit: 0, firstIndex: 0, lastIndex: 0 };
  const inspected = {
    status: raftView,
    // Slices keep checks O(uncommitted entries) instead of O(log).
    log: (lo: number, hi: number = raftView.lastIndex): readonly Entry[] =>
      inspectedNode === null ? [] : inspectedNode.entries(lo, hi),
  };
  const checker = new SafetyChecker({
    now: () => scheduler.nowUs,
    inspect: (id) => {
      const driver = cluster?.running(id) ?? null;
      if (driver === null) return null;
      // One reused view: status() builds a full Status and this runs after every event.
      inspectedNode = driver.raft;
      driver.raft.inspect(raftView);
      return inspected;
    },
    durable: (id) => {
      const disk = cluster?.member(id).disk;
      if (disk === undefined) return null;
      const hs = disk.durableHardState();
      return { term: hs.term, vote: hs.vote, lastIndex: disk.durableLastIndex() };
    },
    ruleChecks: options.ruleChecks !== false,
    onViolation: () => { scheduler.halt(); },
    onLeader: (id) => { nemesis?.observeLeader(id); },
  });
  const network = new SimNetwork(scheduler, random, {
    nodeIds, faults: swarm.faults.network, linkLatencySpread: swarm.faults.linkLatencySpread,
  }, (message) => { cluster?.deliver(message); });
  let workload: Workload | null = null;
  let kv: KvWorkload | null = null;
  cluster = new Cluster({
    scheduler, random, network, checker, nodeIds, raft: swarm.raft, diskFaults: swarm.faults.disk,
    clockDriftPpmMax: swarm.faults.clockDriftPpmMax, bugs: options.bugs ?? {}, etcd: kvMode,
    hooks: {
      onApplied: (id, entry) => {
        workload?.onApplied(id, entry);
        if (kv !== null && cluster !== null) kv.keeper.onApplied(cluster.member(id), entry);
      },
      onSend: (message) => { nemesis?.observeSend(message); },
      onReadReady: (id, context, index) => { workload?.onReadReady(id, context, index); },
      onServer: (_id, server) => { truth?.tap(server); },
    },
  });
  workload = new Workload(scheduler, random, cluster, checker, swarm.workload, () => { scheduler.halt(); });
  nemesis = new Nemesis(scheduler, random, cluster, network, swarm.faults);
  kv = kvOptions === null ? null : new KvWorkload(scheduler, random, cluster, nodeIds, kvOptions);
  const watches = watchOptions === null || truth === null || kvOptions === null
    ? null : new WatchWorkload(scheduler, random, cluster, nodeIds, truth, watchOptions, kvOptions.keys);

  let liveness: Liveness = 'skipped';
  let livenessMs = -1;
  let stack: string | undefined;
  // An exception anywhere in the run (an invariant in the core or the simulator) is a
  // finding like any violation: it is reported with its seed, never thrown past here.
  const guarded = (work: () => void): void => {
    try {
      work();
    } catch (error: unknown) {
      const e = error instanceof Error ? error : new Error(String(error));
      checker.report('exception', 0, `${e.name}: ${e.message}`);
      stack = e.stack;
    }
  };
  const runUntil = (untilUs: number): void => {
    guarded(() => { scheduler.run(untilUs); });
  };

  scheduler.note('phase', 0, () => ({ phase: 'safety', seed: options.seed, options: swarm }));
  runUntil(0);
  if (!checker.failed()) {
    const [c, w, n] = [cluster, workload, nemesis];
    guarded(() => {
      c.start();
      w.start();
      kv?.start();
      watches?.start();
      n.start();
    });
  }
  if (!checker.failed()) runUntil(options.timeMs * 1000);
  if (!checker.failed()) {
    const healUs = scheduler.nowUs;
    scheduler.note('phase', 0, () => ({ phase: 'liveness' }));
    nemesis.stop();
    network.heal();
    network.setFaults(CALM_NETWORK);
    cluster.setDiskFaults(CALM_DISK);
    workload.markHeal();
    const c = cluster;
    guarded(() => {
      for (const member of c.members.values()) {
        if (member.state === 'paused') c.resume(member.id);
        if (member.state === 'down') c.restart(member.id);
      }
    });
    runUntil(healUs + 1000 * (options.livenessTimeoutMs ?? DEFAULT_LIVENESS_TIMEOUT_MS));
    if (!checker.failed()) {
      liveness = workload.livenessMet ? 'ok' : 'stuck';
      if (workload.livenessMet) {
        livenessMs = (scheduler.nowUs - healUs) / 1000;
        checker.checkAcknowledged(workload.livenessLeader, workload.acknowledged, proposalOf);
        if (checker.failed()) liveness = 'skipped';
      }
    }
  }

  const kvResult = kv === null || watches === null || truth === null ? null : checkKv({ kv, watches, truth, checker, options });
  const wallMs = performance.now() - wallStart;
  const result: RunResult = {
    seed: options.seed,
    nodes: options.nodes,
    time_ms: options.timeMs,
    faults: options.faults,
    bugs: bugNames(options.bugs),
    options: swarm,
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
    liveness,
    liveness_ms: livenessMs,
    injected: injectedFaults(cluster, nemesis, network),
    members: [...cluster.members.values()].map((member) => {
      const status = member.driver?.status();
      return {
        id: member.id, state: member.state, role: status?.role ?? '-', term: status?.hardState.term ?? -1,
        commit: status?.hardState.commit ?? -1, applied: status?.applied ?? -1, lastIndex: status?.lastIndex ?? -1,
      };
    }),
  };
  const withKv = kvResult === null ? result : {
    ...result, workload: 'kv' as const, ops_ok: kvResult.ops_ok, ops_unknown: kvResult.ops_unknown,
    linearizable: kvResult.linearizable, watch: kvResult.watch, kv: kvResult,
  };
  return stack === undefined ? withKv : { ...withKv, stack };
}

function injectedFaults(cluster: Cluster, nemesis: Nemesis, network: SimNetwork): Injected {
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
    partitions: n.partitions, clogs: n.clogs, crashes: cluster.crashes, targetedCrashes: n.targetedCrashes,
    pauses: n.pauses, clockJumps: n.clockJumps, diskFulls: n.diskFulls, bitRots: n.bitRots,
    messagesDropped: network.stats.dropped, messagesDuplicated: network.stats.duplicated,
    unsyncedWritesLost, tornWrites, tornTailsTruncated, readErrors, writeFailures, corruptionRefusals,
  };
}

/** True when the run found nothing wrong. */
export function passed(result: RunResult): boolean {
  return result.violations.length === 0 && result.liveness === 'ok';
}
