// Lease work only the leader can do, served from any member: on the leader the
// EtcdServer answers; on a follower the request goes to the leader over the Peer
// service (etcd 3.4 forwards LeaseKeepAlive and LeaseTimeToLive the same way, over its
// peer HTTP). The reply's header is the answering member's own, as in etcd.

import { etcdError, isEtcdError, type EtcdError } from '../../core/errors.js';
import type { LeaseId } from '../../core/lease/leaseId.js';
import type { TimeToLive } from '../../core/lease/lessor.js';
import type { EtcdServer, Reply } from '../../core/server/server.js';
import { peerDialTarget } from '../config/urls.js';
import type { PeerClients } from './client.js';
import type { Membership } from './membership.js';

/** EtcdServer.leaseKeepAlive's shape: a drop-in that also works on followers. */
export type KeepAlive = (request: { id: LeaseId }, reply: Reply<{ id: LeaseId; ttlSeconds: number }>) => void;
/** EtcdServer.leaseTimeToLive's shape: a drop-in that also works on followers. */
export type LeaseTimeToLive = (request: { id: LeaseId }, reply: Reply<TimeToLive>) => void;

export interface LeaderOnlyDeps {
  readonly server: EtcdServer;
  readonly membership: Membership;
  readonly peers: PeerClients;
  readonly timeoutMs: number;
}

export function leaderOnly(deps: LeaderOnlyDeps): { keepAlive: KeepAlive; timeToLive: LeaseTimeToLive } {
  const { server, membership, peers, timeoutMs } = deps;
  /** 'self' on the leader, else the leader's peer address, or null if none is known. */
  const leader = (): 'self' | { readonly address: string } | null => {
    const status = server.driver.status();
    if (status.role === 'leader') return 'self';
    const address = peerDialTarget(membership.byRaftId(status.lead)?.peerUrls[0] ?? '');
    return address === null ? null : { address };
  };
  /**
   * Answers with `local` on the leader; on a follower, asks the leader (`remote`) and
   * answers with its result under this member's header. No leader known: `no leader`;
   * the leader unreachable: `leader changed` (the client retries).
   */
  const served = <T extends object>(
    reply: Reply<T>, local: (reply: Reply<T>) => void, remote: (address: string) => Promise<T | EtcdError>,
  ): void => {
    const at = leader();
    if (at === 'self') {
      local(reply);
      return;
    }
    if (at === null) {
      reply(etcdError('noLeader'));
      return;
    }
    remote(at.address).then((result) => {
      reply(isEtcdError(result) ? result : { header: server.header(), ...result });
    }, () => { reply(etcdError('leaderChanged')); });
  };
  const keepAlive: KeepAlive = (request, reply) => {
    served(reply, (r) => { server.leaseKeepAlive(request, r); }, async (address) => {
      const result = await peers.keepAlive(address, request.id, timeoutMs);
      return isEtcdError(result) ? result : { id: request.id, ttlSeconds: result.ttlSeconds };
    });
  };
  const timeToLive: LeaseTimeToLive = (request, reply) => {
    served(reply, (r) => { server.leaseTimeToLive(request, r); }, (address) => peers.timeToLive(address, request.id, timeoutMs));
  };
  return { keepAlive, timeToLive };
}
