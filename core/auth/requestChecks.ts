// Which KV and lease requests a user may make (etcd 3.4's authApplierV3 and
// checkTxnAuth), checked when the entry applies — against the auth store as of that
// entry, so a permission change takes effect at the revision it is applied at, on every
// member alike. Each answers null when allowed, else the error the client gets, in the
// order etcd checks.

import type { EtcdError } from '../errors.js';
import { NO_LEASE, type LeaseId } from '../lease/leaseId.js';
import { toKey, type Key } from '../mvcc/keys.js';
import type { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from '../mvcc/types.js';
import type { AuthStore } from './authStore.js';
import { checkOpPermitted, type AuthInfo } from './permissionCheck.js';

/** No token at all: etcd's empty AuthInfo (refused as "user name is empty" while auth is on). */
export const NO_AUTH_INFO: AuthInfo = { user: '', revision: 0 };

export interface RequestAuth {
  readonly store: AuthStore;
  readonly info: AuthInfo | null;
  /** The keys now attached to a lease (a lease whose keys one may not write may not be revoked or reused). */
  readonly leaseKeys: (id: LeaseId) => readonly Key[];
}

function check(auth: RequestAuth, key: Uint8Array | Key, rangeEnd: Uint8Array | undefined, type: 'READ' | 'WRITE'): EtcdError | null {
  return checkOpPermitted(auth.store, {
    info: auth.info ?? NO_AUTH_INFO,
    key: typeof key === 'string' ? key : toKey(key),
    rangeEnd: rangeEnd === undefined ? '' : toKey(rangeEnd),
    type,
  });
}

export function checkRange(auth: RequestAuth, request: RangeRequest): EtcdError | null {
  return check(auth, request.key, request.rangeEnd, 'READ');
}

export function checkPut(auth: RequestAuth, request: PutRequest): EtcdError | null {
  return check(auth, request.key, undefined, 'WRITE')
    ?? checkLeaseKeys(auth, request.lease ?? NO_LEASE)
    ?? (request.prevKv === true ? check(auth, request.key, undefined, 'READ') : null);
}

export function checkDeleteRange(auth: RequestAuth, request: DeleteRangeRequest): EtcdError | null {
  return check(auth, request.key, request.rangeEnd, 'WRITE')
    ?? (request.prevKv === true ? check(auth, request.key, request.rangeEnd, 'READ') : null);
}

/** Every compare, then every op of both branches (nested transactions too), in order. */
export function checkTxn(auth: RequestAuth, request: TxnRequest): EtcdError | null {
  for (const c of request.compare) {
    const refused = check(auth, c.key, c.rangeEnd, 'READ');
    if (refused !== null) return refused;
  }
  return checkOps(auth, request.success) ?? checkOps(auth, request.failure);
}

function checkOps(auth: RequestAuth, ops: readonly RequestOp[]): EtcdError | null {
  for (const op of ops) {
    const refused = checkOp(auth, op);
    if (refused !== null) return refused;
  }
  return null;
}

/** etcd's checkTxnReqsPermission: a put's lease is not checked inside a transaction. */
function checkOp(auth: RequestAuth, op: RequestOp): EtcdError | null {
  if ('range' in op) return checkRange(auth, op.range);
  if ('put' in op) return check(auth, op.put.key, undefined, 'WRITE');
  if ('deleteRange' in op) {
    const d = op.deleteRange;
    return (d.prevKv === true ? check(auth, d.key, d.rangeEnd, 'READ') : null) ?? check(auth, d.key, d.rangeEnd, 'WRITE');
  }
  return checkTxn(auth, op.txn);
}

/** etcd's checkLeasePuts: write permission on every key the lease holds. */
export function checkLeaseKeys(auth: RequestAuth, leaseId: LeaseId): EtcdError | null {
  if (leaseId === NO_LEASE) return null;
  for (const key of auth.leaseKeys(leaseId)) {
    const refused = check(auth, key, undefined, 'WRITE');
    if (refused !== null) return refused;
  }
  return null;
}
