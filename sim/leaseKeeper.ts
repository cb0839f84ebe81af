// Short-lived leases for the KV workload: granted with a TTL of a few seconds, some kept
// alive by their client (a keep-alive to the leader every third of the TTL, as clientv3
// does), the others left to lapse. Expiry is the leader's decision: it proposes a revoke
// through Raft, which deletes the lease's keys at a new revision.
//
// No client asked for that revoke, so the simulator writes it into the history itself
// (docs/history-format.md: "a server-initiated revision with no client op: record it as
// an op of a server process"): an ok `leaseRevoke` of a process of its own, invoked when
// the lease's grant was invoked (the leader can only propose it after the grant applied)
// and returning when a member first applies it (from then on clients can see it), with
// the revision the store is at right after it. A lease is revoked by the first revoke
// entry of it in log order — the first one any member applies — so later ones (a new
// leader proposing again) are ignored. Clients never revoke these leases themselves.
//
// And the lease bound (etcd #9395's class): no leader may hold a lease past its true end
// (the latest of the grant's answer, a leader's own apply of the grant — its lessor counts
// the TTL from there, as etcd's does — and the last renewal any leader granted, plus the TTL)
// (or, for a lease that ran out while there was no leader, past the promotion) by more
// than an election timeout (etcd's Promote extension) plus how stale that
// leader's lease clock was — how long after its latest lease clock entry was proposed
// (the proposer's clock reading in the entry) the leader applied it (commit latency; a restart replays it late; a
// catching-up member learns it late) — plus one lease clock interval (what a member that
// applied the first grant after a time without leases late, or a leader's clock
// re-anchoring, can miss: lessor.ts), the backward steps of the members' clocks and
// LEASE_BOUND_MARGIN_MS. Staleness adds up: a new leader moves the clock on from when it
// applied the last clock entry, so what it missed (its staleness then: the last one seen
// while it was not leader, replays at its restart included, and each it applied since,
// for a new leader applies old grants and checkpoints late) is lost from the replicated
// clock for good. So the bound allows every such loss since the lease's last renewal
// (lostUs), and a lease renewed before a promotion whose loss is unknown is not checked. Each member that applies an entry while leader is
// checked then (no events of its own, so the trace is untouched). A leader that had applied
// no clock entry since it started, or since a snapshot replaced its lessor, cannot tell
// how much time has passed: not checked.
//
// An expiry that deleted no keys is left out of the history unless a put saw it ("lease
// not found" for that lease): nothing else can observe it (no key carries the lease,
// clients neither re-grant nor revoke it), so the real execution still linearizes the
// rest, and the checker's fast path, which must guess whether a revoke wrote (its
// response does not say), no longer guesses wrong for it.

import type { Entry, NodeId } from '../core/raft/types.js';
import type { EtcdServer } from '../core/server/server.js';
import { isEtcdError } from '../core/errors.js';
import { decodeEnvelope, type Envelope } from '../core/server/requests.js';
import { LEASE_CLOCK_INTERVAL_MS } from '../core/server/server.js';
import { coreLeaseId, historyLeaseId } from './historyLeaseId.js';
import type { EtcdRequest, EtcdResponse } from '../jepsen-like/etcd/types.js';
import type { SimMember } from './cluster.js';
import { SimActor, type SimParts } from './simActor.js';

/** An op the cluster made on its own, for the history. */
export interface ServerOp {
  readonly call: number;
  readonly ret: number;
  readonly request: EtcdRequest;
  readonly response: EtcdResponse;
  readonly member: NodeId;
  /** What made it (kept in the history file for readers). */
  readonly note: string;
  /**
   * Set when the op wrote nothing (an expiry of a lease without keys): it may be left out
   * of the history unless some op saw its effect (a put answered "lease not found" for
   * this lease). See historyText in kvWorkload.ts.
   */
  readonly silentLease?: number;
}

interface ShortLease {
  readonly grantCallUs: number;
  readonly keepAlive: boolean;
  /** The TTL the server granted, µs (0 until the grant is answered). */
  ttlUs: number;
  /** When the client last heard the lease renewed (the grant's answer, then keep-alives). */
  renewedUs: number;
  /** Set once a member applied its revoke. */
  expired: boolean;
  /**
   * When a leader last renewed it, µs, as far as the keeper can tell (a keep-alive
   * answered, or failed after it may have renewed; a checkpoint carrying it applied); 0: never.
   */
  serverRenewedUs: number;
  /** Keep-alives sent and not answered, and the member the last one went to. */
  inFlight: number;
  inFlightTo: NodeId | null;
  /** Set once a leader was found holding it too long (reported once). */
  outlived: boolean;
  /** When it was last granted or renewed as the bound sees it, µs, and lostUs then. */
  anchorUs: number;
  lostAtAnchorUs: number;
}

/** What the bound allows beyond the measured staleness (a tick, a disk write), ms. */
const LEASE_BOUND_MARGIN_MS = 50;

/** What one member's lessor knows of the lease clock, as the bound needs it. */
interface MemberClock {
  /** The latest lease clock entry it applied: when it was proposed and applied; null: none since it started or restored. */
  latest: { readonly proposedUs: number; readonly appliedUs: number } | null;
  /** The largest staleness of its clock since it became leader (see the top), µs; null: unknown. */
  stalenessUs: number | null;
  /** The term whose promotion of this member was counted in lostUs; null while it is not leader. */
  countedTerm: number | null;
}

export interface LeaseKeeperSetup extends SimParts {
  /** Writes an expiry into the history. */
  readonly record: (op: ServerOp) => void;
}

export class LeaseKeeper extends SimActor {
  private readonly leases = new Map<number, ShortLease>();
  /** Each server's store revision after the last entry it applied (to tell whether a revoke wrote). */
  private readonly revisionAfter = new Map<EtcdServer, number>();
  private pending = 0;
  expiries = 0;
  keepAlives = 0;
  private readonly memberClocks = new Map<NodeId, MemberClock>();
  /** The lease clock time lost so far, µs (see the top), and when an unknown amount last was. */
  private lostUs = 0;
  private unknownLossAtUs = -1;
  /** The highest index of a checkpoint entry whose renewals were learned (a replay teaches only later ones). */
  private renewalsLearnedToIndex = 0;
  /** Leases held past the bound: what was found, for the verdict. */
  readonly outlived: string[] = [];

  private readonly record: (op: ServerOp) => void;

  constructor(setup: LeaseKeeperSetup) {
    super(setup);
    this.record = setup.record;
  }

  /** A TTL for a new short lease, seconds (the server raises it to its minimum). */
  drawTtlSeconds(): number {
    return 1 + this.random.intBelow(3);
  }

  isShort(id: number): boolean {
    return this.leases.has(id);
  }

  /** A short lease is being granted (before the answer: an unknown grant may still expire). */
  granting(id: number): void {
    this.leases.set(id, {
      grantCallUs: this.scheduler.nowUs, keepAlive: this.random.chance(0.5), ttlUs: 0, renewedUs: 0, expired: false, serverRenewedUs: 0, inFlight: 0, inFlightTo: null, outlived: false, anchorUs: 0, lostAtAnchorUs: 0,
    });
    this.pending++;
  }

  /** The grant was answered with the TTL the server chose: start keeping it alive, or not. */
  granted(id: number, ttlSeconds: number): void {
    const lease = this.leases.get(id);
    if (lease === undefined) return;
    lease.ttlUs = 1000 * 1000 * ttlSeconds;
    lease.renewedUs = this.scheduler.nowUs;
    this.anchor(lease);
    if (!lease.keepAlive) return;
    const intervalUs = Math.max(1000, Math.round((1000 * 1000 * ttlSeconds) / 3));
    const keep = (): void => {
      if (lease.expired) return;
      this.keepAlive(id, lease);
      this.scheduler.after(intervalUs, { kind: 'client', node: 0, a: id, b: 1, run: keep });
    };
    this.scheduler.after(intervalUs, { kind: 'client', node: 0, a: id, b: 1, run: keep });
  }

  /** Every entry a member applied: the first applied revoke of a short lease is its expiry. */
  onApplied(member: SimMember, entry: Entry): void {
    const server = member.server;
    if (server === null) {
      // A restart replaying its log (the server is not up yet): the lease clock, and the
      // renewals of a checkpoint no member applied before (seed 7158: a leader committed
      // it and crashed before applying it, so its first apply was a restart's replay).
      const envelope = decodeEnvelope(entry.data);
      if (envelope?.request.kind === 'leaseCheckpoint') {
        this.clockEntryApplied(member.id, envelope);
        if (entry.index > this.renewalsLearnedToIndex) this.renewalsReplicated(envelope.request.checkpoints, entry.index);
      }
      this.trackLeadership(member.id, false);
      return;
    }
    const before = this.revisionAfter.get(server);
    const after = server.machine.store.currentRevision();
    this.revisionAfter.set(server, after);
    // Lease clock entries are proposed only while leases exist.
    if (this.pending === 0 && server.machine.lessor.count === 0) return;
    const envelope = decodeEnvelope(entry.data);
    const status = server.driver.status();
    const leader = status.role === 'leader';
    if (envelope?.request.kind === 'leaseCheckpoint') {
      // A promotion is counted with the clock the lessor had when it promoted, before this
      // entry: a new leader's first applied entry may be a clock entry of its predecessor
      // (seed 13: restarted from a snapshot, so its loss was unknown, but counting this
      // entry first made it look known).
      this.trackLeadership(member.id, leader, status.hardState.term);
      this.clockEntryApplied(member.id, envelope);
      this.renewalsReplicated(envelope.request.checkpoints, entry.index);
    }
    this.trackLeadership(member.id, leader, status.hardState.term);
    if (this.pending === 0) return;
    if (leader && envelope?.request.kind === 'leaseGrant') this.grantAppliedByLeader(envelope.request.id);
    if (leader) this.checkBound(member);
    if (envelope?.request.kind !== 'leaseRevoke') return;
    // The clients' ids are small counters: a larger id (one a server drew) is none of them.
    if (envelope.request.id > BigInt(Number.MAX_SAFE_INTEGER) || envelope.request.id < 0n) return;
    const id = historyLeaseId(envelope.request.id);
    const lease = this.leases.get(id);
    if (lease === undefined || lease.expired) return;
    lease.expired = true;
    this.pending--;
    this.expiries++;
    // It wrote iff the store moved (unknown after a start or a snapshot: then it counts as written).
    const wrote = before === undefined || after !== before;
    this.record({
      call: lease.grantCallUs, ret: this.scheduler.nowUs, member: member.id, note: 'lease expiry',
      request: { type: 'leaseRevoke', id },
      response: { revision: after },
      ...(wrote ? {} : { silentLease: id }),
    });
  }

  /**
   * A checkpoint carrying renewals applied: whatever keep-alive made them (an answered
   * one, or one whose answer never came: its leader crashed first), they are the cluster's
   * now. Its end is at most the TTL from now (remaining was measured at the proposal).
   */
  private renewalsReplicated(checkpoints: readonly { readonly id: bigint }[], index: number): void {
    this.renewalsLearnedToIndex = Math.max(this.renewalsLearnedToIndex, index);
    for (const cp of checkpoints) {
      if (cp.id > BigInt(Number.MAX_SAFE_INTEGER) || cp.id < 0n) continue;
      const lease = this.leases.get(historyLeaseId(cp.id));
      if (lease !== undefined && lease.ttlUs > 0) lease.serverRenewedUs = Math.max(lease.serverRenewedUs, this.scheduler.nowUs);
    }
  }

  /**
   * A leader's lessor starts a lease's deadline when the leader applies its grant (etcd's
   * too). A leader that applies it late — paused right after the commit, while the member
   * that answered the client applied it at once — gives it that much longer (seed 630: a
   * leader paused for 1 s applied a grant then). So the lease's end counts from then.
   */
  private grantAppliedByLeader(requestId: bigint): void {
    if (requestId > BigInt(Number.MAX_SAFE_INTEGER) || requestId < 0n) return;
    const lease = this.leases.get(historyLeaseId(requestId));
    if (lease !== undefined && lease.ttlUs > 0) lease.serverRenewedUs = Math.max(lease.serverRenewedUs, this.scheduler.nowUs);
  }

  private anchor(lease: ShortLease): void {
    lease.anchorUs = this.scheduler.nowUs;
    lease.lostAtAnchorUs = this.lostUs;
  }

  /** A snapshot replaced a member's state: what its lessor knows of the clock is unknown again. */
  onRestore(id: NodeId): void {
    this.memberClocks.set(id, { latest: null, stalenessUs: null, countedTerm: null });
  }

  private memberClock(id: NodeId): MemberClock {
    let clock = this.memberClocks.get(id);
    if (clock === undefined) {
      clock = { latest: null, stalenessUs: null, countedTerm: null };
      this.memberClocks.set(id, clock);
    }
    return clock;
  }

  /** A lease clock entry applied: dated by the proposer's clock (its id leads the request id). */
  private clockEntryApplied(id: NodeId, envelope: Envelope): void {
    const proposer = this.cluster.members.get(Number(envelope.requestId.split('-')[0]));
    const proposedUs = proposer === undefined ? this.scheduler.nowUs : proposer.clock.virtualUsAt(envelope.proposedAtMs);
    this.memberClock(id).latest = { proposedUs, appliedUs: this.scheduler.nowUs };
  }

  /** How long after its proposal the member applied its latest clock entry, µs; null: unknown. */
  private staleness(clock: MemberClock): number | null {
    return clock.latest === null ? null : Math.max(0, clock.latest.appliedUs - clock.latest.proposedUs);
  }

  /** Counts what each promotion, and each late entry a leader applies, loses from the lease clock. */
  private trackLeadership(id: NodeId, leader: boolean, term = 0): void {
    const clock = this.memberClock(id);
    const latest = this.staleness(clock);
    if (!leader) {
      clock.stalenessUs = latest;
      clock.countedTerm = null;
      return;
    }
    if (clock.countedTerm !== term) {
      clock.countedTerm = term;
      if (clock.stalenessUs === null && latest === null) {
        this.unknownLossAtUs = this.scheduler.nowUs;
        return;
      }
      clock.stalenessUs = Math.max(clock.stalenessUs ?? 0, latest ?? 0);
      this.lostUs += clock.stalenessUs;
      return;
    }
    if (latest !== null && clock.stalenessUs !== null && latest > clock.stalenessUs) {
      this.lostUs += latest - clock.stalenessUs;
      clock.stalenessUs = latest;
    }
  }

  /** The lease bound (see the top of this file), on a member that is leader now. */
  private checkBound(member: SimMember): void {
    const lessor = member.server?.machine.lessor;
    const clock = this.memberClock(member.id);
    if (lessor === undefined || clock.stalenessUs === null) return;
    const nowUs = this.scheduler.nowUs;
    const clockNowMs = member.clock.nowMs();
    // A backward step of the leader that moved the clock on loses that much of it too.
    let backwardMs = 0;
    for (const id of this.cluster.ids) backwardMs += this.cluster.member(id).clock.backwardJumpsMs;
    const allowanceUs = 1000 * (this.cluster.electionTimeoutMs + LEASE_CLOCK_INTERVAL_MS + backwardMs + LEASE_BOUND_MARGIN_MS);
    for (const [id, lease] of this.leases) {
      if (lease.expired || lease.outlived || lease.ttlUs === 0 || lease.anchorUs < this.unknownLossAtUs) continue;
      // This leader may hold a renewal its answer has not told the client of yet: one sent
      // to it, or (members forwarding keep-alives) one sent to any member, forwarded to it.
      if (lease.inFlight > 0 && (lease.inFlightTo === member.id || this.cluster.membershipChanges)) continue;
      const deadlineMs = lessor.deadlineMs(coreLeaseId(id));
      if (deadlineMs === null) continue;
      const heldToUs = nowUs + 1000 * (deadlineMs - clockNowMs);
      const endUs = Math.max(lease.renewedUs, lease.serverRenewedUs) + lease.ttlUs;
      // A lease that ran out while no leader could revoke it gets an election timeout from
      // the promotion (at or before now), as etcd's Promote(extend) gives, and, like every
      // deadline, the backward steps of the clocks since (seed 801: the new leader's clock
      // stepped back 5.5 s right after it promoted an expired lease).
      const lostUs = this.lostUs - lease.lostAtAnchorUs;
      const allowedUs = Math.max(endUs + allowanceUs + lostUs, nowUs + 1000 * (this.cluster.electionTimeoutMs + LEASE_BOUND_MARGIN_MS + backwardMs));
      if (heldToUs <= allowedUs) continue;
      lease.outlived = true;
      this.outlived.push(`member ${member.id} holds lease ${id} (TTL ${lease.ttlUs / 1e6} s) until ${Math.round(heldToUs / 1000)} ms, `
        + `${Math.round((heldToUs - endUs) / 1000)} ms past its end at ${Math.round(endUs / 1000)} ms (allowed until ${Math.round(allowedUs / 1000)} ms)`);
    }
  }

  /**
   * Whether a client should attach keys to this lease now: only while at least half its
   * TTL is left since it last heard it renewed. A put racing the expiry would get "lease
   * not found", which the checker's fast path cannot place after a revoke (it then falls
   * back to the exhaustive search); the race stays possible (a leader whose clock jumps
   * expires leases early), just rare. A workload choice: it does not make the check weaker.
   */
  usable(id: number): boolean {
    const lease = this.leases.get(id);
    if (lease === undefined) return true; // a long lease
    return !lease.expired && lease.ttlUs > 0 && this.scheduler.nowUs < lease.renewedUs + lease.ttlUs / 2;
  }

  /**
   * Keep-alives go to the leader (etcd's followers forward them there). With membership
   * changes the members run core/membership, and the client sends to any running member,
   * which forwards to its leader over the simulated network (sim/leaderLink.ts).
   */
  private keepAlive(id: number, lease: ShortLease): void {
    const target = this.cluster.membershipChanges ? this.anyMember() : this.leader();
    if (target === null) return;
    this.keepAlives++;
    const sentUs = this.scheduler.nowUs;
    lease.inFlight++;
    lease.inFlightTo = target.id;
    this.cluster.runOn(target, () => {
      const request = { id: coreLeaseId(id) };
      const answered = (answer: Parameters<Parameters<EtcdServer['leaseKeepAlive']>[1]>[0]): void => {
        lease.inFlight--;
        if (isEtcdError(answer)) {
          // It may have renewed and then failed the answer (its checkpoint did not apply in
          // time, or it lost the leadership): the renewal may still commit, so the bound
          // moves with it, as the real-cluster tool's does for an unanswered keep-alive.
          if (lease.ttlUs > 0) lease.serverRenewedUs = Math.max(lease.serverRenewedUs, this.scheduler.nowUs);
          return;
        }
        if (answer.ttlSeconds <= 0) return;
        lease.renewedUs = Math.max(lease.renewedUs, sentUs);
        // The leader renewed before it answered (after confirming its leadership, before its checkpoint applied).
        lease.serverRenewedUs = Math.max(lease.serverRenewedUs, this.scheduler.nowUs);
        this.anchor(lease);
      };
      if (target.core !== null) target.core.forwarding.keepAlive(request, answered);
      else target.server?.leaseKeepAlive(request, answered);
    }, false);
  }

  /** A running member with a server, drawn at random (the client's endpoint). */
  private anyMember(): SimMember | null {
    const running: SimMember[] = [];
    for (const nodeId of this.cluster.ids) {
      const m = this.cluster.member(nodeId);
      if (m.state === 'up' && m.server !== null && m.core !== null) running.push(m);
    }
    return running.length === 0 ? null : (running[this.random.intBelow(running.length)] ?? null);
  }

  private leader(): SimMember | null {
    let leader: SimMember | null = null;
    let term = -1;
    for (const nodeId of this.cluster.ids) {
      const m = this.cluster.member(nodeId);
      const status = m.state === 'up' ? m.server?.driver.status() : undefined;
      if (status?.role === 'leader' && status.hardState.term > term) {
        leader = m;
        term = status.hardState.term;
      }
    }
    return leader;
  }
}
