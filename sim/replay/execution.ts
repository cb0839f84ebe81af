// One live execution of a spec: the simulator's own world and stepper (sim/world.ts,
// sim/phases.ts, no copy of either), driven forward to any event index, with the
// spec's fault script applied at its indexes. Executions only go forward; going back
// is a new execution of the same spec (replay.ts), which determinism makes exact.

import { invariant } from '../../core/util/invariant.js';
import { RunStepper } from '../phases.js';
import type { Stage } from '../phases.js';
import type { EventKind, TraceRecord } from '../scheduler.js';
import { fnvWord } from '../scheduler.js';
import type { SimWorld } from '../world.js';
import { buildWorld } from '../world.js';
import { captureFrame } from './frame.js';
import type { Frame } from './frame.js';
import type { ForkAction, ForkActionKind, RunSpec } from './runSpec.js';
import { clientArg, CLOG_MS, DISK_FULL_MS, isClientAction, runOptionsOf } from './runSpec.js';

/** The kind an action is hashed under: the nemesis's own kinds, a client's request as the KV clients'. */
const NOTED_KIND: Readonly<Record<ForkActionKind, EventKind>> = {
  crash: 'crash', restart: 'restart', pause: 'pause', resume: 'resume', diskfull: 'diskFault', rot: 'diskFault',
  cut: 'partition', heal: 'heal', clog: 'partition', put: 'client', read: 'client',
};

/** What is hashed for an action: its member, the link's other end, and for a client action its text (so two puts of different values part). */
function notedWord(action: ForkAction): number {
  let word = action.peer === 0 ? action.node : action.node * 256 + action.peer;
  if (isClientAction(action.action)) {
    let h = 0x811c9dc5;
    for (const ch of `${action.action}:${action.arg ?? ''}`) h = fnvWord(h, ch.charCodeAt(0));
    word += 65536 * (h & 0xffff);
  }
  return word;
}

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
      scheduler.note(NOTED_KIND[action.action], notedWord(action), () => ({ fork: action }));
      const nowUs = scheduler.nowUs;
      switch (action.action) {
        case 'crash': cluster.crash(action.node); return;
        case 'restart': cluster.restart(action.node); return;
        case 'pause': cluster.pause(action.node); return;
        case 'resume': cluster.resume(action.node); return;
        case 'diskfull': cluster.member(action.node).disk.fillUntil(nowUs + 1000 * DISK_FULL_MS); return;
        case 'rot': {
          const member = cluster.member(action.node);
          member.rotted = true; // as the nemesis marks its victim: the recovery refusal that follows is expected
          member.disk.rot();
          return;
        }
        case 'cut': network.partition([action.node], [action.peer]); return;
        case 'heal': network.healLink(action.node, action.peer); return;
        case 'clog':
          network.clog({ from: action.node, to: action.peer, untilUs: nowUs + 1000 * CLOG_MS });
          network.clog({ from: action.peer, to: action.node, untilUs: nowUs + 1000 * CLOG_MS });
          return;
        case 'put':
        case 'read': {
          const arg = clientArg(action.action, action.arg ?? '');
          const kv = this.world.kv;
          invariant(arg !== null && kv !== null, `a ${action.action} needs the KV clients and a key`);
          kv.kv.sendManual({ kind: action.action, member: action.node, ...arg });
          return;
        }
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
