// The membership nemesis (`--membership`): replaces members while the other faults
// go on, as an operator does with etcdctl — remove a member (a follower, or the leader
// itself), add a spare as a learner, start it, promote it once it has caught up — each
// step asked of the current leader's Reconfigurer (core/membership/reconfig.ts), the
// code a net/ member runs for MemberRemove/MemberAdd/MemberPromote. A step the cluster
// refuses (no leader, learner not in sync, a change still pending, a timeout) is tried
// again later; each spare joins once, so a run replaces at most as many members as it
// has spares.

import { etcdError, isEtcdError, type EtcdError } from '../core/errors.js';
import { raftIdOf } from '../core/membership/members.js';
import type { ReconfigOutcome } from '../core/membership/reconfig.js';
import type { NodeId } from '../core/raft/types.js';
import type { SimMember } from './cluster.js';
import { simEtcdId, simPeerUrl } from './memberCore.js';
import { SimActor, type SimParts } from './simActor.js';

export interface MembershipFaults {
  /** Mean time between two steps of a replacement, ms. */
  readonly meanStepMs: number;
  /** The chance that the member removed is the leader itself. */
  readonly removeLeaderProbability: number;
}

export interface MembershipStats {
  removed: number;
  added: number;
  promoted: number;
  /** Steps the cluster refused, by etcd error name in the order first seen (tried again later). */
  readonly refusals: { readonly name: string; count: number }[];
}

type Stage = 'remove' | 'add' | 'promote' | 'done';

/** Fewer voters than this and the nemesis adds before it removes (a quorum of two is the least it leaves). */
const MIN_VOTERS_TO_REMOVE = 3;

export class MembershipNemesis extends SimActor {
  readonly stats: MembershipStats = { removed: 0, added: 0, promoted: 0, refusals: [] };
  private active = false;
  private stage: Stage = 'remove';
  private readonly spares: NodeId[];
  /** The spare being added and promoted, once its add applied. */
  private joining: NodeId | null = null;
  /** The member whose Reconfigurer was asked and not answered yet, with its incarnation then. */
  private askedOf: { readonly member: SimMember; readonly incarnation: number } | null = null;
  /**
   * Every member whose removal was asked: until the leader's configuration shows it gone
   * it may still go (an answer lost with a crashed leader does not mean the change failed).
   */
  private readonly removalsAsked = new Set<NodeId>();

  constructor(parts: SimParts, private readonly faults: MembershipFaults, spareIds: readonly NodeId[]) {
    super(parts);
    this.spares = [...spareIds];
  }

  start(): void {
    this.active = true;
    this.next();
  }

  stop(): void {
    this.active = false;
  }

  private next(): void {
    if (!this.active || this.stage === 'done') return;
    this.scheduler.after(1000 * this.random.exponential(this.faults.meanStepMs), {
      kind: 'membership', node: 0,
      run: () => {
        // A leader that crashed with a change pending never answers: its answer went with it.
        const asked = this.askedOf;
        if (asked !== null && asked.member.incarnation !== asked.incarnation) this.askedOf = null;
        if (this.active && this.askedOf === null) this.step();
        this.next();
      },
    });
  }

  /**
   * Whether the voters other than `id` are a quorum (as the leader knows them; with no
   * leader, no: the bit rot that asks waits for a cluster it can leave whole), and still
   * are once every removal asked for has applied (seed 2725 of the 10,000: a removal asked
   * at 719 ms applied after bit rot struck member 1 at 967 ms, leaving it one of two voters).
   */
  goodQuorumWithout(id: NodeId): boolean {
    const voters = this.leader()?.core?.membership.voters();
    if (voters === undefined) return false;
    // Its own removal may never apply: it stays counted among the voters that remain.
    const after = voters.filter((v) => v === id || !this.removalsAsked.has(v));
    return quorumWithout(voters, id) && quorumWithout(after, id);
  }

  /** The running leader's member, if it runs the membership machinery. */
  private leader(): SimMember | null {
    const driver = this.cluster.leader();
    if (driver === null) return null;
    const member = this.cluster.member(driver.status().id);
    return member.core === null || member.server === null ? null : member;
  }

  private step(): void {
    const leader = this.leader();
    if (leader === null) {
      this.refused(etcdError('noLeader'));
      return;
    }
    if (this.stage === 'remove') this.remove(leader);
    else if (this.stage === 'add') this.add(leader);
    else if (this.stage === 'promote') this.promote(leader);
  }

  private remove(leader: SimMember): void {
    const membership = leader.core?.membership;
    if (membership === undefined) return;
    const voters = membership.voters();
    // No spare left to replace it with: the run ends with the members it has.
    if (this.spares.length === 0) {
      this.stage = 'done';
      return;
    }
    if (voters.length < MIN_VOTERS_TO_REMOVE) {
      this.stage = 'add';
      this.step();
      return;
    }
    // A member whose disk rotted is the one to replace (the operator's move): removing a
    // good one instead could leave the bad disk needed for a quorum, which the swarm's
    // bit rot never does (one member only, so that a quorum of good disks remains).
    const rotted = voters.find((id) => this.cluster.member(id).rotted);
    const others = voters.filter((id) => id !== leader.id);
    const victim = rotted ?? (this.random.chance(this.faults.removeLeaderProbability) || others.length === 0 ? leader.id : this.random.pick(others));
    this.removalsAsked.add(victim);
    this.ask(leader, 'remove', victim, (reply) => { leader.core?.reconfig.remove(simEtcdId(victim), reply); }, () => {
      this.stats.removed++;
      // An operator stops the removed process, which may never learn of its removal (it
      // was down, or cut off, when the removal applied).
      const retireUs = Math.floor(1000 * this.random.exponential(100));
      this.scheduler.after(retireUs, { kind: 'membership', node: victim, a: 2, run: () => { this.cluster.retire(victim); } });
      this.stage = 'add';
    });
  }

  private add(leader: SimMember): void {
    const spare = this.spares[0];
    if (spare === undefined) {
      this.stage = 'done';
      return;
    }
    if (leader.core?.membership.get(simEtcdId(spare)) !== undefined) {
      this.added(spare, leader); // applied, its answer lost
      return;
    }
    this.ask(leader, 'add', spare, (reply) => { leader.core?.reconfig.add([simPeerUrl(spare)], true, reply); }, () => {
      this.added(spare, leader);
    });
  }

  private added(spare: NodeId, leader: SimMember): void {
    this.spares.shift();
    this.stats.added++;
    this.joining = spare;
    // It starts with the cluster as the leader knows it now (etcd's --initial-cluster-state existing).
    this.cluster.join(spare, leader.core?.membership.list() ?? []);
    this.stage = 'promote';
  }

  private promote(leader: SimMember): void {
    const learner = this.joining;
    const record = learner === null ? undefined : leader.core?.membership.get(simEtcdId(learner));
    if (learner === null || record === undefined || !record.isLearner) {
      if (record !== undefined) this.stats.promoted++; // applied, its answer lost
      this.joining = null;
      this.stage = 'remove';
      return;
    }
    this.ask(leader, 'promote', learner, (reply) => { leader.core?.reconfig.promote(simEtcdId(learner), reply); }, () => {
      this.stats.promoted++;
      this.joining = null;
      this.stage = 'remove';
    }, (error) => {
      // Removed meanwhile (its add was undone by a later change): start over.
      if (error.name === 'memberNotFound' || error.name === 'memberNotLearner') {
        this.joining = null;
        this.stage = 'remove';
      }
    });
  }

  /** Asks the leader's Reconfigurer; `ok` once the change applied there, `failed` (and a count) if refused. */
  private ask(
    leader: SimMember, what: string, target: NodeId, call: (reply: (outcome: ReconfigOutcome) => void) => void,
    ok: () => void, failed?: (error: EtcdError) => void,
  ): void {
    const incarnation = leader.incarnation;
    const asked = { member: leader, incarnation };
    this.askedOf = asked;
    this.scheduler.note('membership', leader.id, () => ({ ask: what, target }));
    call((outcome) => {
      if (this.askedOf === asked) this.askedOf = null;
      if (leader.incarnation !== incarnation) return;
      if (isEtcdError(outcome)) {
        this.refused(outcome);
        failed?.(outcome);
        return;
      }
      if (raftIdOf(outcome.id) !== target) return;
      ok();
    });
  }

  private refused(error: EtcdError): void {
    const known = this.stats.refusals.find((r) => r.name === error.name);
    if (known === undefined) this.stats.refusals.push({ name: error.name, count: 1 });
    else known.count++;
  }
}

/** Whether the voters other than `id` still make a quorum of `voters` (true when `id` is none of them). */
function quorumWithout(voters: readonly NodeId[], id: NodeId): boolean {
  if (!voters.includes(id)) return true;
  return voters.length - 1 >= Math.floor(voters.length / 2) + 1;
}
