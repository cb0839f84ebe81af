// The checker's boundary for lease ids. The core holds them as bigints (etcd's int64);
// the history format and the checker's models (jepsen-like/etcd) hold them as JSON
// numbers. The simulated clients choose their own ids from a small counter, so every
// id that reaches a history is a safe integer: converted exactly, and asserted so.

import { assertLeaseId, type LeaseId } from '../core/lease/leaseId.js';
import { invariant } from '../core/util/invariant.js';

/** A core lease id as the history records it (exact: asserted to be a safe integer). */
export function historyLeaseId(id: LeaseId): number {
  assertLeaseId(id);
  const n = Number(id);
  invariant(Number.isSafeInteger(n), () => `lease id ${id} does not fit the history's numbers (the sim chooses small ids)`);
  return n;
}

/** A lease id the simulated clients chose (a small counter), for the core. */
export function coreLeaseId(id: number): LeaseId {
  invariant(Number.isSafeInteger(id), () => `a simulated client's lease id ${id} must be a safe integer`);
  return BigInt(id);
}
