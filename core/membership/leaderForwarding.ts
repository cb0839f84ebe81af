// Work only the leader can do, served from any member: on the leader the EtcdServer
// answers; on a follower the request goes to the leader through the LeaderLink port
// (the Peer service in net/, the simulated network in sim/), as etcd 3.4 forwards
// LeaseKeepAlive and LeaseTimeToLive over its peer HTTP. The reply's header is the
// answering member's own, as in etcd. A forwarded request that has no answer by its
// deadline is cancelled and answered `leader changed` (the client retries) at the
// first `expire()` after it (the member's tick).

import { etcdError, isEtcdError, type EtcdError } from '../errors.js';
import type { LeaseId } from '../lease/leaseId.js';
import type { TimeToLive } from '../lease/lessor.js';
import type { Clock, NodeId } from '../node/ports.js';
import type { EtcdServer, Reply } from '../server/server.js';
import { learnerReadiness } from '../server/learnerReadiness.js';
import { invariant } from '../util/invariant.js';
import { raftIdOf, type Membership } from './members.js';

/** Stops a forwarded call; its `done` may still be called, and is then ignored. */
export type Cancel = () => void;
/** The leader could not be reached (connection refused, reset, cancelled). */
export const UNREACHABLE = 'unreachable';
export type Unreachable = typeof UNREACHABLE;

/** How a follower asks the leader (by core id). Each call answers `done` at most once. */
export interface LeaderLink {
  keepAlive(leader: NodeId, id: LeaseId, done: (result: { ttlSeconds: number } | EtcdError | Unreachable) => void): Cancel;
  timeToLive(leader: NodeId, id: LeaseId, done: (result: TimeToLive | EtcdError | Unreachable) => void): Cancel;
  learnerReady(leader: NodeId, id: bigint, done: (result: EtcdError | null | Unreachable) => void): Cancel;
}

export interface LeaderForwardingOptions {
  readonly server: EtcdServer;
  readonly membership: Membership;
  readonly link: LeaderLink;
  readonly clock: Clock;
  readonly timeoutMs: number;
}

/** Forwarded calls in flight. etcd bounds its peer streams' buffers likewise (streamBufSize). */
export const MAX_FORWARDED = 4096;

interface InFlight {
  readonly deadlineMs: number;
  readonly cancel: Cancel;
  readonly timedOut: () => void;
}

export class LeaderForwarding {
  private readonly inFlight = new Map<number, InFlight>();
  private nextCall = 1;

  constructor(private readonly options: LeaderForwardingOptions) {
    invariant(options.timeoutMs > 0, 'a forwarding timeout must be positive');
  }

  get inFlightCount(): number {
    return this.inFlight.size;
  }

  /** EtcdServer.leaseKeepAlive, also on a follower. */
  keepAlive(request: { id: LeaseId }, reply: Reply<{ id: LeaseId; ttlSeconds: number }>): void {
    const { server, link } = this.options;
    this.served(reply, (r) => { server.leaseKeepAlive(request, r); }, (leader, done) => link.keepAlive(leader, request.id, (result) => {
      done(result === UNREACHABLE || isEtcdError(result) ? result : { id: request.id, ttlSeconds: result.ttlSeconds });
    }));
  }

  /** EtcdServer.leaseTimeToLive, also on a follower. */
  timeToLive(request: { id: LeaseId }, reply: Reply<TimeToLive>): void {
    const { server, link } = this.options;
    this.served(reply, (r) => { server.leaseTimeToLive(request, r); }, (leader, done) => link.timeToLive(leader, request.id, done));
  }

  /** Whether learner `id` may be promoted (null) or why not: decided by the leader. */
  learnerReady(id: bigint, done: (notReady: EtcdError | null) => void): void {
    const leader = this.leader();
    if (leader === 'self') { done(this.learnerReadyHere(id)); return; }
    if (leader === null) { done(etcdError('noLeader')); return; }
    this.call<EtcdError | null>((finish) => this.options.link.learnerReady(leader, id, finish), (result) => {
      done(result === UNREACHABLE ? etcdError('leaderChanged') : result);
    });
  }

  /** This member's answer as leader (a follower answers `not leader`). */
  learnerReadyHere(id: bigint): EtcdError | null {
    const raft = this.options.server.driver.raft;
    return learnerReadiness((raftId) => raft.matchOf(raftId), this.options.membership.selfRaftId, raftIdOf(id));
  }

  /** Cancels every call past its deadline and answers it `leader changed` (call it on every tick). */
  expire(): void {
    if (this.inFlight.size === 0) return;
    const nowMs = this.options.clock.nowMs();
    for (const [callId, call] of this.inFlight) {
      if (call.deadlineMs > nowMs) continue;
      this.inFlight.delete(callId);
      call.cancel();
      call.timedOut();
    }
  }

  /** 'self' on the leader, else the leader's core id if it is a known member, or null. */
  private leader(): 'self' | NodeId | null {
    const status = this.options.server.driver.status();
    if (status.role === 'leader') return 'self';
    return this.options.membership.byRaftId(status.lead) === undefined ? null : status.lead;
  }

  /**
   * Answers with `local` on the leader; on a follower, asks the leader (`remote`) and
   * answers with its result under this member's header. No leader known: `no leader`;
   * the leader unreachable or silent: `leader changed` (the client retries).
   */
  private served<T extends object>(
    reply: Reply<T>,
    local: (reply: Reply<T>) => void,
    remote: (leader: NodeId, done: (result: T | EtcdError | Unreachable) => void) => Cancel,
  ): void {
    const leader = this.leader();
    if (leader === 'self') { local(reply); return; }
    if (leader === null) { reply(etcdError('noLeader')); return; }
    this.call<T | EtcdError>((finish) => remote(leader, finish), (result) => {
      if (result === UNREACHABLE) reply(etcdError('leaderChanged'));
      else reply(isEtcdError(result) ? result : { header: this.options.server.header(), ...result });
    });
  }

  /** Starts a call with a deadline; `settle` is called exactly once (a timeout counts as unreachable). */
  private call<R>(start: (finish: (result: R | Unreachable) => void) => Cancel, settle: (result: R | Unreachable) => void): void {
    if (this.inFlight.size >= MAX_FORWARDED) { settle(UNREACHABLE); return; }
    const callId = this.nextCall++;
    // An object, not a let: the compiler does not see `finish` change it during `start`.
    const state = { settled: false };
    const finish = (result: R | Unreachable): void => {
      if (state.settled) return;
      state.settled = true;
      this.inFlight.delete(callId);
      settle(result);
    };
    const cancel = start(finish);
    if (state.settled) return; // answered at once
    this.inFlight.set(callId, {
      deadlineMs: this.options.clock.nowMs() + this.options.timeoutMs,
      cancel,
      timedOut: () => { finish(UNREACHABLE); },
    });
  }
}
