// An ok op at its place in revision order, the shared vocabulary of the fast
// path's rules.

import type { Operation } from '../../history.js';
import type { EtcdRequest, EtcdResponse } from '../types.js';

export type EtcdOp = Operation<EtcdRequest, EtcdResponse>;

export interface Placed {
  readonly op: EtcdOp;
  /** 2r for the mutation at revision r, 2r+1 for an op in bucket r. */
  readonly key: number;
  /** An error response placed late in its bucket: after compactions and lease grants. */
  readonly late?: boolean;
}

/** A successful compaction or lease grant or revoke: it can change state without a revision. */
export function isStirring(op: EtcdOp): boolean {
  const { type } = op.input;
  return (type === 'compact' || type === 'leaseGrant' || type === 'leaseRevoke') && op.outcome === 'ok' && op.output?.['error'] === undefined;
}

export function describeKey(key: number): string {
  return (key & 1) === 0 ? `revision ${key / 2}` : `a read of revision ${key >> 1}`;
}

export type Illegal = { readonly verdict: 'illegal'; readonly reason: string; readonly ops: readonly number[]; readonly prefix: readonly number[] };

export const illegal = (reason: string, ops: readonly number[]): Illegal => ({ verdict: 'illegal', reason, ops, prefix: [] });
