// One simulation run: a seed, a world, two phases, a verdict.
//
//   1. Safety phase: the workload runs and the nemesis injects the faults the seed's
//      swarm options turned on, for `timeMs` of simulated time. The checkers look at
//      the cluster after every event; the first violation ends the run.
//   2. Liveness phase: every fault heals (partitions and clogs end, the network and
//      disks turn calm, paused members resume, crashed members restart). Within
//      `livenessTimeoutMs` a leader must commit a proposal made after healing,
//      otherwise the run is `stuck`.

import { performance } from 'node:perf_hooks';
import { CALM_DISK } from './disk.js';
import { checkAuth } from './authVerdict.js';
import { checkKv } from './kvVerdict.js';
import { CALM_NETWORK } from './network.js';
import type { RunOptions } from './runOptions.js';
import { DEFAULT_LIVENESS_TIMEOUT_MS } from './runOptions.js';
import type { Liveness, PhaseOutcome, RunResult } from './runResult.js';
import { resultOf } from './runResult.js';
import type { SafetyChecker } from './safetyChecker.js';
import { proposalOf } from './workload.js';
import type { SimWorld } from './world.js';
import { buildWorld } from './world.js';

// The run's vocabulary, for callers that import it from here.
export type { KvResult, WatchRecord } from './kvVerdict.js';
export type { AuthResult } from './authVerdict.js';
export type { FaultMode, RunOptions, WorkloadMode } from './runOptions.js';
export { DEFAULT_LIVENESS_TIMEOUT_MS } from './runOptions.js';
export type { Injected, Liveness, MemberSummary, RunResult } from './runResult.js';
export { bugNames, passed } from './runResult.js';

export function runSimulation(options: RunOptions): RunResult {
  const wallStart = performance.now();
  const world = buildWorld(options);
  const phases = runPhases(world, options);
  const kv = world.kv === null ? null : checkKv(world.kv, { checker: world.checker, reporting: options });
  const auth = world.auth === null ? null : checkAuth(world.auth.workload, world.auth.log, world.checker);
  return resultOf({ world, options, phases, kv, auth, wallMs: performance.now() - wallStart });
}

/**
 * An exception anywhere in the run (an invariant in the core or the simulator) is a
 * finding like any violation: it is reported with its seed, never thrown past here.
 */
class Guard {
  stack: string | undefined;

  constructor(private readonly checker: SafetyChecker) {}

  run(work: () => void): void {
    try {
      work();
    } catch (error: unknown) {
      const e = error instanceof Error ? error : new Error(String(error));
      this.checker.report('exception', 0, `${e.name}: ${e.message}`);
      this.stack = e.stack;
    }
  }
}

function runPhases(world: SimWorld, options: RunOptions): PhaseOutcome {
  const { scheduler, checker } = world;
  const guard = new Guard(checker);
  scheduler.note('phase', 0, () => ({ phase: 'safety', seed: options.seed, options: world.swarm }));
  guard.run(() => { scheduler.run(0); });
  if (!checker.failed()) guard.run(() => { startAll(world); });
  if (!checker.failed()) guard.run(() => { scheduler.run(options.timeMs * 1000); });
  const live = checker.failed() ? { liveness: 'skipped' as const, livenessMs: -1 } : livenessPhase(world, guard, options);
  return { ...live, stack: guard.stack };
}

function startAll({ cluster, workload, kv, auth, nemesis }: SimWorld): void {
  cluster.start();
  workload.start();
  kv?.kv.start();
  kv?.watches.start();
  auth?.workload.start();
  // With --auth, the faults the nemesis injects start once the auth setup applied (authWorkload.ts).
  if (auth === null) nemesis.start();
}

function livenessPhase(world: SimWorld, guard: Guard, options: RunOptions): { liveness: Liveness; livenessMs: number } {
  const { scheduler, checker, workload, cluster } = world;
  const healUs = scheduler.nowUs;
  scheduler.note('phase', 0, () => ({ phase: 'liveness' }));
  heal(world);
  guard.run(() => {
    for (const member of cluster.members.values()) {
      if (member.state === 'paused') cluster.resume(member.id);
      if (member.state === 'down') cluster.restart(member.id);
    }
  });
  guard.run(() => { scheduler.run(healUs + 1000 * (options.livenessTimeoutMs ?? DEFAULT_LIVENESS_TIMEOUT_MS)); });
  if (checker.failed()) return { liveness: 'skipped', livenessMs: -1 };
  if (!workload.livenessMet) return { liveness: 'stuck', livenessMs: -1 };
  const livenessMs = (scheduler.nowUs - healUs) / 1000;
  checker.checkAcknowledged(workload.livenessLeader, workload.acknowledged, proposalOf);
  return { liveness: checker.failed() ? 'skipped' : 'ok', livenessMs };
}

/** Every fault ends; from now on a proposal that commits shows liveness. */
function heal({ nemesis, network, cluster, workload }: SimWorld): void {
  nemesis.stop();
  network.heal();
  network.setFaults(CALM_NETWORK);
  cluster.setDiskFaults(CALM_DISK);
  workload.markHeal();
}
