// Assertions that are never compiled out (TigerStyle; etcd-raft's panics).
//
// A broken invariant means the code is wrong, not that the input was unusual:
// the only safe response is to stop. Expected refusals (a proposal to a follower,
// a read before a leader exists) are typed results, never invariant failures.

export class InvariantError extends Error {
  override readonly name = 'InvariantError';
}

/** Throws InvariantError when `condition` is false. */
export function invariant(condition: boolean, message: string | (() => string)): asserts condition {
  if (!condition) {
    throw new InvariantError(typeof message === 'string' ? message : message());
  }
}

/**
 * Throws InvariantError, for a branch already known to be wrong. Hot paths keep
 * `invariant(condition, () => message)`: measured on the simulator, writing the message's
 * template inline in the hot function made it ~6% slower (a bigger function is inlined
 * less), more than the closure costs.
 */
export function invariantFailed(message: string): never {
  throw new InvariantError(message);
}

/** Marks a branch that a well-formed discriminated union can never reach. */
export function unreachable(value: never, what: string): never {
  // bigints (lease ids) print as their digits: JSON.stringify throws on them.
  const printed = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  throw new InvariantError(`unreachable ${what}: ${printed}`);
}
