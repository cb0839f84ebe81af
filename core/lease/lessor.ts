// Leases (etcd's lessor). Three kinds of state:
//
//   replicated — which leases exist, their granted TTL, the keys attached, and when each
//                expires on the *lease clock*. Changed only by applying Raft entries
//                (grant, revoke, checkpoint), so every member agrees.
//   lease clock — a replicated count of milliseconds: each checkpoint entry the leader
//                proposes (every LEASE_CLOCK_INTERVAL_MS while leases exist, and on the
//                tick after a keep-alive) carries the time elapsed on the leader since its
//                last one. A grant expires at clock + TTL; a checkpoint of a renewal at
//                clock + what was left at proposal.
//   primary    — expiry deadlines, kept only on the leader, from its injected clock.
//
// Why the clock: keep-alives reach only the leader, and a new leader must not restart
// every lease from its full TTL (etcd 3.4's bug #9395: with a TTL of 60 s a key can live
// about 60 s too long after a leader change) nor end a lease the old leader renewed. On
// promotion a lease's deadline is what is left on the clock — the clock as last applied
// plus the time this member has seen pass since — plus an election timeout, as etcd's
// Promote(extend) gives. So a key outlives its TTL by at most that extension plus how
// stale this member's last applied clock entry was (one interval and the commit
// latency), and a renewal not yet checkpointed when the leader died is covered by it.
// Only differences of clock values have meaning, so a member that starts from a snapshot
// counts from 0. The time that passed is read on this member's clock, never compared
// with another member's.
//
// Time is an argument (ms from the member's Clock port); nothing here reads a clock.

import { etcdError, type EtcdError } from '../errors.js';
import type { Key } from '../mvcc/keys.js';
import { invariant } from '../util/invariant.js';
import { assertLeaseId, compareLeaseIds, NO_LEASE, type LeaseId } from './leaseId.js';

export const MAX_LEASE_TTL_SECONDS = 9_000_000_000;

export interface Lease {
  readonly id: LeaseId;
  /** The TTL granted (after raising to the minimum), seconds. */
  readonly ttlSeconds: number;
  /** When the lease ends on the replicated lease clock, ms (the grant, then each checkpoint). */
  expiresAtClockMs: number;
  readonly keys: Set<Key>;
  /** Leader only: when the lease expires, ms on the leader's clock; null elsewhere. */
  expiryMs: number | null;
}

export interface LeaseImage {
  readonly id: LeaseId;
  readonly ttlSeconds: number;
  /**
   * What is left on the lease clock when the image is taken, ms. null in images written
   * before the lease clock: never checkpointed, so the full TTL.
   */
  readonly remainingMsAtCheckpoint: number | null;
  readonly keys: readonly Key[];
}

export interface LessorOptions {
  /** etcd: ceil(1.5 × election timeout), 2 s with the defaults. */
  readonly minTtlSeconds: number;
  /**
   * Planted bug leaseTtlResetLost (etcd #9395): promotion ignores the lease clock and
   * restarts every lease from its full TTL, as etcd 3.4 does without checkpoints.
   */
  readonly bugResetTtlOnPromote?: boolean;
  /** Counts to add to; given, they outlive this lessor (a snapshot restore makes a new one). */
  readonly counts?: LeaseCounts;
}

/**
 * As etcd's lessor counts them for its metrics: leases granted and revoked (every member
 * applies both), renewals (leader only).
 */
export interface LeaseCounts {
  granted: number;
  revoked: number;
  renewed: number;
}

export function newLeaseCounts(): LeaseCounts {
  return { granted: 0, revoked: 0, renewed: 0 };
}

/** A renewal or a lapse of time the leader must replicate. */
export interface LeaseCheckpoint {
  readonly id: LeaseId;
  readonly remainingMs: number;
}

export interface TimeToLive {
  readonly id: LeaseId;
  /** Whole seconds left (truncated, as etcd's int64(Remaining().Seconds())); -1 for an unknown lease. */
  readonly ttlSeconds: number;
  readonly grantedTtlSeconds: number;
  readonly keys: readonly Key[];
}

export class Lessor {
  private readonly leases = new Map<LeaseId, Lease>();
  private primary = false;
  /** Leader only: entries up to this index were proposed by earlier leaders (applyCheckpoint). */
  private predecessorsUpToIndex = 0;
  private promotionExtendMs = 0;
  private readonly minTtlSeconds: number;
  private readonly bugResetTtlOnPromote: boolean;
  /** The replicated lease clock, ms (only differences mean anything). */
  private clockMs = 0;
  /** This member's time when it last applied a clock advance; null: none since it started. */
  private clockAppliedAtMs: number | null = null;
  /**
   * Leader only: this member's time up to which elapsed time has been proposed; null right
   * after promotion: from the clock entry last applied when the first one is proposed
   * (the server waits until its predecessors' entries are applied).
   */
  private clockProposedToMs: number | null = null;
  /** Leader only: leases granted or renewed since their last proposed checkpoint, in that order. Invariant: ⊆ leases. */
  private readonly renewed = new Set<LeaseId>();

  /** Where grants, revokes and renewals are counted (LessorOptions.counts). */
  readonly counts: LeaseCounts;

  constructor(options: LessorOptions) {
    this.counts = options.counts ?? newLeaseCounts();
    invariant(options.minTtlSeconds >= 1, 'the minimum lease TTL must be at least one second');
    this.minTtlSeconds = options.minTtlSeconds;
    this.bugResetTtlOnPromote = options.bugResetTtlOnPromote === true;
  }

  /** The TTL a grant request ends up with, or why it cannot be granted (checked before Raft). */
  grantableTtl(ttlSeconds: number): number | EtcdError {
    if (ttlSeconds > MAX_LEASE_TTL_SECONDS) return etcdError('leaseTTLTooLarge');
    return Math.max(ttlSeconds, this.minTtlSeconds);
  }

  // ---------------------------------------------------------------- applied through Raft

  grant(id: LeaseId, ttlSeconds: number, nowMs: number): Lease | EtcdError {
    assertLeaseId(id);
    invariant(id !== NO_LEASE, 'lease id 0 is no lease (an id is chosen before the grant applies)');
    if (this.leases.has(id)) return etcdError('leaseExist');
    const ttl = this.grantableTtl(ttlSeconds);
    if (typeof ttl !== 'number') return ttl;
    // No lease existed: the time since the clock last moved counts for none, so it starts
    // over here and now (the leader proposes no clock entries without leases).
    if (this.leases.size === 0) {
      this.clockAppliedAtMs = nowMs;
      this.clockProposedToMs = nowMs;
    }
    const lease: Lease = {
      id, ttlSeconds: ttl, expiresAtClockMs: this.clockMs + ttl * 1000, keys: new Set(),
      expiryMs: this.primary ? nowMs + ttl * 1000 : null,
    };
    this.leases.set(id, lease);
    // The followers start it from the clock as last applied; the checkpoint says exactly.
    if (this.primary) this.renewed.add(id);
    this.counts.granted++;
    return lease;
  }

  /** Removes the lease; returns the keys the caller must delete (in one revision). */
  revoke(id: LeaseId): readonly Key[] | EtcdError {
    const lease = this.leases.get(id);
    if (lease === undefined) return etcdError('leaseNotFound');
    this.leases.delete(id);
    this.renewed.delete(id);
    this.counts.revoked++;
    return [...lease.keys].sort();
  }

  /**
   * Applies a checkpoint entry: the lease clock moves on by the time the leader saw pass,
   * then each renewal it carries sets its lease's end on that clock. `nowMs` is this
   * member's time, from which it measures how long ago the clock last moved.
   */
  applyCheckpoint(elapsedMs: number, checkpoints: readonly LeaseCheckpoint[], nowMs: number, index: number): void {
    invariant(Number.isFinite(elapsedMs) && elapsedMs >= 0, () => `a lease clock advance must be a non-negative time, got ${elapsedMs}`);
    this.clockMs += elapsedMs;
    this.clockAppliedAtMs = nowMs;
    // A predecessor's checkpoint applied after this member became leader (a new leader
    // applies what they committed after it wins): its renewals were promised to clients,
    // so they move this leader's deadlines too, with the extension promote gave the others
    // (found by the 100-run jepsen campaign, seed 19: a new leader promoted before it
    // applied the checkpoint of a renewal answered 1.6 s earlier ended the lease 2.7 s early).
    const predecessors = this.primary && index <= this.predecessorsUpToIndex;
    for (const cp of checkpoints) {
      const lease = this.leases.get(cp.id);
      if (lease === undefined) continue; // revoked since
      lease.expiresAtClockMs = this.clockMs + Math.max(0, cp.remainingMs);
      if (predecessors) lease.expiryMs = Math.max(lease.expiryMs ?? 0, nowMs + Math.max(0, cp.remainingMs) + this.promotionExtendMs);
    }
  }

  exists(id: LeaseId): boolean {
    return this.leases.has(id);
  }

  /** The keys attached to a lease (none for an unknown one). */
  keysOf(id: LeaseId): readonly Key[] {
    const lease = this.leases.get(id);
    return lease === undefined ? [] : [...lease.keys];
  }

  /** Keeps the key→lease attachment in step with MVCC writes. */
  attach(id: LeaseId, key: Key): void {
    assertLeaseId(id);
    if (id === NO_LEASE) return;
    const lease = this.leases.get(id);
    invariant(lease !== undefined, () => `attach to unknown lease ${id}: MVCC should have refused the put`);
    lease.keys.add(key);
  }

  detach(id: LeaseId, key: Key): void {
    assertLeaseId(id);
    if (id === NO_LEASE) return;
    this.leases.get(id)?.keys.delete(key);
  }

  // ---------------------------------------------------------------- leader only

  /**
   * This member became leader: every lease's deadline is what is left of it on the lease
   * clock, plus `extendMs` (an election timeout: etcd's Promote(extend)), so that a renewal
   * the old leader granted but had not checkpointed yet is not cut short. Entries up to
   * `predecessorsUpToIndex` were proposed before it won: their checkpoints, applied after
   * this, still move its deadlines.
   */
  promote(nowMs: number, extendMs: number, predecessorsUpToIndex: number): void {
    invariant(extendMs >= 0, 'a promotion extends leases by a non-negative time');
    invariant(predecessorsUpToIndex >= 0, 'a log index');
    this.primary = true;
    this.predecessorsUpToIndex = predecessorsUpToIndex;
    this.promotionExtendMs = extendMs;
    this.renewed.clear();
    const clock = this.clockNowMs(nowMs);
    this.clockProposedToMs = null;
    for (const lease of this.leases.values()) {
      const remainingMs = this.bugResetTtlOnPromote ? lease.ttlSeconds * 1000 : Math.max(0, lease.expiresAtClockMs - clock);
      lease.expiryMs = nowMs + remainingMs + extendMs;
    }
  }

  demote(): void {
    this.primary = false;
    this.renewed.clear();
    for (const lease of this.leases.values()) lease.expiryMs = null;
  }

  /** The lease clock now, as this member can tell: as last applied, plus the time seen since. */
  private clockNowMs(nowMs: number): number {
    return this.clockMs + (this.clockAppliedAtMs === null ? 0 : Math.max(0, nowMs - this.clockAppliedAtMs));
  }

  /** Leader only: when the lease ends on this member's clock, ms; null off the leader or for an unknown lease. */
  deadlineMs(id: LeaseId): number | null {
    return this.leases.get(id)?.expiryMs ?? null;
  }

  /** Leases renewed since their last checkpoint was proposed. */
  get renewalsPending(): number {
    return this.renewed.size;
  }

  /**
   * Leader only: what the next checkpoint entry carries — the time passed since the last
   * one was proposed, and up to `max` renewals with what is left of each (renewal order).
   */
  takeCheckpoint(nowMs: number, max: number): { elapsedMs: number; checkpoints: LeaseCheckpoint[]; taken: LeaseId[] } {
    invariant(this.primary, 'only the leader proposes lease checkpoints');
    invariant(max >= 1, 'a checkpoint carries at least one renewal');
    const fromMs = this.clockProposedToMs ?? this.clockAppliedAtMs ?? nowMs;
    const elapsedMs = Math.max(0, nowMs - fromMs);
    this.clockProposedToMs = Math.max(fromMs, nowMs);
    const checkpoints: LeaseCheckpoint[] = [];
    const taken: LeaseId[] = [];
    for (const id of this.renewed) {
      if (taken.length >= max) break;
      this.renewed.delete(id);
      taken.push(id);
      const lease = this.leases.get(id);
      if (lease?.expiryMs != null) checkpoints.push({ id, remainingMs: Math.max(0, lease.expiryMs - nowMs) });
    }
    return { elapsedMs, checkpoints, taken };
  }

  /** A checkpoint's proposal failed: its renewals go out with the next one. */
  renewalsNotCheckpointed(ids: readonly LeaseId[]): void {
    if (!this.primary) return;
    for (const id of ids) if (this.leases.has(id)) this.renewed.add(id);
  }

  /**
   * KeepAlive: renews on the leader, and queues the renewal for the next checkpoint entry
   * (or a new leader would end the lease at its old end). Unknown or expired → TTL 0
   * (not an error, as etcd).
   */
  renew(id: LeaseId, nowMs: number): number {
    invariant(this.primary, 'renew on a member that is not the leader');
    const lease = this.leases.get(id);
    if (lease === undefined) return 0;
    if (lease.expiryMs !== null && lease.expiryMs <= nowMs) return 0;
    lease.expiryMs = nowMs + lease.ttlSeconds * 1000;
    this.renewed.delete(id); // to the end: renewal order
    this.renewed.add(id);
    this.counts.renewed++;
    return lease.ttlSeconds;
  }

  /** Leases past their deadline, oldest first: the leader proposes a revoke for each. */
  expired(nowMs: number): LeaseId[] {
    if (!this.primary) return [];
    return [...this.leases.values()]
      .filter((l) => l.expiryMs !== null && l.expiryMs <= nowMs)
      .sort((a, b) => (a.expiryMs ?? 0) - (b.expiryMs ?? 0) || compareLeaseIds(a.id, b.id))
      .map((l) => l.id);
  }

  /** What is left of a lease as this member can tell, ms (the leader: its deadline; elsewhere: the lease clock); null when unknown. */
  remainingMs(id: LeaseId, nowMs: number): number | null {
    const lease = this.leases.get(id);
    if (lease === undefined) return null;
    return lease.expiryMs !== null ? lease.expiryMs - nowMs : lease.expiresAtClockMs - this.clockNowMs(nowMs);
  }

  timeToLive(id: LeaseId, nowMs: number): TimeToLive {
    const lease = this.leases.get(id);
    const remainingMs = this.remainingMs(id, nowMs);
    if (lease === undefined || remainingMs === null) return { id, ttlSeconds: -1, grantedTtlSeconds: 0, keys: [] };
    return {
      id,
      ttlSeconds: Math.max(0, Math.floor(remainingMs / 1000)),
      grantedTtlSeconds: lease.ttlSeconds,
      keys: [...lease.keys].sort(),
    };
  }

  /** The replicated state, for snapshots. */
  exportLeases(): LeaseImage[] {
    return this.ids().map((id) => {
      const l = this.leases.get(id);
      invariant(l !== undefined, 'lease vanished during export');
      return { id, ttlSeconds: l.ttlSeconds, remainingMsAtCheckpoint: l.expiresAtClockMs - this.clockMs, keys: [...l.keys].sort() };
    });
  }

  /**
   * Replaces the replicated state with a snapshot's (deadlines restart on promotion). The
   * lease clock starts again from 0, as seen at `nowMs`; null: not known when (a restart
   * that replays its log), so nothing counts as elapsed until the next clock entry.
   */
  importLeases(images: readonly LeaseImage[], nowMs: number | null): void {
    this.leases.clear();
    this.renewed.clear();
    this.clockMs = 0;
    this.clockAppliedAtMs = nowMs;
    for (const image of images) {
      assertLeaseId(image.id, 'a snapshot\'s lease id');
      this.leases.set(image.id, {
        id: image.id, ttlSeconds: image.ttlSeconds, expiresAtClockMs: image.remainingMsAtCheckpoint ?? image.ttlSeconds * 1000,
        keys: new Set(image.keys), expiryMs: null,
      });
    }
  }

  /** Forgets every key attachment (a restart rebuilds them from the stored keys). */
  detachAllKeys(): void {
    for (const lease of this.leases.values()) lease.keys.clear();
  }

  /** Leases granted and not revoked. */
  get count(): number {
    return this.leases.size;
  }

  ids(): LeaseId[] {
    return [...this.leases.keys()].sort(compareLeaseIds);
  }
}

/** etcd's minimum lease TTL: ceil(1.5 × election timeout), in seconds. */
export function minLeaseTtlSeconds(electionTimeoutMs: number): number {
  return Math.ceil((3 * electionTimeoutMs) / 2 / 1000);
}
