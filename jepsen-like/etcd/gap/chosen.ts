// The fillers chosen so far on the walk's path, one per gap up to the current
// level, and what they leave unused: the only mutable state the rules read.

import { writeWidth } from './requests.js';
import type { EtcdOp } from './types.js';

export class ChosenFillers {
  /** The filler of gaps[i] at path[i]. */
  readonly path: EtcdOp[] = [];
  readonly used = new Set<EtcdOp>();
  /** How many keys beyond one each possible filler may change at its revision (Infinity: unbounded). */
  private readonly extraKeys: ReadonlyMap<EtcdOp, number>;
  private extraUnusedCount = 0;
  /** Unused writes of unbounded width. */
  private unboundedUnusedCount = 0;

  /** `leaseKeys`: what each lease's revoke may delete (GapFacts.leaseKeys). */
  constructor(unknownWriters: readonly EtcdOp[], optionalWriters: ReadonlyMap<number, readonly EtcdOp[]>, leaseKeys: ReadonlyMap<number, ReadonlySet<string>>) {
    const fillers = [...unknownWriters, ...new Set([...optionalWriters.values()].flat())];
    // A write that may change no key (a revoke of a lease nothing was put with) makes no revision: no extra.
    this.extraKeys = new Map(fillers.map((op) => [op, Math.max(0, writeWidth(op.input, leaseKeys) - 1)]));
    for (const extra of this.extraKeys.values()) {
      if (extra === Infinity) this.unboundedUnusedCount++;
      else this.extraUnusedCount += extra;
    }
  }

  /** Keys beyond one per gap that the unused writes of bounded width could still change, together. */
  get extraUnused(): number {
    return this.extraUnusedCount;
  }

  /** Whether some unused write may change any number of keys (then no count of needs can refuse anything). */
  get unboundedLeft(): boolean {
    return this.unboundedUnusedCount > 0;
  }

  /** Chooses `op` for the next gap. */
  push(op: EtcdOp): void {
    this.path.push(op);
    this.used.add(op);
    this.adjust(op, -1);
  }

  /** Takes back the latest choice. */
  pop(): void {
    const op = this.path.pop();
    if (op === undefined) return;
    this.used.delete(op);
    this.adjust(op, 1);
  }

  private adjust(op: EtcdOp, sign: 1 | -1): void {
    const extra = this.extraKeys.get(op) ?? 0;
    if (extra === Infinity) this.unboundedUnusedCount += sign;
    else this.extraUnusedCount += sign * extra;
  }
}
