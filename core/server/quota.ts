// etcd's backend quota (etcdserver/quota.go): a request that would grow the backend
// past --quota-backend-bytes is refused with "etcdserver: mvcc: database space
// exceeded", and the member raises a NOSPACE alarm through Raft.
//
// A request's cost is etcd's estimate of what it adds: a put 256 + key + value bytes, a
// txn the larger of its branches' puts, a lease grant 64; every other request costs 0
// and always fits. The check is `size + cost < quota` (etcd's Available), against the
// member's own backend size (backendSize.ts): in etcd, the bbolt file's size.

import type { InternalRequest } from './requests.js';
import type { RequestOp } from '../mvcc/types.js';

/** etcd's DefaultQuotaBytes: the quota when --quota-backend-bytes is 0. */
export const DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024;

/** etcd's kvOverhead: the cost of a key's metadata. */
const KV_OVERHEAD_BYTES = 256;
/** etcd's leaseOverhead: the cost of storing a lease. */
const LEASE_OVERHEAD_BYTES = 64;

/**
 * The quota in bytes for etcd's --quota-backend-bytes: 0 means etcd's default (2 GiB),
 * a negative value disables the quota (Infinity: every request fits).
 */
export function quotaBytesOf(flag: number): number {
  if (flag < 0) return Infinity;
  return flag === 0 ? DEFAULT_QUOTA_BYTES : flag;
}

/** etcd's Cost: what `request` is charged against the quota (0: it always fits). */
export function quotaCost(request: InternalRequest): number {
  switch (request.kind) {
    case 'put': return KV_OVERHEAD_BYTES + request.put.key.length + request.put.value.length;
    case 'leaseGrant': return LEASE_OVERHEAD_BYTES;
    case 'txn': return Math.max(branchCost(request.txn.success), branchCost(request.txn.failure));
    default: return 0;
  }
}

/** The puts of one txn branch (nested txns cost nothing, as in etcd's costTxnReq). */
function branchCost(ops: readonly RequestOp[]): number {
  let sum = 0;
  for (const op of ops) if ('put' in op) sum += KV_OVERHEAD_BYTES + op.put.key.length + op.put.value.length;
  return sum;
}

/** etcd's Available: whether a request of `cost` fits a backend of `sizeBytes` under `quotaBytes`. */
export function fitsQuota(options: { readonly sizeBytes: number; readonly cost: number; readonly quotaBytes: number }): boolean {
  return options.cost === 0 || options.sizeBytes + options.cost < options.quotaBytes;
}
