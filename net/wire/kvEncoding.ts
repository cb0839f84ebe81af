// Range, Put, DeleteRange and Txn responses encoded straight to protobuf bytes (protoWriter.ts),
// as the watch events are (watchEncoding.ts): their header's int64s went through decimal
// strings and protobufjs's Long.fromString, every key and value was copied into a Buffer
// for the wire object, and proto-loader's reflective encoder walked it (net/wire/kv.ts's
// objects, still what the JSON gateway's tests and the Txn sub-responses are pinned
// against). test/net/wire/kvEncoding.test.ts compares the bytes, decoded by
// proto-loader, with that path.
//
//   RangeResponse       1 header  2 kvs (repeated)  3 more  4 count
//   PutResponse         1 header  2 prev_kv
//   DeleteRangeResponse 1 header  2 deleted  3 prev_kvs (repeated)
//   TxnResponse         1 header  2 succeeded  3 responses (repeated ResponseOp)
//   ResponseOp          1 response_range | 2 response_put | 3 response_delete_range | 4 response_txn

import type { DeleteRangeResponse, KeyValue, PutResponse, RangeResponse, ResponseOp, TxnResponse } from '../../core/mvcc/types.js';
import { invariant } from '../../core/util/invariant.js';
import {
  HeaderIds, headerFieldSize, int64Size, keyValueFieldSize, varintSize, writeBool, writeHeader, writeInt64Field, writeKeyValue,
  writeVarint, type HeaderNumbers,
} from './protoWriter.js';

export function encodeRangeResponse(r: RangeResponse, ids: HeaderIds, header: HeaderNumbers): Buffer {
  return encoded(rangeSize(r, ids, header), (out) => writeRange(out, 0, r, ids, header), 'range');
}

export function encodePutResponse(r: PutResponse, ids: HeaderIds, header: HeaderNumbers): Buffer {
  return encoded(putSize(r, ids, header), (out) => writePut(out, 0, r, ids, header), 'put');
}

export function encodeDeleteRangeResponse(r: DeleteRangeResponse, ids: HeaderIds, header: HeaderNumbers): Buffer {
  return encoded(deleteRangeSize(r, ids, header), (out) => writeDeleteRange(out, 0, r, ids, header), 'delete range');
}

export function encodeTxnResponse(r: TxnResponse, ids: HeaderIds, header: HeaderNumbers): Buffer {
  return encoded(txnSize(r, ids, header), (out) => writeTxn(out, 0, r, ids, header), 'txn');
}

function encoded(size: number, write: (out: Buffer) => number, what: string): Buffer {
  const out = Buffer.allocUnsafe(size);
  const written = write(out);
  invariant(written === size, () => `${what} response: ${size} bytes sized, ${written} written`);
  return out;
}

// Each message as a body (size, then writer) so that a Txn can nest them.

function rangeSize(r: RangeResponse, ids: HeaderIds, header: HeaderNumbers): number {
  return headerFieldSize(ids, header) + keyValuesSize(r.kvs) + (r.more ? 2 : 0) + (r.count === 0 ? 0 : 1 + int64Size(r.count));
}

function writeRange(out: Uint8Array, start: number, r: RangeResponse, ids: HeaderIds, header: HeaderNumbers): number {
  let at = writeHeader(out, start, 0x0a, ids, header);
  for (const kv of r.kvs) at = writeKeyValue(out, at, 0x12, kv);
  if (r.more) at = writeBool(out, at, 0x18);
  return writeInt64Field(out, at, 0x20, r.count);
}

function putSize(r: PutResponse, ids: HeaderIds, header: HeaderNumbers): number {
  return headerFieldSize(ids, header) + (r.prevKv === null ? 0 : keyValueFieldSize(r.prevKv));
}

function writePut(out: Uint8Array, start: number, r: PutResponse, ids: HeaderIds, header: HeaderNumbers): number {
  const at = writeHeader(out, start, 0x0a, ids, header);
  return r.prevKv === null ? at : writeKeyValue(out, at, 0x12, r.prevKv);
}

function deleteRangeSize(r: DeleteRangeResponse, ids: HeaderIds, header: HeaderNumbers): number {
  return headerFieldSize(ids, header) + (r.deleted === 0 ? 0 : 1 + int64Size(r.deleted)) + keyValuesSize(r.prevKvs);
}

function writeDeleteRange(out: Uint8Array, start: number, r: DeleteRangeResponse, ids: HeaderIds, header: HeaderNumbers): number {
  let at = writeHeader(out, start, 0x0a, ids, header);
  at = writeInt64Field(out, at, 0x10, r.deleted);
  for (const kv of r.prevKvs) at = writeKeyValue(out, at, 0x1a, kv);
  return at;
}

function txnSize(r: TxnResponse, ids: HeaderIds, header: HeaderNumbers): number {
  let size = headerFieldSize(ids, header) + (r.succeeded ? 2 : 0);
  for (const op of r.responses) {
    const body = responseOpSize(op);
    size += 1 + varintSize(body) + body;
  }
  return size;
}

function writeTxn(out: Uint8Array, start: number, r: TxnResponse, ids: HeaderIds, header: HeaderNumbers): number {
  let at = writeHeader(out, start, 0x0a, ids, header);
  if (r.succeeded) at = writeBool(out, at, 0x10);
  for (const op of r.responses) {
    out[at++] = 0x1a;
    at = writeVarint(out, at, responseOpSize(op));
    at = writeResponseOp(out, at, op);
  }
  return at;
}

// A sub-response's header carries only its revision, and a nested txn's none at all
// (etcd 3.4's apply.go; net/wire/kv.ts's responseOp, which Tern's tests pinned against etcd).
const NO_IDS = new HeaderIds({ clusterId: '0', memberId: '0' });

function revisionOnly(revision: number): HeaderNumbers {
  return { revision, raftTerm: 0 };
}

const EMPTY_HEADER: HeaderNumbers = { revision: 0, raftTerm: 0 };

/** ResponseOp's body: the one field of its oneof (1 range, 2 put, 3 delete_range, 4 txn). */
function responseOpSize(op: ResponseOp): number {
  const inner = 'range' in op ? rangeSize(op.range, NO_IDS, revisionOnly(op.range.revision))
    : 'put' in op ? putSize(op.put, NO_IDS, revisionOnly(op.put.revision))
      : 'deleteRange' in op ? deleteRangeSize(op.deleteRange, NO_IDS, revisionOnly(op.deleteRange.revision))
        : txnSize(op.txn, NO_IDS, EMPTY_HEADER);
  return 1 + varintSize(inner) + inner;
}

function writeResponseOp(out: Uint8Array, start: number, op: ResponseOp): number {
  let at = start;
  if ('range' in op) {
    const h = revisionOnly(op.range.revision);
    out[at++] = 0x0a;
    at = writeVarint(out, at, rangeSize(op.range, NO_IDS, h));
    return writeRange(out, at, op.range, NO_IDS, h);
  }
  if ('put' in op) {
    const h = revisionOnly(op.put.revision);
    out[at++] = 0x12;
    at = writeVarint(out, at, putSize(op.put, NO_IDS, h));
    return writePut(out, at, op.put, NO_IDS, h);
  }
  if ('deleteRange' in op) {
    const h = revisionOnly(op.deleteRange.revision);
    out[at++] = 0x1a;
    at = writeVarint(out, at, deleteRangeSize(op.deleteRange, NO_IDS, h));
    return writeDeleteRange(out, at, op.deleteRange, NO_IDS, h);
  }
  out[at++] = 0x22;
  at = writeVarint(out, at, txnSize(op.txn, NO_IDS, EMPTY_HEADER));
  return writeTxn(out, at, op.txn, NO_IDS, EMPTY_HEADER);
}

function keyValuesSize(kvs: readonly KeyValue[]): number {
  let size = 0;
  for (const kv of kvs) size += keyValueFieldSize(kv);
  return size;
}
