// Test-only switches that break the core in known ways. The simulator's
// planted-bug test turns each on and must find a safety violation within 100
// seeds: that is how we know the simulator can catch what it claims to catch.
// Production never sets them.

export interface PlantedBugs {
  /** Send vote grants before the term/vote that justify them are durable. */
  readonly voteWithoutPersist?: boolean;
  /** Commit an old-term entry by counting replicas (violates Raft §5.4.2, Figure 8). */
  readonly commitOldTermByCounting?: boolean;
  /** Append entries without truncating a conflicting suffix first. */
  readonly appendWithoutTruncate?: boolean;
  /**
   * With auth on: decide a write's permission when it reaches the member (against the
   * auth store as of its arrival), carry that verdict in the entry, and skip the check
   * at apply — so a permission granted or revoked in between is not seen.
   */
  readonly authCheckStaleRevision?: boolean;
  /**
   * etcd #14370 (3.4 before 3.4.21): a member that is the only voter counts its own
   * append toward the commit at once, and the driver applies a Ready's committed entries
   * before that Ready's write is durable. The client hears "ok" for a put a power loss
   * then erases.
   */
  readonly ackBeforeDurable?: boolean;
  /**
   * etcd #15271: a watch whose start revision this member has not reached yet (a client
   * resuming on a lagging member) is served from the member's current revision + 1, so
   * it hears again revisions its client already had.
   */
  readonly watchBackInTime?: boolean;
  /**
   * etcd #20221 (all releases before 3.6.2): a watch on a future revision hears progress
   * notifications below its start, and a snapshot restore moves it back to the store's
   * revision + 1, so it gets old events too.
   */
  readonly futureWatchOldEvents?: boolean;
  /**
   * etcd #15220: a requested progress notification is answered at once with the store's
   * revision, ahead of events of that stream still buffered or to be caught up.
   */
  readonly progressNotifyAhead?: boolean;
  /**
   * etcd #17529: a watcher whose buffer overflows (a congested stream) is moved to the
   * catch-up path past the revision that overflowed it, whose events are lost.
   */
  readonly slowWatcherDropsEvents?: boolean;
  /**
   * etcd #18089 / #19179: compaction at revision c removes a delete at c too, so a watch
   * from c (where a compacted client resumes) misses that delete.
   */
  readonly compactDropsDeleteEvent?: boolean;
  /**
   * etcd #20418's class (stale reads after a process pause): a linearizable read that
   * arrives while this member's last ReadIndex round is still out is answered by that
   * round instead of one sent after it arrived. Across a pause, the round sent before it
   * answers reads that came during it, below writes the cluster acknowledged meanwhile.
   */
  readonly reuseReadIndex?: boolean;
  /**
   * etcd #9395: a new leader restarts every lease from its full TTL, ignoring the
   * replicated lease clock and checkpoints, so a key outlives its lease.
   */
  readonly leaseTtlResetLost?: boolean;
  /**
   * No etcd issue: a plain, deterministic fault for the real-cluster tool's own test
   * (`npm run jepsen -- --planted-bug`): a synced watcher skips every revision that is
   * a multiple of 100, so any watch that sees a few hundred revisions loses events.
   */
  readonly watchSkipsHundredthRevision?: boolean;
}

export const NO_BUGS: PlantedBugs = {};
