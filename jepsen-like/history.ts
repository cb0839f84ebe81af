// The checker's view of a history: one record per client operation.
//
// A record pairs an invocation with its completion. Times are any monotone
// numbers (event indices for the public logs, simulated ticks for Tern runs);
// intervals are closed, so an op that returns at t and one invoked at t overlap.
//
// Outcome "fail" never reaches the search: a failed op provably did not happen
// and the parsers drop it. Outcome "unknown" (a timeout, a crash) means the op
// may have taken effect at any point after its call, or never; its return time
// is +Infinity and its output is not checked.

export type Outcome = 'ok' | 'unknown';

export interface Operation<I, O> {
  /** Index in the history, 0..n-1; stable across partitioning. */
  readonly id: number;
  readonly process: number | string;
  readonly call: number;
  /** +Infinity when the outcome is unknown. */
  readonly ret: number;
  readonly input: I;
  /** Present iff the outcome is ok. */
  readonly output: O | undefined;
  readonly outcome: Outcome;
  /** 1-based line of the invocation in the source file, for messages. */
  readonly line: number;
}

export type Verdict = 'ok' | 'illegal' | 'unknown';

/** A malformed input, located precisely enough for a person to fix it. */
export class HistoryFormatError extends Error {
  override readonly name = 'HistoryFormatError';
  constructor(
    readonly line: number,
    readonly reason: string,
  ) {
    super(`line ${line}: ${reason}`);
  }
}
