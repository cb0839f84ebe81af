// When a learner may be promoted (etcd's isLearnerReady): only the leader knows how far
// each member's log matches its own, and a learner within 90% of the leader's match is
// in sync. A learner the leader does not track is not refused here (the conf change then
// fails on membership, as in etcd).

import type { EtcdError } from '../errors.js';
import { etcdError } from '../errors.js';
import type { NodeId } from '../raft/types.js';

/** etcd's readyPercent. */
export const LEARNER_READY_FRACTION = 0.9;

/** `matchOf`: the leader's view of a member's match (RawNode.matchOf); null off the leader. */
export function learnerReadiness(matchOf: (id: NodeId) => number | null, self: NodeId, learner: NodeId): EtcdError | null {
  const leaderMatch = matchOf(self);
  if (leaderMatch === null) return etcdError('notLeader');
  const learnerMatch = matchOf(learner);
  if (learnerMatch === null) return null;
  return learnerMatch < leaderMatch * LEARNER_READY_FRACTION ? etcdError('learnerNotReady') : null;
}
