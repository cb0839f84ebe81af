// Membership changes (etcd's MemberAdd/Remove/Update/Promote) as Raft conf changes,
// one at a time: check the request against the current members, propose the change
// with the member's record as its context, and answer once it has been applied here.

import { etcdError, type EtcdError } from '../../core/errors.js';
import type { NodeDriver } from '../../core/node/driver.js';
import { removalKeepsConnectedQuorum } from '../../core/membership/removalHealth.js';
import type { ConfChangeType, NodeId } from '../../core/raft/types.js';
import { memberId } from '../config/ids.js';
import { peerDialTarget } from '../config/urls.js';
import { encodeContext, raftIdOf, type ConfChangeContext, type MemberRecord, type Membership } from './membership.js';

export interface ReconfigOptions {
  readonly driver: NodeDriver;
  readonly membership: Membership;
  readonly clusterToken: string;
  /** How long to wait for the change to apply before `request timed out`. */
  readonly timeoutMs: number;
  /** etcd's --strict-reconfig-check (default true): refuse changes that would leave too few started voters. */
  readonly strict?: boolean;
  /** Since when the stream to a member (by core id) has been up, ms since the epoch; null: down (etcd's ActiveSince). None: no health check. */
  readonly activeSinceMs?: (raftId: NodeId) => number | null;
  /** Whether the leader finds learner `id` in sync (null) or why not; none: always in sync. */
  readonly learnerReady?: (id: bigint) => Promise<EtcdError | null>;
}

type Outcome = MemberRecord | EtcdError;

/** etcd 3.4 allows one learner at a time. */
const MAX_LEARNERS = 1;

export class Reconfigurer {
  private readonly waiting = new Map<string, (outcome: Outcome) => void>();
  private nextNonce = 1;

  constructor(private readonly options: ReconfigOptions) {}

  private strict(): boolean {
    return this.options.strict ?? true;
  }

  add(peerUrls: readonly string[], isLearner: boolean): Promise<Outcome> {
    const { membership, clusterToken } = this.options;
    if (peerUrls.length === 0 || peerUrls.some((u) => peerDialTarget(u) === null)) return Promise.resolve(etcdError('memberBadURLs'));
    const taken = new Set(membership.list().flatMap((m) => m.peerUrls));
    if (peerUrls.some((u) => taken.has(u))) return Promise.resolve(etcdError('peerURLExist'));
    if (isLearner && membership.learners().length >= MAX_LEARNERS) return Promise.resolve(etcdError('tooManyLearners'));
    if (!isLearner && this.strict() && !readyToAddVoter(membership.list())) return Promise.resolve(etcdError('notEnoughStarted'));
    // etcd mixes the time into a runtime-added member's id (NewMember with `now`).
    const id = memberId(peerUrls, clusterToken + String(Math.floor(Date.now() / 1000)));
    if (membership.get(id) !== undefined) return Promise.resolve(etcdError('memberExist'));
    const member: MemberRecord = { id, name: '', peerUrls: [...peerUrls], clientUrls: [], isLearner };
    return this.propose(isLearner ? 'addLearner' : 'addVoter', { op: 'add', member });
  }

  remove(id: bigint): Promise<Outcome> {
    const member = this.options.membership.get(id);
    if (member === undefined) return Promise.resolve(etcdError('memberNotFound'));
    if (!member.isLearner && this.strict() && !readyToRemoveVoter(this.options.membership.list(), id)) return Promise.resolve(etcdError('notEnoughStarted'));
    if (!member.isLearner && this.strict() && !this.keepsConnectedQuorum(id)) return Promise.resolve(etcdError('unhealthy'));
    return this.propose('removeVoter', { op: 'remove', member });
  }

  /** etcd's mayRemoveMember health check (core/membership/removalHealth.ts). */
  private keepsConnectedQuorum(id: bigint): boolean {
    const activeSince = this.options.activeSinceMs;
    if (activeSince === undefined) return true;
    const { membership } = this.options;
    const self = membership.selfId;
    return removalKeepsConnectedQuorum({
      self,
      voters: membership.list().filter((m) => !m.isLearner).map((m) => m.id),
      activeSinceMs: (member) => (member === self ? Date.now() : activeSince(raftIdOf(member))),
      nowMs: Date.now(),
    }, id);
  }

  update(id: bigint, peerUrls: readonly string[]): Promise<Outcome> {
    const { membership } = this.options;
    const member = membership.get(id);
    if (member === undefined) return Promise.resolve(etcdError('memberNotFound'));
    if (peerUrls.length === 0 || peerUrls.some((u) => peerDialTarget(u) === null)) return Promise.resolve(etcdError('memberBadURLs'));
    const taken = new Set(membership.list().filter((m) => m.id !== id).flatMap((m) => m.peerUrls));
    if (peerUrls.some((u) => taken.has(u))) return Promise.resolve(etcdError('peerURLExist'));
    // The core has no "update" change: re-adding a member in its current role is a
    // no-op for Raft that still carries the new URLs to every member through the log.
    return this.propose(member.isLearner ? 'addLearner' : 'addVoter', { op: 'update', member: { ...member, peerUrls: [...peerUrls] } });
  }

  /** etcd's mayPromoteMember: the learner in sync with the leader, then --strict-reconfig-check. */
  async promote(id: bigint): Promise<Outcome> {
    const member = this.options.membership.get(id);
    if (member === undefined) return etcdError('memberNotFound');
    if (!member.isLearner) return etcdError('memberNotLearner');
    const notReady = await (this.options.learnerReady?.(id) ?? Promise.resolve(null));
    if (notReady !== null) return notReady;
    if (this.strict() && !readyToPromote(this.options.membership.list())) return etcdError('notEnoughStarted');
    return this.propose('addVoter', { op: 'promote', member: { ...member, isLearner: false } });
  }

  /** A conf change was applied (the membership has adopted it): answer its request. */
  settle(context: ConfChangeContext): void {
    const settle = this.waiting.get(context.nonce);
    this.waiting.delete(context.nonce);
    settle?.(this.options.membership.get(context.member.id) ?? context.member);
  }

  private propose(type: ConfChangeType, change: Omit<ConfChangeContext, 'nonce'>): Promise<Outcome> {
    const nonce = `${this.options.membership.selfId.toString(16)}-${Date.now().toString(36)}-${this.nextNonce++}`;
    const context = encodeContext({ ...change, nonce });
    const accepted = this.options.driver.proposeConfChange({ type, nodeId: raftIdOf(change.member.id), context });
    if (!accepted.ok) {
      return Promise.resolve(etcdError(accepted.refusal === 'proposalDropped' ? 'noLeader' : 'timeout'));
    }
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(nonce);
        resolve(etcdError('timeout'));
      }, this.options.timeoutMs);
      this.waiting.set(nonce, (outcome) => {
        clearTimeout(timer);
        resolve(outcome);
      });
    });
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
