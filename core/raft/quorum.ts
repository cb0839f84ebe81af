// Majority arithmetic, kept apart from the state machine so it can be tested alone.

import type { NodeId } from './types.js';

export type VoteResult = 'won' | 'lost' | 'pending';

export function majority(voterCount: number): number {
  return Math.floor(voterCount / 2) + 1;
}

/**
 * The largest index that a majority of voters has acknowledged. With acked indexes
 * [9, 7, 5, 3, 1] (five voters, majority 3), it is 5: three voters have ≥ 5.
 * An empty configuration commits nothing... but is never asked (invariant upstream).
 */
export function committedIndex(voters: readonly NodeId[], ackedIndex: (id: NodeId) => number): number {
  const n = voters.length;
  if (n === 0) return Number.POSITIVE_INFINITY;
  // Sorted descending in place by insertion (a handful of voters), in a scratch array
  // reused across calls: the leader asks after every append acknowledgement.
  if (ackedScratch.length < n) ackedScratch = new Float64Array(2 * n);
  const acked = ackedScratch;
  for (let i = 0; i < n; i++) {
    const value = ackedIndex(voters[i] ?? 0);
    let j = i;
    while (j > 0 && (acked[j - 1] ?? 0) < value) {
      acked[j] = acked[j - 1] ?? 0;
      j--;
    }
    acked[j] = value;
  }
  return acked[majority(n) - 1] ?? 0;
}

/** committedIndex's sort space: only ever read within one call. */
let ackedScratch = new Float64Array(16);

/** Tallies votes: won once a majority granted, lost once a majority can no longer grant. */
export function voteResult(voters: readonly NodeId[], votes: ReadonlyMap<NodeId, boolean>): VoteResult {
  if (voters.length === 0) return 'won';
  let granted = 0;
  let rejected = 0;
  for (const id of voters) {
    const vote = votes.get(id);
    if (vote === true) granted++;
    else if (vote === false) rejected++;
  }
  const needed = majority(voters.length);
  if (granted >= needed) return 'won';
  if (voters.length - rejected < needed) return 'lost';
  return 'pending';
}
