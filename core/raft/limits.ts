// The Raft core's limits (TigerStyle: a limit on everything). Each queue the core keeps
// on behalf of others has a bound; a request that would cross it is refused with a typed
// value (`Refusal`), never a crash, and the member keeps working once the queue drains.
// Defaults are etcd's where etcd has a value, and generous: no pinned simulator run
// comes near them.

/**
 * Bytes of entry payload (entry data, as etcd-io/raft's PayloadSize counts it) a leader
 * may hold appended but not yet committed. etcd-io/raft's Config.MaxUncommittedEntriesSize
 * (etcd-io/etcd#10167): it keeps a leader that cannot commit (lost quorum) from growing
 * its log without bound while clients retry. A proposal that would cross it is dropped
 * (ErrProposalDropped there, `proposalDropped` here); a proposal into an empty
 * uncommitted tail is always taken, whatever its size, and so is an empty entry (a new
 * leader's own). 1 GiB is the value etcd's contrib/raftexample configures (1 << 30).
 */
export const MAX_UNCOMMITTED_ENTRIES_SIZE_BYTES = 1 << 30;

/**
 * ReadIndex requests a leader holds unanswered: waiting for an entry of its term to
 * commit, in a heartbeat round, or answered and waiting for this member to apply up to
 * their index. etcd-io/raft has no such cap (etcd's server keeps the count small by
 * folding every waiting read into one ReadIndex; Tern sends one per read). 4096 is etcd's
 * bound on requests queued toward a member (rafthttp's maxPendingProposals and
 * recvBufSize). A read past it is refused as `tooManyReads`; a follower drops a read
 * response past it (the read times out, as if the message were lost).
 */
export const MAX_PENDING_READ_INDEX_REQUESTS = 4096;
