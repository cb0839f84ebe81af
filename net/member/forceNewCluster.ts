// --force-new-cluster on a member's data dir: before it starts, its log gets the
// committed conf changes that leave it alone in the cluster (core/node/forceNewCluster.ts);
// the membership record follows when they apply, as for any removal. A data dir with no
// log yet is a new member, and the flag changes nothing (as in etcd, which forces only a
// restart).

import { forceNewClusterWrite } from '../../core/node/forceNewCluster.js';
import type { LogStore } from '../../core/node/ports.js';
import { encodeContext, type Membership } from '../../core/membership/members.js';

export interface Forced {
  readonly commitIndex: number;
  /** The etcd ids (hex) of the members removed. */
  readonly removed: readonly string[];
}

/** Writes the changes and waits until they are durable; null for a member with no log. Throws on a disk failure. */
export async function forceNewCluster(logStore: LogStore, membership: Membership): Promise<Forced | null> {
  const recovered = logStore.recover();
  if ('kind' in recovered) throw new Error(`the raft log does not recover: ${recovered.detail}`);
  if (recovered.entries.length === 0 && recovered.snapshot === null) return null;
  const self = membership.selfRaftId;
  let nonce = 0;
  const forced = forceNewClusterWrite(recovered, { voters: membership.voters(), learners: membership.learners() }, self, (change) => {
    const known = membership.byRaftId(change.nodeId);
    // A member the record no longer lists (removed, or never published) has nothing to drop from it.
    const member = known ?? (change.nodeId === self ? membership.get(membership.selfId) : undefined);
    if (member === undefined) return undefined;
    const op = change.type === 'removeVoter' ? 'remove' : 'promote';
    return encodeContext({ op, member, nonce: `force-new-cluster-${membership.selfId.toString(16)}-${nonce++}` });
  });
  await new Promise<void>((resolve, reject) => {
    logStore.write(forced.write, (result) => {
      if (result.kind === 'ok') resolve();
      else reject(new Error(`writing the forced configuration failed: ${result.detail}`));
    });
  });
  return {
    commitIndex: forced.write.hardState?.commit ?? 0,
    removed: forced.removed.map((id) => (membership.byRaftId(id)?.id ?? BigInt(id)).toString(16)),
  };
}
