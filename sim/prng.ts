// The one seeded generator of a simulation run.
//
// Every random choice in a run — latencies, losses, faults, workload, the core's
// election jitter — is drawn from one `SimRandom`, so the seed alone fixes the run.
// The generator is seedrandom's `alea`, chosen once and forever: it measured ~5×
// faster than the default ARC4 here (research/raft-sim-style.md §3.7), and changing
// it would change every seed's run.

import seedrandom from 'seedrandom';
import type { Random } from '../core/util/random.js';
import { invariant } from '../core/util/invariant.js';

/** The largest seed accepted: seeds stay exact as JavaScript numbers. */
export const SEED_MAX = Number.MAX_SAFE_INTEGER;

/**
 * Parses a seed: a decimal integer in [0, 2^53), or a 40-hex-digit git commit hash,
 * whose first 13 hex digits (52 bits) are the seed (TigerBeetle's `parse_seed`: CI runs
 * with the commit as its seed, and a failure still reproduces from the hash alone).
 * Returns null when the text is neither.
 */
export function parseSeed(text: string): number | null {
  if (/^[0-9a-fA-F]{40}$/.test(text)) {
    return Number.parseInt(text.slice(0, 13), 16);
  }
  if (!/^[0-9]{1,16}$/.test(text)) return null;
  const seed = Number(text);
  return Number.isSafeInteger(seed) ? seed : null;
}

export class SimRandom implements Random {
  readonly seed: number;
  private readonly next: seedrandom.PRNG;

  /**
   * `stream` names a generator of its own beside the run's one (same seed, other draws):
   * a choice made from it leaves every draw of the main generator as it was, so adding
   * such a choice keeps the traces of the seeds it does not switch on.
   */
  constructor(seed: number, stream?: string) {
    invariant(Number.isSafeInteger(seed) && seed >= 0, `seed must be a non-negative safe integer, got ${seed}`);
    invariant(stream === undefined || /^[a-z]+$/.test(stream), `a stream is named in lower-case letters, got ${stream}`);
    this.seed = seed;
    this.next = seedrandom.alea(stream === undefined ? String(seed) : `${seed}/${stream}`);
  }

  /** A float in [0, 1) with 32 bits of randomness (alea's native output). */
  float(): number {
    return this.next();
  }

  /** A uniformly distributed integer in [0, bound) (the core's Random port). */
  intBelow(bound: number): number {
    invariant(Number.isSafeInteger(bound) && bound > 0, () => `intBelow bound must be a positive safe integer, got ${bound}`);
    // 32 random bits suffice for every bound the simulator uses (all far below 2^32);
    // above that, use 53 bits so that large bounds still reach every value.
    const unit = bound <= 0x1_0000_0000 ? this.next() : this.next.double();
    return Math.floor(unit * bound);
  }

  /** An integer in [min, max], both inclusive. */
  between(min: number, max: number): number {
    invariant(min <= max, () => `between: min ${min} > max ${max}`);
    return min + this.intBelow(max - min + 1);
  }

  /** True with probability p (p in [0, 1]). p = 0 never draws true, p = 1 always does. */
  chance(p: number): boolean {
    return this.next() < p;
  }

  /** An exponentially distributed value with the given mean (mean 0 gives 0). */
  exponential(mean: number): number {
    if (mean <= 0) return 0;
    // 1 - u lies in (0, 1], so the logarithm is finite.
    return -Math.log(1 - this.next()) * mean;
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    invariant(items.length > 0, 'pick from an empty array');
    const item = items[this.intBelow(items.length)];
    invariant(item !== undefined, 'pick: hole in array');
    return item;
  }

  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const copy = items.slice();
    for (let i = copy.length - 1; i > 0; i--) {
      const j = this.intBelow(i + 1);
      const a = copy[i] as T;
      copy[i] = copy[j] as T;
      copy[j] = a;
    }
    return copy;
  }
}
