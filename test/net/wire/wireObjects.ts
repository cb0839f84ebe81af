// The KV responses as wire objects, the way the KV service built them for proto-loader
// before the hand-written encoders (net/wire/kvEncoding.ts): the oracle that the
// encoders' bytes are compared with. Sub-responses of a Txn carry a header with only
// their revision; a nested txn's header stays empty, as etcd 3.4's newTxnResp makes it
// (found by the RBAC differential against real etcd).

import type { DeleteRangeResponse, PutResponse, RangeResponse, ResponseOp, TxnResponse } from '../../../core/mvcc/types.js';
import { keyValue } from '../../../net/wire/kv.js';
import type { Wire } from '../../../net/wire/message.js';

export function rangeResponse(r: RangeResponse, head: Wire): Wire {
  return { header: head, kvs: r.kvs.map(keyValue), more: r.more, count: String(r.count) };
}

export function putResponse(r: PutResponse, head: Wire): Wire {
  return r.prevKv === null ? { header: head } : { header: head, prev_kv: keyValue(r.prevKv) };
}

export function deleteRangeResponse(r: DeleteRangeResponse, head: Wire): Wire {
  return { header: head, deleted: String(r.deleted), prev_kvs: r.prevKvs.map(keyValue) };
}

export function txnResponse(r: TxnResponse, head: Wire): Wire {
  return { header: head, succeeded: r.succeeded, responses: r.responses.map(responseOp) };
}

function responseOp(op: ResponseOp): Wire {
  if ('range' in op) return { response_range: rangeResponse(op.range, { revision: String(op.range.revision) }) };
  if ('put' in op) return { response_put: putResponse(op.put, { revision: String(op.put.revision) }) };
  if ('deleteRange' in op) return { response_delete_range: deleteRangeResponse(op.deleteRange, { revision: String(op.deleteRange.revision) }) };
  return { response_txn: txnResponse(op.txn, {}) };
}
