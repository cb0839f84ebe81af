// Leases (etcd's lessor). Two kinds of state:
//
//   replicated — which leases exist, their granted TTL, the keys attached, and the
//                remaining TTL last checkpointed. Changed only by applying Raft entries
//                (grant, revoke, checkpoint), so every member agrees.
//   primary    — expiry deadlines, kept only on the leader, from its injected clock.
//                On becoming leader, deadlines restart from the checkpointed remaining
//                TTL (not the full TTL), so a lease does not live longer because the
//                leader changed — the bug etcd 3.4 has (#9395).
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
  /** Remaining TTL when last checkpointed through Raft, ms; null: never checkpointed. */
  remainingMsAtCheckpoint: number | null;
  readonly keys: Set<Key>;
  /** Leader only: when the lease expires, ms on the leader's clock; null elsewhere. */
  expiryMs: number | null;
}

export interface LeaseImage {
  readonly id: LeaseId;
  readonly ttlSeconds: number;
  readonly remainingMsAtCheckpoint: number | null;
  readonly keys: readonly Key[];
}

export interface LessorOptions {
  /** etcd: ceil(1.5 × election timeout), 2 s with the defaults. */
  readonly minTtlSeconds: number;
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
  private readonly minTtlSeconds: number;

  constructor(options: LessorOptions) {
    invariant(options.minTtlSeconds >= 1, 'the minimum lease TTL must be at least one second');
    this.minTtlSeconds = options.minTtlSeconds;
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
    const lease: Lease = {
      id, ttlSeconds: ttl, remainingMsAtCheckpoint: null, keys: new Set(),
      expiryMs: this.primary ? nowMs + ttl * 1000 : null,
    };
    this.leases.set(id, lease);
    return lease;
  }

  /** Removes the lease; returns the keys the caller must delete (in one revision). */
  revoke(id: LeaseId): readonly Key[] | EtcdError {
    const lease = this.leases.get(id);
    if (lease === undefined) return etcdError('leaseNotFound');
    this.leases.delete(id);
    return [...lease.keys].sort();
  }

  /** Records the remaining TTL the leader checkpointed, so a new leader resumes from it. */
  checkpoint(id: LeaseId, remainingMs: number): void {
    const lease = this.leases.get(id);
    if (lease === undefined) return; // revoked since
    lease.remainingMsAtCheckpoint = Math.max(0, remainingMs);
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

  /** This member became leader: start every lease's clock from what is known to remain. */
  promote(nowMs: number): void {
    this.primary = true;
    for (const lease of this.leases.values()) {
      const remainingMs = lease.remainingMsAtCheckpoint ?? lease.ttlSeconds * 1000;
      lease.expiryMs = nowMs + remainingMs;
    }
  }

  demote(): void {
    this.primary = false;
    for (const lease of this.leases.values()) lease.expiryMs = null;
  }

  /**
   * KeepAlive: renews on the leader. Unknown or expired → TTL 0 (not an error, as etcd).
   * `checkpointNeeded`: a checkpoint older than this renewal is on record; the caller
   * proposes a fresh one, or a new leader would resume from the stale remainder and
   * expire the lease before the TTL the client was just promised.
   */
  renew(id: LeaseId, nowMs: number): { ttlSeconds: number; checkpointNeeded: boolean } {
    invariant(this.primary, 'renew on a member that is not the leader');
    const lease = this.leases.get(id);
    if (lease === undefined) return { ttlSeconds: 0, checkpointNeeded: false };
    if (lease.expiryMs !== null && lease.expiryMs <= nowMs) return { ttlSeconds: 0, checkpointNeeded: false };
    lease.expiryMs = nowMs + lease.ttlSeconds * 1000;
    return { ttlSeconds: lease.ttlSeconds, checkpointNeeded: lease.remainingMsAtCheckpoint !== null };
  }

  /** Leases past their deadline, oldest first: the leader proposes a revoke for each. */
  expired(nowMs: number): LeaseId[] {
    if (!this.primary) return [];
    return [...this.leases.values()]
      .filter((l) => l.expiryMs !== null && l.expiryMs <= nowMs)
      .sort((a, b) => (a.expiryMs ?? 0) - (b.expiryMs ?? 0) || compareLeaseIds(a.id, b.id))
      .map((l) => l.id);
  }

  /** Remaining TTLs the leader should checkpoint through Raft now. */
  checkpoints(nowMs: number): { id: LeaseId; remainingMs: number }[] {
    if (!this.primary) return [];
    return [...this.leases.values()]
      .filter((l) => l.expiryMs !== null)
      .sort((a, b) => compareLeaseIds(a.id, b.id))
      .map((l) => ({ id: l.id, remainingMs: Math.max(0, (l.expiryMs ?? nowMs) - nowMs) }));
  }

  timeToLive(id: LeaseId, nowMs: number): TimeToLive {
    const lease = this.leases.get(id);
    if (lease === undefined) return { id, ttlSeconds: -1, grantedTtlSeconds: 0, keys: [] };
    const remainingMs = lease.expiryMs !== null
      ? lease.expiryMs - nowMs
      : (lease.remainingMsAtCheckpoint ?? lease.ttlSeconds * 1000);
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
      return { id, ttlSeconds: l.ttlSeconds, remainingMsAtCheckpoint: l.remainingMsAtCheckpoint, keys: [...l.keys].sort() };
    });
  }

  /** Replaces the replicated state with a snapshot's (deadlines restart on promotion). */
  importLeases(images: readonly LeaseImage[]): void {
    this.leases.clear();
    for (const image of images) {
      assertLeaseId(image.id, 'a snapshot\'s lease id');
      this.leases.set(image.id, {
        id: image.id, ttlSeconds: image.ttlSeconds, remainingMsAtCheckpoint: image.remainingMsAtCheckpoint,
        keys: new Set(image.keys), expiryMs: null,
      });
    }
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
