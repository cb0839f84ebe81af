// etcd's election recipe (clientv3/concurrency Election), as pure requests and
// decisions. A campaigner puts its own key with its value; it leads once every older
// campaigner's key is gone. A leader is named by a LeaderKey (key and create
// revision): proclaiming and resigning are txns guarded by that create revision, so a
// holder whose key was deleted and created again (by a later campaign) is not the
// leader any more.

import { invariant } from '../util/invariant.js';
import type { LeaseId } from '../lease/leaseId.js';
import type { KeyValue, RangeResponse, TxnRequest, TxnResponse } from '../mvcc/types.js';
import { onlyKey } from './keys.js';

/** A leadership, as the Election service's LeaderKey names it. */
export interface Leadership {
  readonly key: Uint8Array;
  /** The key's create revision when it was won. */
  readonly rev: number;
  readonly leaseId: LeaseId;
}

/** Where a Campaign call stands after its first txn. */
export interface CampaignStart {
  /** The own key's create revision. */
  readonly rev: number;
  /** The key existed (the same lease campaigned before) with another value: proclaim the new one. */
  readonly proclaim: boolean;
}

/** Puts the own key with the value unless it exists (then reads it). */
export function campaignTxn(key: Uint8Array, value: Uint8Array, leaseId: LeaseId): TxnRequest {
  return {
    compare: [{ key, target: 'create', createRevision: 0, result: 'equal' }],
    success: [{ put: { key, value, lease: leaseId } }],
    failure: [{ range: { key } }],
  };
}

export function campaignStart(response: TxnResponse, value: Uint8Array): CampaignStart {
  if (response.succeeded) return { rev: response.revision, proclaim: false };
  const [own] = response.responses;
  invariant(own !== undefined && 'range' in own, 'a campaign txn that found its key answers with a range');
  const existing = onlyKey(own.range);
  invariant(existing !== null, 'a campaign txn that found its key answers with the key');
  return { rev: existing.createRevision, proclaim: !sameBytes(existing.value, value) };
}

/** The leader's new value, only if its key still has the create revision it won with. */
export function proclaimTxn(leader: Leadership, value: Uint8Array): TxnRequest {
  return {
    compare: [{ key: leader.key, target: 'create', createRevision: leader.rev, result: 'equal' }],
    success: [{ put: { key: leader.key, value, lease: leader.leaseId } }],
    failure: [],
  };
}

/** Deletes the leader's key, only if it still has the create revision it won with. */
export function resignTxn(leader: Leadership): TxnRequest {
  return {
    compare: [{ key: leader.key, target: 'create', createRevision: leader.rev, result: 'equal' }],
    success: [{ deleteRange: { key: leader.key } }],
    failure: [],
  };
}

/** The leader from a firstCreated range: its key and value, or null when nobody campaigns. */
export function leaderOf(range: RangeResponse): KeyValue | null {
  return onlyKey(range);
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}
