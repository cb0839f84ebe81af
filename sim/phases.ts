// The two phases of one run as a machine that can stop after any event: the CLI runs
// it to the end in one call, the viewer (sim/replay/) one event at a time. Both go
// through the same stages, so the viewer's run *is* the CLI's run, event for event,
// and its trace hash at every index is the CLI's.
//
//   start     a note opens the safety phase
//   boot      events already due at time 0, then every member, workload and the nemesis start
//   safety    events until `timeMs` (the first violation ends the run)
//   liveness  every fault heals, then events until a leader commits or the bound passes
//   done
//
// A stop after event i never performs the stage change that follows it: the state at
// index i is the same whether the run got there in one call or in i calls.

import { CALM_DISK } from './disk.js';
import { CALM_NETWORK } from './network.js';
import type { RunOptions } from './runOptions.js';
import { DEFAULT_LIVENESS_TIMEOUT_MS } from './runOptions.js';
import type { Liveness, PhaseOutcome } from './runResult.js';
import type { SafetyChecker } from './safetyChecker.js';
import { proposalOf } from './workload.js';
import type { SimWorld } from './world.js';
import { invariant } from '../core/util/invariant.js';

export type Stage = 'start' | 'boot' | 'safety' | 'liveness' | 'done';

/**
 * An exception anywhere in the run (an invariant in the core or the simulator) is a
 * finding like any violation: it is reported with its seed, never thrown past here.
 */
class Guard {
  stack: string | undefined;

  constructor(private readonly checker: SafetyChecker) {}

  /** True when `work` threw (and the exception was reported). */
  run(work: () => void): boolean {
    try {
      work();
      return false;
    } catch (error: unknown) {
      const e = error instanceof Error ? error : new Error(String(error));
      this.checker.report('exception', 0, `${e.name}: ${e.message}`);
      this.stack = e.stack;
      return true;
    }
  }
}

export class RunStepper {
  private stageValue: Stage = 'start';
  private readonly guard: Guard;
  private healUs = 0;
  private liveness: Liveness = 'skipped';
  private livenessMs = -1;

  constructor(readonly world: SimWorld, private readonly options: RunOptions) {
    this.guard = new Guard(world.checker);
  }

  get stage(): Stage {
    return this.stageValue;
  }

  get done(): boolean {
    return this.stageValue === 'done';
  }

  /** Events executed so far (the index of the state the world is in). */
  get events(): number {
    return this.world.scheduler.events;
  }

  /** Runs until `targetEvents` events have run in all, or the run is over. */
  advance(targetEvents: number = Number.POSITIVE_INFINITY): void {
    invariant(targetEvents >= 0, `target event count must be ≥ 0, got ${targetEvents}`);
    // Each pass either runs an event or moves to the next stage: at most a few passes more than events.
    while (!this.done && this.events < targetEvents) this.runStage(targetEvents);
  }

  /** Does `work` to the world between two events, under the run's guard (a fork's action). */
  act(work: () => void): void {
    invariant(this.stageValue !== 'done', 'a finished run takes no actions');
    this.guard.run(work);
  }

  outcome(): PhaseOutcome {
    invariant(this.done, 'the run is not over');
    return { liveness: this.liveness, livenessMs: this.livenessMs, stack: this.guard.stack };
  }

  private runStage(targetEvents: number): void {
    const { scheduler, checker } = this.world;
    switch (this.stageValue) {
      case 'start':
        scheduler.note('phase', 0, () => ({ phase: 'safety', seed: this.options.seed, options: this.world.swarm }));
        this.stageValue = 'boot';
        return;
      case 'boot':
        if (!this.runUntil(0, targetEvents)) return;
        if (!checker.failed()) this.guard.run(() => { startAll(this.world); });
        this.stageValue = checker.failed() ? 'done' : 'safety';
        return;
      case 'safety':
        if (!this.runUntil(this.options.timeMs * 1000, targetEvents)) return;
        if (checker.failed()) {
          this.stageValue = 'done';
        } else {
          this.beginLiveness();
          this.stageValue = 'liveness';
        }
        return;
      case 'liveness': {
        const boundUs = this.healUs + 1000 * (this.options.livenessTimeoutMs ?? DEFAULT_LIVENESS_TIMEOUT_MS);
        if (!this.runUntil(boundUs, targetEvents)) return;
        this.endLiveness();
        this.stageValue = 'done';
        return;
      }
      case 'done':
        return;
    }
  }

  /**
   * Runs events up to time `untilUs`, stopping early once `targetEvents` ran. True when
   * the stage's run is over: the time was reached, or an event halted it (a verdict).
   */
  private runUntil(untilUs: number, targetEvents: number): boolean {
    const scheduler = this.world.scheduler;
    const bounded = Number.isFinite(targetEvents);
    const before = scheduler.events;
    const threw = this.guard.run(() => {
      scheduler.run(untilUs, bounded ? (): boolean => scheduler.events >= targetEvents : undefined);
    });
    invariant(scheduler.events <= targetEvents, () => `ran past the target: ${scheduler.events} > ${targetEvents} (from ${before})`);
    // Stopped by the target, the stage goes on; by its time, a halt or an exception, it is over.
    const stoppedAtTarget = !threw && bounded && scheduler.events >= targetEvents && !scheduler.lastRunHalted();
    return !stoppedAtTarget;
  }

  private beginLiveness(): void {
    const { scheduler, cluster } = this.world;
    this.healUs = scheduler.nowUs;
    scheduler.note('phase', 0, () => ({ phase: 'liveness' }));
    heal(this.world);
    this.guard.run(() => {
      for (const member of cluster.members.values()) {
        if (member.state === 'paused') cluster.resume(member.id);
        if (member.state === 'down') cluster.restart(member.id);
      }
    });
  }

  private endLiveness(): void {
    const { scheduler, checker, workload } = this.world;
    if (checker.failed()) return;
    if (!workload.livenessMet) {
      this.liveness = 'stuck';
      return;
    }
    this.livenessMs = (scheduler.nowUs - this.healUs) / 1000;
    checker.checkAcknowledged(workload.livenessLeader, workload.acknowledged, proposalOf);
    this.liveness = checker.failed() ? 'skipped' : 'ok';
  }
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

/** Every fault ends; from now on a proposal that commits shows liveness. */
function heal({ nemesis, network, cluster, workload }: SimWorld): void {
  nemesis.stop();
  network.heal();
  network.setFaults(CALM_NETWORK);
  cluster.setDiskFaults(CALM_DISK);
  workload.markHeal();
}
