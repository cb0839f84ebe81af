// Membership changes (etcd's MemberAdd/Remove/Update/Promote) as Raft conf changes,
// one at a time: check the request against the current members, propose the change
// with the member's record as its context, and answer once it has been applied here.
// Time comes from the member's clock; a change that has not applied by its deadline is
// answered `request timed out` at the first `expire()` after it (the member's tick).

import { etcdError, type EtcdError } from '../errors.js';
import type { NodeDriver } from '../node/driver.js';
import type { Clock } from '../node/ports.js';
import type { ConfChangeType, NodeId } from '../raft/types.js';
import { invariant } from '../util/invariant.js';
import { encodeContext, raftIdOf, type ConfChangeContext, type MemberRecord, type Membership } from './members.js';
import { removalKeepsConnectedQuorum } from './removalHealth.js';

export interface ReconfigOptions {
  readonly driver: NodeDriver;
  readonly membership: Membership;
  readonly clock: Clock;
  /**
   * The id of a member added at runtime. etcd mixes the time into it (NewMember with
   * `now`, whole seconds) so that re-adding the same URLs later gives a new id.
   */
  readonly newMemberId: (peerUrls: readonly string[], nowSeconds: number) => bigint;
  /** Whether a peer URL is one this member could dial (etcd's "member bad URLs" otherwise). */
  readonly validPeerUrl: (url: string) => boolean;
  /** How long to wait for the change to apply before `request timed out`. */
  readonly timeoutMs: number;
  /** etcd's --strict-reconfig-check (default true): refuse changes that would leave too few started voters. */
  readonly strict?: boolean;
  /** Since when a stream with a member (by core id) has been up, on `clock`; null: down (etcd's ActiveSince). None: no health check. */
  readonly activeSinceMs?: (raftId: NodeId) => number | null;
  /** Whether the leader finds learner `id` in sync (null) or why not; none: always in sync. */
  readonly learnerReady?: (id: bigint, done: (notReady: EtcdError | null) => void) => void;
}

export type ReconfigOutcome = MemberRecord | EtcdError;
export type ReconfigReply = (outcome: ReconfigOutcome) => void;

/** etcd 3.4 allows one learner at a time. */
const MAX_LEARNERS = 1;
/**
 * Changes proposed and not yet applied or timed out. Raft takes one conf change at a
 * time, so more than a few waiting means clients retry faster than changes apply.
 */
export const MAX_WAITING_CHANGES = 64;

interface Waiting {
  readonly deadlineMs: number;
  readonly reply: ReconfigReply;
}

export class Reconfigurer {
  private readonly waiting = new Map<string, Waiting>();
  private nextNonce = 1;

  constructor(private readonly options: ReconfigOptions) {
    invariant(options.timeoutMs > 0, 'a reconfiguration timeout must be positive');
  }

  private strict(): boolean {
    return this.options.strict ?? true;
  }

  /** How many changes wait to be applied (bounded by MAX_WAITING_CHANGES). */
  get waitingCount(): number {
    return this.waiting.size;
  }

  add(peerUrls: readonly string[], isLearner: boolean, reply: ReconfigReply): void {
    const { membership } = this.options;
    if (peerUrls.length === 0 || !peerUrls.every(this.options.validPeerUrl)) { reply(etcdError('memberBadURLs')); return; }
    const taken = new Set(membership.list().flatMap((m) => m.peerUrls));
    if (peerUrls.some((u) => taken.has(u))) { reply(etcdError('peerURLExist')); return; }
    if (isLearner && membership.learners().length >= MAX_LEARNERS) { reply(etcdError('tooManyLearners')); return; }
    if (!isLearner && this.strict() && !readyToAddVoter(membership.list())) { reply(etcdError('notEnoughStarted')); return; }
    const id = this.options.newMemberId(peerUrls, Math.floor(this.options.clock.nowMs() / 1000));
    if (membership.get(id) !== undefined) { reply(etcdError('memberExist')); return; }
    const member: MemberRecord = { id, name: '', peerUrls: [...peerUrls], clientUrls: [], isLearner };
    this.propose(isLearner ? 'addLearner' : 'addVoter', { op: 'add', member }, reply);
  }

  remove(id: bigint, reply: ReconfigReply): void {
    const member = this.options.membership.get(id);
    if (member === undefined) { reply(etcdError('memberNotFound')); return; }
    if (!member.isLearner && this.strict() && !readyToRemoveVoter(this.options.membership.list(), id)) { reply(etcdError('notEnoughStarted')); return; }
    if (!member.isLearner && this.strict() && !this.keepsConnectedQuorum(id)) { reply(etcdError('unhealthy')); return; }
    this.propose('removeVoter', { op: 'remove', member }, reply);
  }

  /** etcd's mayRemoveMember health check (core/membership/removalHealth.ts). */
  private keepsConnectedQuorum(id: bigint): boolean {
    const activeSince = this.options.activeSinceMs;
    if (activeSince === undefined) return true;
    const { membership } = this.options;
    const self = membership.selfId;
    const nowMs = this.options.clock.nowMs();
    return removalKeepsConnectedQuorum({
      self,
      voters: membership.list().filter((m) => !m.isLearner).map((m) => m.id),
      activeSinceMs: (member) => (member === self ? nowMs : activeSince(raftIdOf(member))),
      nowMs,
    }, id);
  }

  update(id: bigint, peerUrls: readonly string[], reply: ReconfigReply): void {
    const { membership } = this.options;
    const member = membership.get(id);
    if (member === undefined) { reply(etcdError('memberNotFound')); return; }
    if (peerUrls.length === 0 || !peerUrls.every(this.options.validPeerUrl)) { reply(etcdError('memberBadURLs')); return; }
    const taken = new Set(membership.list().filter((m) => m.id !== id).flatMap((m) => m.peerUrls));
    if (peerUrls.some((u) => taken.has(u))) { reply(etcdError('peerURLExist')); return; }
    // The core has no "update" change: re-adding a member in its current role is a
    // no-op for Raft that still carries the new URLs to every member through the log.
    this.propose(member.isLearner ? 'addLearner' : 'addVoter', { op: 'update', member: { ...member, peerUrls: [...peerUrls] } }, reply);
  }

  /** etcd's mayPromoteMember: the learner in sync with the leader, then --strict-reconfig-check. */
  promote(id: bigint, reply: ReconfigReply): void {
    const member = this.options.membership.get(id);
    if (member === undefined) { reply(etcdError('memberNotFound')); return; }
    if (!member.isLearner) { reply(etcdError('memberNotLearner')); return; }
    const proceed = (notReady: EtcdError | null): void => {
      if (notReady !== null) { reply(notReady); return; }
      // Asked anew: the members may have changed while the leader was asked.
      const now = this.options.membership.get(id);
      if (now === undefined) { reply(etcdError('memberNotFound')); return; }
      if (!now.isLearner) { reply(etcdError('memberNotLearner')); return; }
      if (this.strict() && !readyToPromote(this.options.membership.list())) { reply(etcdError('notEnoughStarted')); return; }
      this.propose('addVoter', { op: 'promote', member: { ...now, isLearner: false } }, reply);
    };
    const ask = this.options.learnerReady;
    if (ask === undefined) proceed(null);
    else ask(id, proceed);
  }

  /** A conf change was applied (the membership has adopted it): answer its request. */
  settle(context: ConfChangeContext): void {
    const waiting = this.waiting.get(context.nonce);
    if (waiting === undefined) return; // proposed elsewhere, or timed out already
    this.waiting.delete(context.nonce);
    waiting.reply(this.options.membership.get(context.member.id) ?? context.member);
  }

  /** Answers `request timed out` to every change past its deadline (call it on every tick). */
  expire(): void {
    if (this.waiting.size === 0) return;
    const nowMs = this.options.clock.nowMs();
    for (const [nonce, waiting] of this.waiting) {
      if (waiting.deadlineMs > nowMs) continue;
      this.waiting.delete(nonce);
      waiting.reply(etcdError('timeout'));
    }
  }

  private propose(type: ConfChangeType, change: Omit<ConfChangeContext, 'nonce'>, reply: ReconfigReply): void {
    if (this.waiting.size >= MAX_WAITING_CHANGES) { reply(etcdError('tooManyRequests')); return; }
    const nowMs = this.options.clock.nowMs();
    const nonce = `${this.options.membership.selfId.toString(16)}-${Math.floor(nowMs).toString(36)}-${this.nextNonce++}`;
    const context = encodeContext({ ...change, nonce });
    const accepted = this.options.driver.proposeConfChange({ type, nodeId: raftIdOf(change.member.id), context });
    if (!accepted.ok) { reply(etcdError(accepted.refusal === 'proposalDropped' ? 'noLeader' : 'timeout')); return; }
    this.waiting.set(nonce, { deadlineMs: nowMs + this.options.timeoutMs, reply });
  }
}

// etcd's --strict-reconfig-check (on by default): a change must not leave the voters
// without a quorum of started members — "started" meaning the member has published
// its name, i.e. has run at least once (a member added but never started has none).

const started = (m: MemberRecord): boolean => m.name !== '';

/** etcd's IsReadyToAddVoterMember. */
function readyToAddVoter(members: readonly MemberRecord[]): boolean {
  const voters = members.filter((m) => !m.isLearner);
  const total = voters.length + 1; // with the new member
  const up = voters.filter(started).length;
  if (up === 1 && total === 2) return true; // growing a one-member cluster (etcd's exception)
  return up >= Math.floor(total / 2) + 1;
}

/** etcd's IsReadyToPromoteMember: the learner counts as a started voter of the future quorum. */
function readyToPromote(members: readonly MemberRecord[]): boolean {
  const voters = members.filter((m) => !m.isLearner);
  return voters.filter(started).length + 1 >= Math.floor((voters.length + 1) / 2) + 1;
}

/** etcd's IsReadyToRemoveVoterMember. */
function readyToRemoveVoter(members: readonly MemberRecord[], id: bigint): boolean {
  const rest = members.filter((m) => !m.isLearner && m.id !== id);
  return rest.filter(started).length >= Math.floor(rest.length / 2) + 1;
}
