// KV's wire requests (Range, Put, DeleteRange, Txn) → the core's request types, and a
// KeyValue as a wire object (Election's responses). The KV responses are encoded by
// kvEncoding.ts.

import type {
  Compare, CompareResult, DeleteRangeRequest, KeyValue, PutRequest, RangeRequest, RequestOp, SortOrder, SortTarget, TxnRequest,
} from '../../core/mvcc/types.js';
import { bool, bytes, int, leaseId, sub, wireLeaseId, type Wire } from './message.js';

const SORT_ORDERS: Record<string, SortOrder> = { NONE: 'none', ASCEND: 'ascend', DESCEND: 'descend' };
const SORT_TARGETS: Record<string, SortTarget> = { KEY: 'key', VERSION: 'version', CREATE: 'create', MOD: 'mod', VALUE: 'value' };
const COMPARE_RESULTS: Record<string, CompareResult> = { EQUAL: 'equal', GREATER: 'greater', LESS: 'less', NOT_EQUAL: 'notEqual' };

export function rangeRequest(w: Wire): RangeRequest {
  return {
    key: bytes(w['key']),
    rangeEnd: bytes(w['range_end']),
    limit: int(w['limit']),
    revision: int(w['revision']),
    sortOrder: SORT_ORDERS[String(w['sort_order'])] ?? 'none',
    sortTarget: SORT_TARGETS[String(w['sort_target'])] ?? 'key',
    serializable: bool(w['serializable']),
    keysOnly: bool(w['keys_only']),
    countOnly: bool(w['count_only']),
    minModRevision: int(w['min_mod_revision']),
    maxModRevision: int(w['max_mod_revision']),
    minCreateRevision: int(w['min_create_revision']),
    maxCreateRevision: int(w['max_create_revision']),
  };
}

export function putRequest(w: Wire): PutRequest {
  return {
    key: bytes(w['key']), value: bytes(w['value']), lease: leaseId(w['lease']), prevKv: bool(w['prev_kv']),
    ignoreValue: bool(w['ignore_value']), ignoreLease: bool(w['ignore_lease']),
  };
}

export function deleteRangeRequest(w: Wire): DeleteRangeRequest {
  return { key: bytes(w['key']), rangeEnd: bytes(w['range_end']), prevKv: bool(w['prev_kv']) };
}

function compare(w: Wire): Compare {
  const base = { result: COMPARE_RESULTS[String(w['result'])] ?? 'equal', key: bytes(w['key']), rangeEnd: bytes(w['range_end']) };
  switch (String(w['target'])) {
    case 'CREATE': return { ...base, target: 'create', createRevision: int(w['create_revision']) };
    case 'MOD': return { ...base, target: 'mod', modRevision: int(w['mod_revision']) };
    case 'VALUE': return { ...base, target: 'value', value: bytes(w['value']) };
    case 'LEASE': return { ...base, target: 'lease', lease: leaseId(w['lease']) };
    default: return { ...base, target: 'version', version: int(w['version']) };
  }
}

function requestOp(w: Wire): RequestOp {
  switch (w['request']) {
    case 'request_put': return { put: putRequest(sub(w['request_put'])) };
    case 'request_delete_range': return { deleteRange: deleteRangeRequest(sub(w['request_delete_range'])) };
    case 'request_txn': return { txn: txnRequest(sub(w['request_txn'])) };
    // An empty RequestOp: etcd treats it as a range of the empty key (→ key not provided).
    default: return { range: rangeRequest(sub(w['request_range'])) };
  }
}

export function txnRequest(w: Wire): TxnRequest {
  const list = (v: unknown): Wire[] => (Array.isArray(v) ? (v as Wire[]) : []);
  return {
    compare: list(w['compare']).map(compare),
    success: list(w['success']).map(requestOp),
    failure: list(w['failure']).map(requestOp),
  };
}

// ------------------------------------------------------------------ responses

/** Sub-responses inside a txn carry a header with only the revision (as etcd 3.4). */
export function keyValue(kv: KeyValue): Wire {
  return {
    key: Buffer.from(kv.key), create_revision: String(kv.createRevision), mod_revision: String(kv.modRevision),
    version: String(kv.version), value: Buffer.from(kv.value), lease: wireLeaseId(kv.lease),
  };
}
