// What the search needs from a sequential specification.
//
// Models are pure: step never mutates its argument, so the search can keep old
// states on its backtracking stack without copying them. States should be small
// and cheap to compare, because the memo cache compares them on every hit.

export interface Model<S, I, O> {
  readonly name: string;
  init(): S;
  /** The state after a completed op, or undefined when `output` is impossible from `state`. */
  step(state: S, input: I, output: O): S | undefined;
  /**
   * The state after an op whose outcome is unknown, linearized here. Always legal:
   * if the op could not have taken effect in `state` it is a no-op (it "never
   * happened"), which together with its infinite return time is exactly Knossos's
   * "happened at some point after its call, or never".
   */
  stepUnknown(state: S, input: I): S;
  equal(a: S, b: S): boolean;
  /** A 32-bit hash that agrees with equal. */
  hash(state: S): number;
  /** True when the op never changes the state; unknown read-only ops are dropped before search. */
  readOnly(input: I): boolean;
  /**
   * The keys an op touches. When present, the history is split into independent
   * parts (P-compositionality): ops are joined by union-find over shared keys and
   * each part is checked from init(). Only sound when no state couples the keys.
   */
  readonly keys?: (input: I) => readonly string[];
  describeOperation(input: I, output: O | undefined): string;
  describeState(state: S): string;
}

/** FNV-1a over a string: a cheap, stable 32-bit hash for string states. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h | 0;
}

/** Mixes a number into a well-spread 32-bit hash (integers and NaN-free doubles). */
export function hashNumber(n: number): number {
  const lo = n | 0;
  const hi = Math.floor(n / 4294967296) | 0;
  let h = Math.imul(lo ^ 0x9e3779b9, 0x85ebca6b) ^ hi;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}
