// etcd's health half of mayRemoveMember (etcdserver/server.go, --strict-reconfig-check):
// removing a voter must leave a quorum of the voters connected. A member counts as
// connected when the stream to it has been up for the health interval (etcd's
// numConnectedSince); this member always counts. A member that is down is not part of
// the active quorum, so removing it is always allowed (that is how a dead member gets
// replaced).

import { invariant } from '../util/invariant.js';

/** etcd's HealthInterval. */
export const HEALTH_INTERVAL_MS = 5000;

export interface ConnectedView {
  readonly self: bigint;
  /** The voting members' ids (this member among them, unless it is a learner). */
  readonly voters: readonly bigint[];
  /** Since when the stream to a member has been up, in the same clock as nowMs; null: down. */
  readonly activeSinceMs: (id: bigint) => number | null;
  readonly nowMs: number;
}

/** Whether removing voter `id` keeps a connected quorum (false: etcd's "unhealthy cluster"). */
export function removalKeepsConnectedQuorum(view: ConnectedView, id: bigint): boolean {
  invariant(view.voters.includes(id), () => `member ${id.toString(16)} is not a voter`);
  if (id !== view.self && view.activeSinceMs(id) === null) return true;
  const since = view.nowMs - HEALTH_INTERVAL_MS;
  const connected = view.voters.filter((m) => {
    if (m === view.self) return true;
    const up = view.activeSinceMs(m);
    return up !== null && up <= since;
  }).length;
  return connected - 1 >= 1 + Math.floor((view.voters.length - 1) / 2);
}
