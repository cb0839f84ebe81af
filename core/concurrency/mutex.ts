// etcd's mutex recipe (clientv3/concurrency Mutex), as pure requests and decisions:
// a Lock call puts its own key if absent and learns the holder in the same txn; it
// holds the lock once no contender with a smaller create revision remains.

import { invariant } from '../util/invariant.js';
import type { LeaseId } from '../lease/leaseId.js';
import type { RangeResponse, TxnRequest, TxnResponse } from '../mvcc/types.js';
import { firstCreated, onlyKey } from './keys.js';

/** Where a Lock call stands after its first txn. */
export interface LockStart {
  /** The own key's create revision: every older contender must leave first. */
  readonly myRev: number;
  /** No older contender: the lock is held at once. */
  readonly holds: boolean;
}

/**
 * Puts the own key (attached to the lease) unless it exists — the same lease locking
 * twice is one acquisition — and reads the first-created contender either way.
 */
export function lockTxn(prefix: Uint8Array, key: Uint8Array, leaseId: LeaseId): TxnRequest {
  return {
    compare: [{ key, target: 'create', createRevision: 0, result: 'equal' }],
    success: [{ put: { key, value: new Uint8Array(0), lease: leaseId } }, { range: firstCreated(prefix) }],
    failure: [{ range: { key } }, { range: firstCreated(prefix) }],
  };
}

/** Reads lockTxn's answer: the own key's create revision and whether it is the first. */
export function lockStart(response: TxnResponse): LockStart {
  const [own, owner] = response.responses;
  invariant(own !== undefined && owner !== undefined && 'range' in owner, 'a lock txn answers two operations, the second a range');
  let myRev = response.revision;
  if (!response.succeeded) {
    invariant('range' in own, 'a lock txn that found its key answers with the key');
    const existing = onlyKey(own.range);
    invariant(existing !== null, 'a lock txn that found its key answers with the key');
    myRev = existing.createRevision;
  }
  const first = onlyKey(owner.range);
  return { myRev, holds: first === null || first.createRevision === myRev };
}

/**
 * What a waiter does after asking for the newest contender older than itself
 * (newestCreatedBefore): await that key's deletion, or — none left — hold the lock.
 */
export function nextToAwait(range: RangeResponse): Uint8Array | null {
  return onlyKey(range)?.key ?? null;
}
