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
  if (voters.length === 0) return Number.POSITIVE_INFINITY;
  const acked = voters.map(ackedIndex).sort((a, b) => b - a);
  const index = acked[majority(voters.length) - 1];
  return index ?? 0;
}

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
