// The LeaderLink port (core/membership/leaderForwarding.ts) in the simulator: a
// follower's forwarded call travels the simulated network to the member it takes for
// the leader, runs there as that member (held while it is paused, lost if it is down),
// and its answer travels back. A blocked link, a lost call or a member that died on
// the way leaves the call unanswered, as a TCP call that hangs: the follower's deadline
// answers it `leader changed`, as in net/.

import { isEtcdError } from '../core/errors.js';
import type { LeaderLink } from '../core/membership/leaderForwarding.js';
import type { NodeId } from '../core/raft/types.js';
import type { EtcdServer } from '../core/server/server.js';
import type { SimMemberCore } from './memberCore.js';
import type { SimNetwork } from './network.js';

/** What the link needs of a simulated member (cluster.ts SimMember has it). */
export interface LinkMember {
  readonly id: NodeId;
  readonly incarnation: number;
  readonly server: EtcdServer | null;
  readonly core: SimMemberCore | null;
}

/** What the link needs of the cluster: its members, and running work as one of them (held while it is paused). */
export interface LinkCluster<M extends LinkMember> {
  member(id: NodeId): M;
  runOn(member: M, work: () => void, logMayChange: boolean): void;
}

/** A call as the leader's member runs it; its answer goes to `answer`. */
type LeaderCall<R> = (server: EtcdServer, member: LinkMember, answer: (result: R) => void) => void;

export function simLeaderLink<M extends LinkMember>(cluster: LinkCluster<M>, network: SimNetwork, self: M): LeaderLink {
  /** Sends `call` to `leader`; `done` gets the answer back on `self` unless either incarnation ended or it was cancelled. */
  const forward = <R>(leader: NodeId, call: LeaderCall<R>, done: (result: R) => void): (() => void) => {
    const state = { cancelled: false };
    const incarnation = self.incarnation;
    network.call(self.id, leader, () => {
      const target = cluster.member(leader);
      const targetIncarnation = target.incarnation;
      cluster.runOn(target, () => {
        const server = target.server;
        if (server === null) return;
        call(server, target, (result) => {
          if (target.incarnation !== targetIncarnation) return;
          network.call(leader, self.id, () => {
            cluster.runOn(self, () => {
              if (!state.cancelled && self.incarnation === incarnation) done(result);
            }, false);
          });
        });
      }, false);
    });
    return () => { state.cancelled = true; };
  };
  return {
    keepAlive: (leader, id, done) => forward(leader, (server, _member, answer) => {
      server.leaseKeepAlive({ id }, (r) => { answer(isEtcdError(r) ? r : { ttlSeconds: r.ttlSeconds }); });
    }, done),
    timeToLive: (leader, id, done) => forward(leader, (server, _member, answer) => {
      server.leaseTimeToLive({ id }, (r) => { answer(isEtcdError(r) ? r : { id: r.id, ttlSeconds: r.ttlSeconds, grantedTtlSeconds: r.grantedTtlSeconds, keys: r.keys }); });
    }, done),
    learnerReady: (leader, id, done) => forward(leader, (_server, member, answer) => {
      const forwarding = member.core?.forwarding;
      if (forwarding !== undefined) answer(forwarding.learnerReadyHere(id));
    }, done),
  };
}
