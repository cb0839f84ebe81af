// The server core's limits (TigerStyle: a limit on everything). Every map EtcdServer
// keeps on behalf of clients has a bound; a request that would cross one is answered at
// once with etcd's `etcdserver: too many requests` (ResourceExhausted, etcd's
// ErrTooManyRequests), and the member keeps serving once the backlog drains. Defaults are
// etcd's where etcd has a value, and generous: no pinned simulator run comes near them.

/**
 * Committed entries this member may have left unapplied before it refuses new
 * proposals: etcd's maxGapBetweenApplyAndCommitIndex (etcdserver/v3_server.go), checked
 * before every proposal (committed index > applied index + 5000: ErrTooManyRequests).
 */
export const MAX_GAP_BETWEEN_APPLY_AND_COMMIT_INDEX = 5000;

/**
 * Proposals this member may have waiting for their entry to apply (etcd's
 * proposals_pending). etcd bounds it only through the gap above; 4096 is etcd's figure
 * for concurrent proposers (rafthttp's maxPendingProposals: "we assume the number of
 * concurrent proposers is smaller than 4096").
 */
export const MAX_PENDING_PROPOSALS = 4096;

/**
 * Linearizable reads this member may have waiting for their ReadIndex round or for
 * apply to reach their index. etcd folds waiting reads into one ReadIndex and has no
 * count; Tern takes the core's own bound (core/raft/limits.ts, 4096).
 */
export const MAX_PENDING_READS = 4096;

/**
 * Requests held while no leader is known, retried every tick. Each is also a pending
 * proposal or read, so this follows from the two limits above (asserted, never refused).
 */
export const MAX_UNSENT_REQUESTS = MAX_PENDING_PROPOSALS + MAX_PENDING_READS;

/**
 * Expired leases whose revoke the leader proposed and has not seen applied. etcd's lessor
 * revokes at most leaseRevokeRate = 1000 leases a second; Tern holds at most 1000 revokes
 * in flight, and later expired leases wait for a later tick.
 */
export const MAX_LEASES_REVOKING = 1000;

/** The limits a test may lower (a member's defaults are the constants above). */
export interface ServerLimits {
  readonly applyGapEntries: number;
  readonly pendingProposals: number;
  readonly pendingReads: number;
}

export const DEFAULT_SERVER_LIMITS: ServerLimits = {
  applyGapEntries: MAX_GAP_BETWEEN_APPLY_AND_COMMIT_INDEX,
  pendingProposals: MAX_PENDING_PROPOSALS,
  pendingReads: MAX_PENDING_READS,
};
