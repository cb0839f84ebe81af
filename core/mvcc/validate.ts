// Checks a request must pass before it is proposed to Raft (etcd's
// checkRequest/checkTxnRequest/checkIntervals): empty keys, ignore_* misuse, too many
// txn ops, duplicate keys within one txn branch.

import { etcdError, type EtcdError } from '../errors.js';
import { inRange, toKey, type Key, type KeyRange } from './keys.js';
import type { DeleteRangeRequest, PutRequest, RangeRequest, RequestOp, TxnRequest } from './types.js';

export const DEFAULT_MAX_TXN_OPS = 128;
const EMPTY = new Uint8Array(0);

export function validateRange(r: RangeRequest): EtcdError | null {
  return r.key.length === 0 ? etcdError('emptyKey') : null;
}

export function validatePut(r: PutRequest): EtcdError | null {
  if (r.key.length === 0) return etcdError('emptyKey');
  if (r.ignoreValue === true && r.value.length !== 0) return etcdError('valueProvided');
  if (r.ignoreLease === true && (r.lease ?? 0n) !== 0n) return etcdError('leaseProvided');
  return null;
}

export function validateDeleteRange(r: DeleteRangeRequest): EtcdError | null {
  return r.key.length === 0 ? etcdError('emptyKey') : null;
}

export function validateTxn(r: TxnRequest, maxTxnOps = DEFAULT_MAX_TXN_OPS): EtcdError | null {
  const shape = checkShape(r, maxTxnOps);
  if (shape !== null) return shape;
  // Each top-level branch is checked on its own: then and else never both run.
  if (checkIntervals(r.success) === null || checkIntervals(r.failure) === null) return etcdError('duplicateKey');
  return null;
}

function checkShape(r: TxnRequest, maxTxnOps: number): EtcdError | null {
  if (r.compare.length > maxTxnOps || r.success.length > maxTxnOps || r.failure.length > maxTxnOps) {
    return etcdError('tooManyOps');
  }
  for (const c of r.compare) if (c.key.length === 0) return etcdError('emptyKey');
  for (const op of [...r.success, ...r.failure]) {
    const bad = validateOp(op, maxTxnOps);
    if (bad !== null) return bad;
  }
  return null;
}

function validateOp(op: RequestOp, maxTxnOps: number): EtcdError | null {
  if ('range' in op) return validateRange(op.range);
  if ('put' in op) return validatePut(op.put);
  if ('deleteRange' in op) return validateDeleteRange(op.deleteRange);
  return checkShape(op.txn, maxTxnOps);
}

/**
 * The interval etcd's duplicate check builds for a delete (checkIntervals in
 * v3rpc/key.go): a single key for an empty range_end, else [key, range_end) read
 * literally. The "\0" from-key convention is not applied there: range_end "\0" sorts
 * below every non-empty key, so [a, "\0") is empty and collides with no put — etcd
 * accepts a txn deleting [a, "\0") and putting a, though the delete itself then runs
 * from key a on. Deliberately not keyRange().
 */
function literalInterval(key: Key, rangeEnd: Key): KeyRange {
  return rangeEnd === '' ? { kind: 'single', key } : { kind: 'range', from: key, to: rangeEnd };
}

interface Intervals {
  readonly puts: Set<Key>;
  readonly dels: KeyRange[];
}

/**
 * The keys a branch puts and the ranges it deletes, or null if it puts a key twice or
 * puts a key it also deletes. A nested txn's then and else branches may put the same
 * key (only one runs); anything else colliding within one branch is a duplicate.
 */
function checkIntervals(ops: readonly RequestOp[]): Intervals | null {
  const dels: KeyRange[] = [];
  for (const op of ops) {
    if ('deleteRange' in op) dels.push(literalInterval(toKey(op.deleteRange.key), toKey(op.deleteRange.rangeEnd ?? EMPTY)));
  }
  const intersects = (key: Key): boolean => dels.some((d) => inRange(d, key));
  const puts = new Set<Key>();
  for (const op of ops) {
    if (!('txn' in op)) continue;
    const then = checkIntervals(op.txn.success);
    const otherwise = checkIntervals(op.txn.failure);
    if (then === null || otherwise === null) return null;
    for (const key of then.puts) {
      if (puts.has(key) || intersects(key)) return null;
      puts.add(key);
    }
    for (const key of otherwise.puts) {
      if (puts.has(key) && !then.puts.has(key)) return null;
      if (intersects(key)) return null;
      puts.add(key);
    }
    dels.push(...then.dels, ...otherwise.dels);
  }
  for (const op of ops) {
    if (!('put' in op)) continue;
    const key = toKey(op.put.key);
    if (puts.has(key) || intersects(key)) return null;
    puts.add(key);
  }
  return { puts, dels };
}
