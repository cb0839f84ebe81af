// The LeaderLink port (core/membership/leaderForwarding.ts) over the Peer service: the
// leader's core id becomes its first peer URL's address, and the call goes through the
// member's PeerClients.

import type { LeaderLink } from '../../core/membership/leaderForwarding.js';
import { UNREACHABLE } from '../../core/membership/leaderForwarding.js';
import type { Membership } from '../../core/membership/members.js';
import type { NodeId } from '../../core/raft/types.js';
import { peerDialTarget } from '../config/urls.js';
import type { PeerClients } from './client.js';

export function peerLeaderLink(membership: Membership, peers: PeerClients): LeaderLink {
  const addressOf = (leader: NodeId): string | null => peerDialTarget(membership.byRaftId(leader)?.peerUrls[0] ?? '');
  const noCall = (): void => undefined;
  return {
    keepAlive: (leader, id, done) => {
      const address = addressOf(leader);
      if (address === null) { done(UNREACHABLE); return noCall; }
      return peers.keepAlive(address, id, done);
    },
    timeToLive: (leader, id, done) => {
      const address = addressOf(leader);
      if (address === null) { done(UNREACHABLE); return noCall; }
      return peers.timeToLive(address, id, done);
    },
    learnerReady: (leader, id, done) => {
      const address = addressOf(leader);
      if (address === null) { done(UNREACHABLE); return noCall; }
      return peers.learnerReady(address, id, done);
    },
  };
}
