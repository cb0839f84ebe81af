// What a single request may write, read off the request alone: the gap search
// asks these of unknown writes before it tries one at a revision.

import type { ModelStore } from '../store.js';
import type { EtcdRequest, RequestOp } from '../types.js';
import type { EtcdOp } from './types.js';

/** Whether some branch of the request could put `value` (or anything, when undefined) at `key`. */
export function mayPut(request: EtcdRequest, key: string, value: string | undefined): boolean {
  const puts = (op: RequestOp): boolean => op.type === 'put' && op.key === key && (value === undefined || op.value === value);
  if (request.type === 'put') return puts(request);
  if (request.type === 'txn') return request.success.some(puts) || request.failure.some(puts);
  return false;
}

/** Whether `op` is a delete of `key` or of a range holding it. */
export function deleteCovers(op: RequestOp, key: string): boolean {
  if (op.type !== 'delete') return false;
  if (op.rangeEnd === undefined || op.rangeEnd === '') return op.key === key;
  return key >= op.key && (op.rangeEnd === '\u0000' || key < op.rangeEnd);
}

/** Whether some branch of the request could delete `key`: a delete covering it, or a revoke of a lease it was ever put with. */
export function mayDeleteKey(request: EtcdRequest, key: string, leaseKeys: ReadonlyMap<number, ReadonlySet<string>>): boolean {
  const covers = (op: RequestOp): boolean => deleteCovers(op, key);
  if (request.type === 'leaseRevoke') return leaseKeys.get(request.id)?.has(key) ?? false;
  if (request.type === 'delete') return covers(request);
  if (request.type === 'txn') return request.success.some(covers) || request.failure.some(covers);
  return false;
}

/** Whether a request can still write in some future state of `store`: a txn needs a branch that writes and can still be taken. */
export function mayStillWrite(request: EtcdRequest, store: ModelStore): boolean {
  if (request.type !== 'txn') return true;
  const writes = (ops: readonly RequestOp[]): boolean => ops.some((o) => o.type !== 'range');
  if (writes(request.failure)) return true;
  if (!writes(request.success)) return false;
  return request.compare.every((c) => {
    // A key's mod revision only ever moves up to new revisions (or to 0, deleted): one already past cannot come back.
    if (c.target !== 'mod' || c.result !== '=' || typeof c.value !== 'number' || c.value === 0 || c.value > store.revision) return true;
    return store.get(c.key)?.modRevision === c.value;
  });
}

/**
 * How many keys a request may change at its revision, at most (Infinity: a range
 * delete). A lease revoke deletes the keys attached to its lease, which were all
 * put with it by requests of the history: `leaseKeys` (Infinity without it).
 */
export function writeWidth(request: EtcdRequest, leaseKeys?: ReadonlyMap<number, ReadonlySet<string>>): number {
  const width = (ops: readonly RequestOp[]): number =>
    ops.reduce((n, op) => (op.type === 'put' ? n + 1 : op.type === 'delete' ? (op.rangeEnd === undefined || op.rangeEnd === '' ? n + 1 : Infinity) : n), 0);
  switch (request.type) {
    case 'put':
    case 'delete':
      return width([request]);
    case 'txn':
      return Math.max(1, width(request.success), width(request.failure));
    case 'leaseRevoke':
      return leaseKeys === undefined ? Infinity : (leaseKeys.get(request.id)?.size ?? 0);
    default:
      return 1;
  }
}

/** Whether a txn branch puts one key twice (the model then bumps its version twice in one revision). */
export function putsOneKeyTwice(request: EtcdRequest): boolean {
  if (request.type !== 'txn') return false;
  const twice = (ops: readonly RequestOp[]): boolean => {
    const keys = ops.flatMap((o) => (o.type === 'put' ? [o.key] : []));
    return new Set(keys).size !== keys.length;
  };
  return twice(request.success) || twice(request.failure);
}

/** Per key, the earliest revision by which it must be put again, or deleted, to meet the later reads. */
export interface Needs {
  readonly put: ReadonlyMap<string, number>;
  readonly del: ReadonlyMap<string, number>;
}

/** The earliest deadline among the needs a request may serve on `store` (Infinity: none); a revoke deletes its lease's keys. */
export function serves(request: EtcdRequest, need: Needs, store: ModelStore): number {
  const ops = request.type === 'txn' ? [...request.success, ...request.failure] : request.type === 'put' || request.type === 'delete' ? [request] : [];
  let best = Infinity;
  if (request.type === 'leaseRevoke') for (const key of store.keysOfLease(request.id) ?? []) best = Math.min(best, need.del.get(key) ?? Infinity);
  for (const op of ops) {
    if (op.type === 'put') best = Math.min(best, need.put.get(op.key) ?? Infinity);
    if (op.type === 'delete') {
      if (op.rangeEnd === undefined || op.rangeEnd === '') best = Math.min(best, need.del.get(op.key) ?? Infinity);
      else for (const [key, by] of need.del) if (deleteCovers(op, key)) best = Math.min(best, by);
    }
  }
  return best;
}

export const pairKey = (key: string, value: string): string => `${key}\u0000${value}`;

/** The ops that may put each (key, value) (by pairKey), in the order given. */
export function mayPutIndex(ops: readonly EtcdOp[]): Map<string, EtcdOp[]> {
  const index = new Map<string, EtcdOp[]>();
  for (const op of ops) {
    const request = op.input;
    const puts = request.type === 'put' ? [request] : request.type === 'txn' ? [...request.success, ...request.failure] : [];
    for (const put of new Set(puts.flatMap((o) => (o.type === 'put' ? [pairKey(o.key, o.value)] : [])))) {
      const list = index.get(put);
      if (list === undefined) index.set(put, [op]);
      else list.push(op);
    }
  }
  return index;
}
