// The replay engine: a cursor over one run that steps forward, goes back exactly, jumps
// to any event index, and forks. Pure (no DOM, no node: APIs): the page and the Node
// tests drive the same engine.
//
// Going back. The simulator's world cannot be copied (its event queue holds closures
// over live objects), so the engine never restores a world: it re-executes the spec
// from the start, which the seed makes exact. Two things keep that cheap and checked:
//
//   - checkpoints every `checkpointEvery` events hold the trace hash and the frame there.
//     A re-execution passing a checkpoint must arrive with the same hash (a divergence
//     is a determinism bug and throws); a scrubbing timeline shows the checkpoint's
//     frame at once while the exact frame is computed.
//   - a re-execution records the exact frames of the last `backWindow` indexes before
//     its target, so the next steps back are served from those frames without running.
//
// Stepping back from index i therefore costs one re-execution of i events every
// `backWindow` steps (a 5-member, 10 s run is ~25 k events: a fraction of a second).

import { invariant } from '../../core/util/invariant.js';
import { Execution } from './execution.js';
import type { Frame } from './frame.js';
import type { ForkActionKind, RunSpec } from './runSpec.js';
import { withAction } from './runSpec.js';

export interface ReplayOptions {
  /** Default 250. */
  readonly checkpointEvery?: number;
  /** Exact frames kept behind a target after a jump or re-execution; default 250. */
  readonly backWindow?: number;
  /** Bound on the exact frames kept; default 1000 (a frame of 5 members is ~10-20 kB). */
  readonly framesMax?: number;
  /** Checkpoints past this many keep their hash but not their frame (long runs); default 400. */
  readonly checkpointFramesMax?: number;
}

export interface Checkpoint {
  readonly index: number;
  readonly traceHash: string;
  /** Null once `checkpointFramesMax` checkpoints hold frames. */
  readonly frame: Frame | null;
}

export interface FramedCheckpoint extends Checkpoint {
  readonly frame: Frame;
}

export class Replay {
  private live: Execution;
  private positionValue = 0;
  private readonly checkpointEvery: number;
  private readonly backWindow: number;
  private readonly framesMax: number;
  private readonly checkpointFramesMax: number;
  private checkpointFrames = 0;
  private readonly checkpoints = new Map<number, Checkpoint>();
  /** Exact frames at indexes ≤ the live execution's (Map order = insertion order: the oldest go first). */
  private readonly frames = new Map<number, Frame>();
  /** How often the engine ran a spec again from the start to go back (for tests and the page's status line). */
  reexecutions = 0;

  constructor(spec: RunSpec, options: ReplayOptions = {}) {
    this.checkpointEvery = options.checkpointEvery ?? 250;
    this.backWindow = options.backWindow ?? 250;
    this.framesMax = options.framesMax ?? 1000;
    this.checkpointFramesMax = options.checkpointFramesMax ?? 400;
    invariant(this.checkpointFramesMax >= 1, 'checkpoint 0 keeps its frame');
    invariant(this.checkpointEvery >= 1 && this.backWindow >= 1, 'checkpointEvery and backWindow must be ≥ 1');
    invariant(this.framesMax >= this.backWindow, 'framesMax must hold at least one back window');
    this.live = new Execution(spec);
    this.checkpoint();
  }

  get spec(): RunSpec {
    return this.live.spec;
  }

  /** The event index shown: the number of events that have run. */
  get position(): number {
    return this.positionValue;
  }

  /** True at the run's last event. */
  get atEnd(): boolean {
    return this.positionValue === this.live.index && this.live.isDone();
  }

  /** The frame at the position. */
  frame(): Frame {
    const cached = this.frames.get(this.positionValue);
    if (cached !== undefined) return cached;
    invariant(this.positionValue === this.live.index, `no frame kept for ${this.positionValue} behind ${this.live.index}`);
    const frame = this.live.frame();
    this.remember(frame);
    return frame;
  }

  /** The checkpoint with a frame at or before `index` (a frame to show at once while scrubbing). */
  checkpointBefore(index: number): FramedCheckpoint {
    const at = Math.floor(Math.max(0, index) / this.checkpointEvery) * this.checkpointEvery;
    for (let i = at; i > 0; i -= this.checkpointEvery) {
      const found = this.checkpoints.get(i);
      if (found?.frame != null) return { ...found, frame: found.frame };
    }
    const first = this.checkpoints.get(0);
    invariant(first?.frame != null, 'checkpoint 0 is always kept with its frame');
    return { ...first, frame: first.frame };
  }

  /** One event forward; false at the end. */
  next(): boolean {
    if (this.atEnd) return false;
    this.seek(this.positionValue + 1);
    return true;
  }

  /** One event back; false at the start. */
  previous(): boolean {
    if (this.positionValue === 0) return false;
    this.seek(this.positionValue - 1);
    return true;
  }

  /**
   * Moves to `index` (clamped to the run: past the end stops at the last event).
   * `keepBehind` exact frames before a forward target are recorded (play keeps few).
   */
  seek(index: number, keepBehind: number = this.backWindow): void {
    invariant(Number.isSafeInteger(index), `event index must be an integer, got ${index}`);
    const target = Math.max(0, index);
    if (target === this.positionValue) return;
    if (target <= this.live.index) {
      if (target === this.live.index || this.frames.has(target)) {
        this.positionValue = target;
        return;
      }
      this.reexecute(target);
      return;
    }
    this.advanceLive(target, Math.max(this.live.index + 1, target - keepBehind + 1));
    this.positionValue = this.live.index;
  }

  /**
   * Forks at the position: `action` on member `node` (a link action: on the link to `peer`) now. Returns the fork's spec (its
   * URL reopens it), or null at the end of the run, where nothing can happen any more.
   */
  fork(action: ForkActionKind, node: number, peer = 0, arg?: string): RunSpec | null {
    if (this.atEnd) return null;
    if (this.positionValue < this.live.index) this.reexecute(this.positionValue);
    const at = this.positionValue;
    invariant(this.live.index === at, 'the live execution is at the position');
    const forkAction = { eventIndex: at, action, node, peer, ...(arg === undefined ? {} : { arg }) };
    const spec = withAction(this.live.spec, forkAction);
    this.live.fork(spec, forkAction);
    // What was recorded from here on belongs to the run before the fork.
    for (const index of [...this.frames.keys()]) if (index >= at) this.frames.delete(index);
    for (const [index, checkpoint] of [...this.checkpoints]) {
      if (index < at) continue;
      this.checkpoints.delete(index);
      if (checkpoint.frame !== null) this.checkpointFrames--;
    }
    if (at % this.checkpointEvery === 0) this.checkpoint();
    return spec;
  }

  /** Runs the live execution forward to `target`, keeping exact frames from `keepFrom` on. */
  private advanceLive(target: number, keepFrom: number): void {
    while (!this.live.isDone() && this.live.index < target) {
      const index = this.live.index;
      const nextCheckpoint = (Math.floor(index / this.checkpointEvery) + 1) * this.checkpointEvery;
      const stopAt = Math.min(target, nextCheckpoint, Math.max(index + 1, keepFrom));
      this.live.advanceTo(stopAt);
      const reached = this.live.index;
      if (reached >= keepFrom) this.remember(this.live.frame());
      if (reached % this.checkpointEvery === 0 || this.live.isDone()) this.checkpoint();
    }
  }

  /** Runs the spec again from the start to `target` (behind the live execution). */
  private reexecute(target: number): void {
    invariant(target < this.live.index, 'a re-execution goes back');
    this.reexecutions++;
    this.live = new Execution(this.live.spec);
    this.frames.clear();
    this.checkpoint();
    this.advanceLive(target, Math.max(0, target - this.backWindow + 1));
    invariant(this.live.index === target, `re-execution stopped at ${this.live.index}, not ${target}: the run is not deterministic`);
    this.positionValue = target;
  }

  /** Records the checkpoint at the live index, or checks the one recorded there before. */
  private checkpoint(): void {
    const index = this.live.index;
    const known = this.checkpoints.get(index);
    if (known !== undefined) {
      invariant(known.traceHash === this.live.traceHash,
        `determinism broken: event ${index} has trace hash ${this.live.traceHash}, checkpoint says ${known.traceHash}`);
      return;
    }
    if (this.checkpointFrames >= this.checkpointFramesMax) {
      this.checkpoints.set(index, { index, traceHash: this.live.traceHash, frame: null });
      return;
    }
    const frame = this.frames.get(index) ?? this.live.frame();
    this.checkpointFrames++;
    this.checkpoints.set(index, { index, traceHash: frame.traceHash, frame });
  }

  private remember(frame: Frame): void {
    this.frames.set(frame.index, frame);
    if (this.frames.size <= this.framesMax) return;
    const oldest = this.frames.keys().next();
    if (oldest.done !== true) this.frames.delete(oldest.value);
  }
}
