// One live execution of a spec: the simulator's own world and stepper (sim/world.ts,
// sim/phases.ts, no copy of either), driven forward to any event index, with the
// spec's fault script applied at its indexes. Executions only go forward; going back
// is a new execution of the same spec (replay.ts), which determinism makes exact.

import { invariant } from '../../core/util/invariant.js';
import { RunStepper } from '../phases.js';
import type { Stage } from '../phases.js';
import type { TraceRecord } from '../scheduler.js';
import type { SimWorld } from '../world.js';
import { buildWorld } from '../world.js';
import { captureFrame } from './frame.js';
import type { Frame } from './frame.js';
import type { ForkAction, RunSpec } from './runSpec.js';
import { runOptionsOf } from './runSpec.js';

export class Execution {
  readonly world: SimWorld;
  private readonly stepper: RunStepper;
  /** The next action of the script not yet applied. */
  private nextAction = 0;
  private last: TraceRecord | null = null;

  private specValue: RunSpec;

  constructor(spec: RunSpec) {
    this.specValue = spec;
    const options = runOptionsOf(spec);
    // The sink only remembers the last event (for the frame's caption); the hash does not depend on it.
    this.world = buildWorld({ ...options, trace: (record) => { if (record.seq >= 0) this.last = record; } });
    this.stepper = new RunStepper(this.world, options);
    this.applyDue();
  }

  get spec(): RunSpec {
    return this.specValue;
  }

  /** Events executed so far: the index of the state the world is in. */
  get index(): number {
    return this.stepper.events;
  }

  /** A method, not a getter: callers test it again after each advance (no stale narrowing). */
  isDone(): boolean {
    return this.stepper.done;
  }

  get stage(): Stage {
    return this.stepper.stage;
  }

  get traceHash(): string {
    return this.world.scheduler.traceHash;
  }

  get lastEvent(): TraceRecord | null {
    return this.last;
  }

  /** Runs forward to `target` events (or the run's end), applying script actions as their indexes come. */
  advanceTo(target: number): void {
    invariant(target >= this.index, `an execution only goes forward: ${target} < ${this.index}`);
    while (!this.isDone() && this.index < target) {
      const pending = this.specValue.script[this.nextAction];
      const stopAt = pending === undefined ? target : Math.min(target, pending.eventIndex);
      // applyDue ran at every index on the way, so the next action is never behind.
      invariant(stopAt >= this.index, `script action at ${stopAt} is behind the execution at ${this.index}`);
      this.stepper.advance(stopAt);
      this.applyDue();
    }
  }

  /** Runs one event; false at the end of the run. */
  step(): boolean {
    if (this.isDone()) return false;
    const before = this.index;
    this.advanceTo(before + 1);
    return this.index > before;
  }

  /**
   * Forks here: from now on this execution follows `spec`, whose script is the actions
   * already applied plus `action`, for this very index (runSpec.ts's withAction).
   */
  fork(spec: RunSpec, action: ForkAction): void {
    invariant(!this.isDone(), 'a finished run takes no actions');
    invariant(spec.script.length === this.nextAction + 1 && spec.script[this.nextAction] === action,
      'a fork keeps the actions already applied and adds one');
    this.specValue = spec;
    this.apply(action);
    this.nextAction++;
  }

  private apply(action: ForkAction): void {
    invariant(action.eventIndex === this.index, `action for event ${action.eventIndex} applied at ${this.index}`);
    const { scheduler, cluster } = this.world;
    const { network } = this.world;
    invariant(cluster.members.has(action.node), `no member ${action.node}`);
    invariant(action.peer === 0 || (cluster.members.has(action.peer) && action.peer !== action.node), `bad link peer ${action.peer}`);
    this.stepper.act(() => {
      // Hashed like any event: a fork's hash parts from its original's here. A link
      // action hashes both ends (node·256 + peer) under the nemesis's kinds.
      const noted = action.peer === 0 ? action.node : action.node * 256 + action.peer;
      const kind = action.action === 'cut' ? 'partition' : action.action;
      scheduler.note(kind, noted, () => ({ fork: action }));
      switch (action.action) {
        case 'crash': cluster.crash(action.node); return;
        case 'restart': cluster.restart(action.node); return;
        case 'pause': cluster.pause(action.node); return;
        case 'resume': cluster.resume(action.node); return;
        case 'cut': network.partition([action.node], [action.peer]); return;
        case 'heal': network.healLink(action.node, action.peer); return;
      }
    });
  }

  frame(): Frame {
    return captureFrame({ world: this.world, stage: this.stage, lastEvent: this.last });
  }

  private applyDue(): void {
    for (;;) {
      const pending = this.specValue.script[this.nextAction];
      if (pending === undefined || pending.eventIndex !== this.index || this.isDone()) return;
      this.apply(pending);
      this.nextAction++;
    }
  }
}
