// etcd's alarms (api/v3alarm): which member raised which alarm. Replicated state: an
// alarm is raised and cleared only by an applied entry (etcd proposes Alarm requests
// through Raft), so every member lists the same alarms in the same order, and the set
// travels in the snapshot image (etcd keeps it in its backend's `alarm` bucket).
//
// While an alarm is raised the cluster refuses requests at apply (refusalAtApply):
//   NOSPACE  puts, txns with a put in either branch, lease grants: "database space exceeded"
//   CORRUPT  every KV write, compaction, lease grant and revoke: "corrupt cluster"
// (etcd's applierV3Capped and applierV3Corrupt). Deletes, reads, compaction and lease
// revokes go on under NOSPACE, so that an operator can free space and disarm.

import { etcdError, type EtcdError } from '../errors.js';
import { invariant } from '../util/invariant.js';
import { quotaCost } from './quota.js';
import type { InternalRequest } from './requests.js';

/** etcd's AlarmType; NONE names no alarm (GET NONE lists them all). */
export type AlarmType = 'NONE' | 'NOSPACE' | 'CORRUPT';
export const ALARM_TYPES: readonly AlarmType[] = ['NONE', 'NOSPACE', 'CORRUPT'];

export type AlarmAction = 'get' | 'activate' | 'deactivate';

export interface AlarmMember {
  /** The raising member's etcd id, a decimal uint64 (opaque here: the wire's id, as etcd stores it). */
  readonly memberId: string;
  readonly alarm: AlarmType;
}

export interface AlarmRequest {
  readonly action: AlarmAction;
  readonly memberId: string;
  readonly alarm: AlarmType;
}

/**
 * Alarms the store holds at most. etcd has no bound, but an alarm names a member and a
 * type, and clients may ACTIVATE any member id: past the bound a new alarm is not
 * recorded (the answer lists nothing), so a client cannot grow the replicated state
 * without limit. A real cluster raises at most members × 3.
 */
export const MAX_ALARMS = 1024;

export class AlarmStore {
  /** In the order raised: the same on every member (etcd lists from a Go map: any order). */
  private readonly raised: AlarmMember[];

  constructor(image: readonly AlarmMember[] = []) {
    invariant(image.length <= MAX_ALARMS, 'an alarm image larger than the bound');
    this.raised = image.map((a) => ({ memberId: a.memberId, alarm: a.alarm }));
  }

  /** The alarm raised (or the one already raised for the member and type); null past MAX_ALARMS. */
  activate(memberId: string, alarm: AlarmType): AlarmMember | null {
    const present = this.raised.find((a) => a.memberId === memberId && a.alarm === alarm);
    if (present !== undefined) return present;
    if (this.raised.length >= MAX_ALARMS) return null;
    const added = { memberId, alarm };
    this.raised.push(added);
    return added;
  }

  /** The alarm cleared; null if the member had not raised it. */
  deactivate(memberId: string, alarm: AlarmType): AlarmMember | null {
    const at = this.raised.findIndex((a) => a.memberId === memberId && a.alarm === alarm);
    if (at < 0) return null;
    const [removed] = this.raised.splice(at, 1);
    return removed ?? null;
  }

  /** The alarms of one type; NONE: every alarm. */
  get(alarm: AlarmType): AlarmMember[] {
    return this.raised.filter((a) => alarm === 'NONE' || a.alarm === alarm);
  }

  has(alarm: Exclude<AlarmType, 'NONE'>): boolean {
    return this.raised.some((a) => a.alarm === alarm);
  }

  /** The replicated state, for the snapshot image. */
  image(): AlarmMember[] {
    return this.raised.map((a) => ({ ...a }));
  }

  /** Applies one Alarm request; its answer lists the alarms it read, raised or cleared. */
  apply(request: AlarmRequest): AlarmMember[] {
    switch (request.action) {
      case 'get': return this.get(request.alarm);
      case 'activate': {
        const raised = this.activate(request.memberId, request.alarm);
        return raised === null ? [] : [raised];
      }
      case 'deactivate': {
        const cleared = this.deactivate(request.memberId, request.alarm);
        return cleared === null ? [] : [cleared];
      }
    }
  }

  /** Why the raised alarms refuse `request` at apply; null if they do not. CORRUPT wins over NOSPACE, as in etcd. */
  refusalAtApply(request: InternalRequest): EtcdError | null {
    if (this.raised.length === 0) return null;
    if (this.has('CORRUPT') && refusedWhenCorrupt(request)) return etcdError('corrupt');
    if (this.has('NOSPACE') && quotaCost(request) > 0) return etcdError('noSpace');
    return null;
  }
}

/**
 * etcd's applierV3Corrupt refuses Put, DeleteRange, Txn, Compaction, LeaseGrant and
 * LeaseRevoke as they apply. etcd serves read-only txns without Raft (they never meet
 * that applier); Tern proposes them, so they are let through here to answer as etcd does.
 */
function refusedWhenCorrupt(request: InternalRequest): boolean {
  switch (request.kind) {
    case 'put': case 'deleteRange': case 'compact': case 'leaseGrant': case 'leaseRevoke': return true;
    case 'txn': return ![...request.txn.success, ...request.txn.failure].every((op) => 'range' in op);
    default: return false;
  }
}
