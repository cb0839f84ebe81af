// Lease work only the leader can do, served from any member: on the leader the
// EtcdServer answers; on a follower the request goes to the leader over the Peer
// service (etcd 3.4 forwards LeaseKeepAlive and LeaseTimeToLive the same way, over its
// peer HTTP). The reply's header is the answering member's own, as in etcd.

import { etcdError } from '../../core/errors.js';
import type { TimeToLive } from '../../core/lease/lessor.js';
import type { EtcdServer, Reply } from '../../core/server/server.js';
import { hostPort } from '../config/urls.js';
import type { PeerClients } from './client.js';
import type { Membership } from './membership.js';

/** EtcdServer.leaseKeepAlive's shape: a drop-in that also works on followers. */
export type KeepAlive = (request: { id: number }, reply: Reply<{ id: number; ttlSeconds: number }>) => void;
/** EtcdServer.leaseTimeToLive's shape: a drop-in that also works on followers. */
export type LeaseTimeToLive = (request: { id: number }, reply: Reply<TimeToLive>) => void;

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
    const address = hostPort(membership.byRaftId(status.lead)?.peerUrls[0] ?? '');
    return address === null ? null : { address };
  };
  const keepAlive: KeepAlive = (request, reply) => {
    const at = leader();
    if (at === 'self') {
      server.leaseKeepAlive(request, reply);
      return;
    }
    if (at === null) {
      reply(etcdError('noLeader'));
      return;
    }
    peers.keepAlive(at.address, request.id, timeoutMs).then((result) => {
      reply('kind' in result ? result : { header: server.header(), id: request.id, ttlSeconds: result.ttlSeconds });
    }, () => { reply(etcdError('leaderChanged')); });
  };
  const timeToLive: LeaseTimeToLive = (request, reply) => {
    const at = leader();
    if (at === 'self') {
      server.leaseTimeToLive(request, reply);
      return;
    }
    if (at === null) {
      reply(etcdError('noLeader'));
      return;
    }
    peers.timeToLive(at.address, request.id, timeoutMs).then((result) => {
      reply('kind' in result ? result : { header: server.header(), ...result });
    }, () => { reply(etcdError('leaderChanged')); });
  };
  return { keepAlive, timeToLive };
}
