// Range, Put, DeleteRange and Txn responses encoded straight to protobuf bytes (protoWriter.ts),
// as the watch events are (watchEncoding.ts): their header's int64s went through decimal
// strings and protobufjs's Long.fromString, every key and value was copied into a Buffer
// for the wire object, and proto-loader's reflective encoder walked it.
// test/net/wire/kvEncoding.test.ts compares the bytes, decoded by proto-loader, with that
// path (kept as the tests' oracle, test/net/wire/wireObjects.ts).
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
    const inner = responseOpInnerSize(op);
    const body = 1 + varintSize(inner) + inner;
    size += 1 + varintSize(body) + body;
  }
  return size;
}

function writeTxn(out: Uint8Array, start: number, r: TxnResponse, ids: HeaderIds, header: HeaderNumbers): number {
  let at = writeHeader(out, start, 0x0a, ids, header);
  if (r.succeeded) at = writeBool(out, at, 0x10);
  for (const op of r.responses) {
    const inner = responseOpInnerSize(op);
    out[at++] = 0x1a;
    at = writeVarint(out, at, 1 + varintSize(inner) + inner);
    at = writeResponseOp(out, at, op, inner);
  }
  return at;
}

// A sub-response's header carries only its revision, and a nested txn's none at all
// (etcd 3.4's apply.go; test/net/wire/kv.test.ts).
const NO_IDS = new HeaderIds({ clusterId: '0', memberId: '0' });

function revisionOnly(revision: number): HeaderNumbers {
  return { revision, raftTerm: 0 };
}

const EMPTY_HEADER: HeaderNumbers = { revision: 0, raftTerm: 0 };

/** The size of the one message in a ResponseOp's oneof (1 range, 2 put, 3 delete_range, 4 txn). */
function responseOpInnerSize(op: ResponseOp): number {
  if ('range' in op) return rangeSize(op.range, NO_IDS, revisionOnly(op.range.revision));
  if ('put' in op) return putSize(op.put, NO_IDS, revisionOnly(op.put.revision));
  if ('deleteRange' in op) return deleteRangeSize(op.deleteRange, NO_IDS, revisionOnly(op.deleteRange.revision));
  return txnSize(op.txn, NO_IDS, EMPTY_HEADER);
}

/** A ResponseOp's body, whose one message is `innerSize` bytes (responseOpInnerSize). */
function writeResponseOp(out: Uint8Array, start: number, op: ResponseOp, innerSize: number): number {
  const at = start + 1;
  if ('range' in op) {
    out[start] = 0x0a;
    return writeRange(out, writeVarint(out, at, innerSize), op.range, NO_IDS, revisionOnly(op.range.revision));
  }
  if ('put' in op) {
    out[start] = 0x12;
    return writePut(out, writeVarint(out, at, innerSize), op.put, NO_IDS, revisionOnly(op.put.revision));
  }
  if ('deleteRange' in op) {
    out[start] = 0x1a;
    return writeDeleteRange(out, writeVarint(out, at, innerSize), op.deleteRange, NO_IDS, revisionOnly(op.deleteRange.revision));
  }
  out[start] = 0x22;
  return writeTxn(out, writeVarint(out, at, innerSize), op.txn, NO_IDS, EMPTY_HEADER);
}

function keyValuesSize(kvs: readonly KeyValue[]): number {
  let size = 0;
  for (const kv of kvs) size += keyValueFieldSize(kv);
  return size;
}
