// etcd KV requests and responses as Tern histories record them (see
// docs/history-format.md). Keys and values are strings; keys compare by UTF-16
// code units, which equals etcd's byte order for ASCII keys.

export interface KeyValue {
  readonly key: string;
  readonly value: string;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
  /** 0 = no lease. */
  readonly lease: number;
}

export interface RangeRequest {
  readonly type: 'range';
  readonly key: string;
  /** Absent or "" = the single key; "\u0000" = every key >= key. */
  readonly rangeEnd?: string;
  /** <= 0 or absent = the latest revision. */
  readonly revision?: number;
  /** <= 0 or absent = no limit. */
  readonly limit?: number;
  /** Values come back empty. */
  readonly keysOnly?: boolean;
  /** Only the count comes back (no kvs). */
  readonly countOnly?: boolean;
}

export interface PutRequest {
  readonly type: 'put';
  readonly key: string;
  readonly value: string;
  readonly lease?: number;
  readonly prevKv?: boolean;
}

export interface DeleteRequest {
  readonly type: 'delete';
  readonly key: string;
  readonly rangeEnd?: string;
  readonly prevKv?: boolean;
}

export type RequestOp = RangeRequest | PutRequest | DeleteRequest;

export interface Compare {
  readonly key: string;
  readonly target: 'version' | 'create' | 'mod' | 'value' | 'lease';
  readonly result: '=' | '!=' | '<' | '>';
  readonly value: number | string;
}

export interface TxnRequest {
  readonly type: 'txn';
  readonly compare: readonly Compare[];
  readonly success: readonly RequestOp[];
  readonly failure: readonly RequestOp[];
}

export interface CompactRequest {
  readonly type: 'compact';
  readonly revision: number;
}

export interface LeaseGrantRequest {
  readonly type: 'leaseGrant';
  readonly id: number;
}

export interface LeaseRevokeRequest {
  readonly type: 'leaseRevoke';
  readonly id: number;
}

export type EtcdRequest = RequestOp | TxnRequest | CompactRequest | LeaseGrantRequest | LeaseRevokeRequest;

export type EtcdError = 'compacted' | 'futureRev' | 'leaseNotFound' | 'leaseExists';

/**
 * A response is plain JSON data. The model computes the full response; a
 * recorded response matches when every field it records equals the model's
 * (a recorder may leave fields out, never get them wrong).
 */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };
export type EtcdResponse = { readonly [key: string]: Json };

/** True when every field present in `recorded` equals the one in `expected`. */
export function responseMatches(expected: Json | undefined, recorded: Json): boolean {
  if (recorded === null || typeof recorded !== 'object') return expected === recorded;
  if (expected === null || expected === undefined || typeof expected !== 'object') return false;
  if (Array.isArray(recorded)) {
    if (!Array.isArray(expected) || expected.length !== recorded.length) return false;
    return recorded.every((r: Json, i) => responseMatches((expected as readonly Json[])[i], r));
  }
  if (Array.isArray(expected)) return false;
  const exp = expected as { readonly [key: string]: Json };
  for (const [k, v] of Object.entries(recorded as { readonly [key: string]: Json })) {
    if (!responseMatches(exp[k], v)) return false;
  }
  return true;
}
