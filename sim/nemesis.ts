// The nemesis: schedules the faults a seed's swarm options turned on. Each fault
// class is its own chain of events at exponentially distributed intervals, so a class
// that is off costs nothing, and one class's draws do not shift another's timing
// more than the shared PRNG must. `stop()` ends every chain (the liveness phase).

import type { Message, NodeId } from '../core/raft/types.js';
import type { RaftView } from '../core/raft/rawNode.js';
import { SimActor, type SimParts } from './simActor.js';
import type { SimNetwork } from './network.js';
import type { EventKind } from './scheduler.js';
import type { FaultOptions, PartitionMode, Recurring } from './swarm.js';
import type { MembershipNemesis } from './membershipNemesis.js';
import type { SimRandom } from './prng.js';

/** How much of a new leader's uncommitted tail noteInheritedTail compares with the others' logs. */
const MAX_TAIL_COMPARED = 256;

export interface NemesisStats {
  partitions: number;
  clogs: number;
  pauses: number;
  diskFulls: number;
  bitRots: number;
  clockJumps: number;
  targetedCrashes: number;
  /** Crashes by a failpoint (FaultOptions.crashAtElectionProbability). */
  failpointCrashes: number;
}

export interface NemesisSetup extends SimParts {
  readonly network: SimNetwork;
  /** Which faults the seed turned on, and how hard they hit (swarm.ts). */
  readonly faults: FaultOptions;
  /** With --membership: members replaced while the other faults go on; it starts and stops with them. */
  readonly membership?: MembershipNemesis;
  /** The failpoints' generator (swarm.ts withFailpoints), apart so that other seeds keep their traces. */
  readonly failpoints?: SimRandom;
}

/** A fault's end (a heal, a restart, a resume) or a delayed strike, scheduled by `later`. */
interface LaterEvent {
  readonly durationUs: number;
  readonly kind: EventKind;
  /** The member it concerns, 0 for the whole network. */
  readonly node: NodeId;
  readonly end: () => void;
}

export class Nemesis extends SimActor {
  readonly stats: NemesisStats = { partitions: 0, clogs: 0, pauses: 0, diskFulls: 0, bitRots: 0, clockJumps: 0, targetedCrashes: 0, failpointCrashes: 0 };
  /** Per leader: the term in which it took office with an uncommitted tail another member contradicts. */
  private readonly inheritedTailIn = new Map<NodeId, number>();
  private readonly leaderView: RaftView = { role: 'follower', term: 0, commit: 0, firstIndex: 0, lastIndex: 0 };
  private active = false;
  private partitioned = false;
  private readonly ids: readonly NodeId[];
  /** Bit rot hits one member only, so that a quorum of good disks always remains. */
  private readonly rotVictim: NodeId;

  private readonly network: SimNetwork;
  private readonly faults: FaultOptions;
  readonly membership: MembershipNemesis | null;
  private readonly failpoints: SimRandom | null;

  constructor(setup: NemesisSetup) {
    super(setup);
    this.failpoints = setup.failpoints ?? null;
    this.network = setup.network;
    this.faults = setup.faults;
    this.membership = setup.membership ?? null;
    this.ids = setup.cluster.ids;
    this.rotVictim = this.random.pick(this.ids);
  }

  start(): void {
    this.active = true;
    const f = this.faults;
    this.every(f.partitions, 'partition', (durationUs) => { this.partition(durationUs); });
    this.every(f.clogs, 'partition', (durationUs) => { this.clog(durationUs); });
    this.every(f.crashes, 'crash', (durationUs) => { this.crash(durationUs); });
    this.every(f.pauses, 'pause', (durationUs) => { this.pause(durationUs); });
    this.every(f.diskFull, 'diskFault', (durationUs) => { this.diskFull(durationUs); });
    if (this.ids.length >= 3) this.every(f.bitRot, 'diskFault', () => { this.bitRot(); });
    this.every(f.clockJumps, 'clock', () => { this.clockJump(); });
    this.membership?.start();
    // A member whose first start met a read error is started again as a crashed one is
    // (an init system's restart); before, it stayed down until the liveness phase.
    for (const id of this.ids) {
      const member = this.cluster.member(id);
      if (member.inCluster && member.state === 'down') this.restartUntilUp(id);
    }
  }

  stop(): void {
    this.active = false;
    this.membership?.stop();
  }

  /** Every message sent: maybe crash a voter before its grant is durable. */
  observeSend(message: Message): void {
    if (!this.active || message.type !== 'MsgVoteResp' || message.reject) return;
    if (this.random.chance(this.faults.crashAfterVoteProbability)) this.crashSoon(message.from, 0.2);
  }

  /**
   * A member won an election: maybe a failpoint crash right now, if it won without
   * entries another member holds (electedWithout); else maybe a targeted crash before
   * its log is fully replicated.
   */
  observeLeader(id: NodeId): void {
    if (!this.active) return;
    if (this.failpoints !== null && this.electedWithout(id) && this.failpoints.chance(this.faults.crashAtElectionProbability)) {
      this.powerLossNow(id, true);
      return;
    }
    if (this.failpoints !== null) this.noteInheritedTail(id);
    if (this.random.chance(this.faults.crashNewLeaderProbability)) this.crashSoon(id, 10);
  }

  /**
   * A leader's commit index moved for the first time in its term. If it took office with
   * an uncommitted tail another member contradicts (noteInheritedTail), maybe lose power
   * right then: that commit settles whose entries survive, and what it sends next would
   * tell the others so.
   */
  observeFirstCommit(id: NodeId, term: number): void {
    if (!this.active || this.failpoints === null) return;
    if (this.inheritedTailIn.get(id) !== term) return;
    this.inheritedTailIn.delete(id);
    if (this.failpoints.chance(this.faults.crashAtFirstCommitProbability)) this.powerLossNow(id, false);
  }

  /**
   * Whether new leader `id` won without entries another running member holds (a
   * partitioned old leader's tail, appends that were lost): that member's log reaches the
   * index of the entry `id` just appended for its term, so they conflict. Members that are
   * down do not count: a crashed member's longer log waits on its disk, and counting it
   * crashes leader after leader until it is back (seeds 1..200, the failpoint at first
   * commit at 0.5-1: 501 ok ops per seed instead of 526, for no more findings).
   */
  private electedWithout(id: NodeId): boolean {
    const end = this.cluster.logEnd(id);
    for (const other of this.ids) {
      if (other !== id && this.cluster.running(other) !== null && this.cluster.logEnd(other) >= end) return true;
    }
    return false;
  }

  /**
   * Notes the term in which new leader `id` took office with an uncommitted tail that
   * another member's log contradicts (a different term at one of its indexes): the
   * logs diverge, and its first commit decides whose entries survive.
   */
  private noteInheritedTail(id: NodeId): void {
    const driver = this.cluster.running(id);
    if (driver === null) return;
    const view = driver.raft.inspect(this.leaderView);
    this.inheritedTailIn.delete(id);
    // lastIndex is the entry the leader appended for its term; before it lie its predecessors'.
    const last = Math.min(view.lastIndex - 1, view.commit + MAX_TAIL_COMPARED);
    for (let index = view.commit + 1; index <= last; index++) {
      const term = driver.raft.entryAt(index)?.term;
      if (term === undefined) continue;
      for (const other of this.ids) {
        if (other === id || !this.cluster.member(other).inCluster) continue;
        const theirs = this.cluster.termAt(other, index);
        if (theirs !== undefined && theirs !== term) {
          this.inheritedTailIn.set(id, view.term);
          return;
        }
      }
    }
  }

  /**
   * A failpoint (etcd's raftAfterSave kind): power lost in this very instant, so what
   * the member sent in it never leaves the host. `afterSave`: the writes in flight
   * reached the disk first. Down as long as an ordinary crash.
   */
  private powerLossNow(id: NodeId, afterSave: boolean): void {
    const failpoints = this.failpoints;
    if (failpoints === null) return;
    const member = this.cluster.member(id);
    const incarnation = member.incarnation;
    const downtimeUs = Math.floor(1000 * failpoints.exponential(Math.max(1, this.faults.crashes.meanDurationMs)));
    // An event of its own in this same instant: the checker that reported the moment is still looking at the member.
    this.later({ durationUs: 0, kind: 'crash', node: id, end: () => {
      if (member.incarnation !== incarnation) return;
      this.network.powerLoss(id);
      this.cluster.crash(id, afterSave);
      this.stats.failpointCrashes++;
      this.later({ durationUs: downtimeUs, kind: 'restart', node: id, end: () => { this.restartUntilUp(id); } });
    } });
  }

  /** A targeted crash shortly (mean `withinMs`), back after a short downtime. */
  private crashSoon(id: NodeId, withinMs: number): void {
    const member = this.cluster.member(id);
    const incarnation = member.incarnation;
    const durationUs = Math.floor(1000 * this.random.exponential(withinMs));
    this.later({ durationUs, kind: 'crash', node: id, end: () => {
      if (member.incarnation !== incarnation) return;
      this.cluster.crash(id);
      this.stats.targetedCrashes++;
      const downtimeUs = Math.floor(1000 * this.random.exponential(this.faults.targetedDowntimeMsMean));
      this.later({ durationUs: downtimeUs, kind: 'restart', node: id, end: () => { this.restartUntilUp(id); } });
    } });
  }

  private every(recurring: Recurring, kind: EventKind, strike: (durationUs: number) => void): void {
    if (recurring.meanIntervalMs <= 0) return;
    const next = (): void => {
      this.scheduler.after(1000 * this.random.exponential(recurring.meanIntervalMs), {
        kind, node: 0,
        run: () => {
          if (!this.active) return;
          strike(Math.floor(1000 * this.random.exponential(recurring.meanDurationMs)));
          next();
        },
      });
    };
    next();
  }

  /** Runs `end` after `durationUs` unless the nemesis was stopped (then healing does it). */
  private later({ durationUs, kind, node, end }: LaterEvent): void {
    this.scheduler.after(durationUs, { kind, node, run: () => { if (this.active) end(); } });
  }

  private partition(durationUs: number): void {
    if (this.partitioned || this.ids.length < 2) return;
    const modes = this.faults.partitions.modes;
    const mode: PartitionMode = modes.length === 0 ? 'halves' : this.random.pick(modes);
    let sideA: NodeId[];
    if (mode === 'isolateLeader') {
      const leader = this.cluster.leader();
      sideA = [leader === null ? this.random.pick(this.ids) : leader.status().id];
    } else if (mode === 'isolateOne') {
      sideA = [this.random.pick(this.ids)];
    } else {
      const shuffled = this.random.shuffle(this.ids);
      sideA = shuffled.slice(0, 1 + this.random.intBelow(this.ids.length - 1));
    }
    const sideB = this.ids.filter((id) => !sideA.includes(id));
    if (this.random.chance(this.faults.partitions.asymmetricProbability)) {
      // One direction only: e.g. an isolated member that can still send (TigerBeetle's
      // livelock story) or still receive.
      if (this.random.chance(0.5)) this.network.block(sideA, sideB); else this.network.block(sideB, sideA);
    } else {
      this.network.partition(sideA, sideB);
    }
    this.partitioned = true;
    this.stats.partitions++;
    this.scheduler.note('partition', 0, () => ({ mode, sideA, sideB }));
    this.later({ durationUs, kind: 'heal', node: 0, end: () => {
      this.network.heal();
      this.partitioned = false;
    } });
  }

  private clog(durationUs: number): void {
    if (this.ids.length < 2) return;
    const from = this.random.pick(this.ids);
    const others = this.ids.filter((id) => id !== from);
    const to = this.random.pick(others);
    this.network.clog({ from, to, untilUs: this.scheduler.nowUs + durationUs });
    this.stats.clogs++;
  }

  private crash(durationUs: number): void {
    const id = this.random.pick(this.ids);
    const member = this.cluster.member(id);
    if (member.state === 'down' || member.state === 'refused') return;
    this.cluster.crash(id);
    this.later({ durationUs, kind: 'restart', node: id, end: () => { this.restartUntilUp(id); } });
  }

  /** Restarts a member; a transient read error means another try a little later. */
  private restartUntilUp(id: NodeId): void {
    if (!this.cluster.member(id).inCluster) return; // removed meanwhile: it stays down
    if (this.cluster.restart(id)) return;
    if (this.cluster.member(id).state !== 'down') return;
    const retryUs = Math.floor(1000 * (10 + this.random.exponential(100)));
    this.later({ durationUs: retryUs, kind: 'restart', node: id, end: () => { this.restartUntilUp(id); } });
  }

  private pause(durationUs: number): void {
    const id = this.random.pick(this.ids);
    if (this.cluster.member(id).state !== 'up') return;
    this.cluster.pause(id);
    this.stats.pauses++;
    this.later({ durationUs, kind: 'resume', node: id, end: () => { this.cluster.resume(id); } });
  }

  private diskFull(durationUs: number): void {
    const id = this.random.pick(this.ids);
    this.cluster.member(id).disk.fillUntil(this.scheduler.nowUs + durationUs);
    this.stats.diskFulls++;
  }

  private bitRot(): void {
    // With membership changes the voters may be two: a rotted one of them would leave no quorum of good disks.
    if (this.membership !== null && !this.membership.goodQuorumWithout(this.rotVictim)) return;
    const member = this.cluster.member(this.rotVictim);
    member.rotted = true;
    const what = member.disk.rot();
    this.stats.bitRots++;
    this.scheduler.note('diskFault', member.id, () => ({ bitRot: what }));
    // Rot is only seen at recovery; crash the member now and then so that it is.
    if (this.random.chance(0.5)) {
      const crashUs = Math.floor(1000 * this.random.exponential(100));
      this.later({ durationUs: crashUs, kind: 'crash', node: member.id, end: () => {
        if (member.state === 'up' || member.state === 'paused') {
          this.cluster.crash(member.id);
          const downtimeUs = Math.floor(1000 * this.random.exponential(200));
          this.later({ durationUs: downtimeUs, kind: 'restart', node: member.id, end: () => { this.restartUntilUp(member.id); } });
        }
      } });
    }
  }

  private clockJump(): void {
    const id = this.random.pick(this.ids);
    const deltaMs = Math.round((2 * this.random.float() - 1) * 10_000);
    this.cluster.member(id).clock.jump(deltaMs);
    this.stats.clockJumps++;
    this.scheduler.note('clock', id, () => ({ jumpMs: deltaMs }));
  }
}
