// One simulation run: a seed, a world, two phases, a verdict.
//
//   1. Safety phase: the workload runs and the nemesis injects the faults the seed's
//      swarm options turned on, for `timeMs` of simulated time. The checkers look at
//      the cluster after every event; the first violation ends the run.
//   2. Liveness phase: every fault heals (partitions and clogs end, the network and
//      disks turn calm, paused members resume, crashed members restart). Within
//      `livenessTimeoutMs` a leader must commit a proposal made after healing,
//      otherwise the run is `stuck`.
//
// The phases themselves are phases.ts's RunStepper, which the viewer (sim/replay/) runs
// one event at a time: the CLI's run and the viewer's are one code path.

import { performance } from 'node:perf_hooks';
import { checkAuth } from './authVerdict.js';
import { checkKv } from './kvVerdict.js';
import type { RunOptions } from './runOptions.js';
import { RunStepper } from './phases.js';
import type { PhaseOutcome, RunResult } from './runResult.js';
import { resultOf } from './runResult.js';
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

function runPhases(world: SimWorld, options: RunOptions): PhaseOutcome {
  const stepper = new RunStepper(world, options);
  stepper.advance();
  return stepper.outcome();
}
