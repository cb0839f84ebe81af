// Range, Put and DeleteRange responses encoded straight to protobuf bytes (protoWriter.ts),
// as the watch events are (watchEncoding.ts): their header's int64s went through decimal
// strings and protobufjs's Long.fromString, every key and value was copied into a Buffer
// for the wire object, and proto-loader's reflective encoder walked it. Txn responses
// keep the object path (net/wire/kv.ts). test/net/wire/kvEncoding.test.ts compares
// the bytes, decoded by proto-loader, with that path.
//
//   RangeResponse       1 header  2 kvs (repeated)  3 more  4 count
//   PutResponse         1 header  2 prev_kv
//   DeleteRangeResponse 1 header  2 deleted  3 prev_kvs (repeated)

import type { DeleteRangeResponse, KeyValue, PutResponse, RangeResponse } from '../../core/mvcc/types.js';
import { invariant } from '../../core/util/invariant.js';
import {
  headerFieldSize, int64Size, keyValueFieldSize, writeBool, writeHeader, writeInt64Field, writeKeyValue,
  type HeaderIds, type HeaderNumbers,
} from './protoWriter.js';

export function encodeRangeResponse(r: RangeResponse, ids: HeaderIds, header: HeaderNumbers): Buffer {
  let size = headerFieldSize(ids, header) + keyValuesSize(r.kvs);
  if (r.more) size += 2;
  if (r.count !== 0) size += 1 + int64Size(r.count);
  const out = Buffer.allocUnsafe(size);
  let at = writeHeader(out, 0, 0x0a, ids, header);
  for (const kv of r.kvs) at = writeKeyValue(out, at, 0x12, kv);
  if (r.more) at = writeBool(out, at, 0x18);
  at = writeInt64Field(out, at, 0x20, r.count);
  return sized(out, at, 'range');
}

export function encodePutResponse(r: PutResponse, ids: HeaderIds, header: HeaderNumbers): Buffer {
  const size = headerFieldSize(ids, header) + (r.prevKv === null ? 0 : keyValueFieldSize(r.prevKv));
  const out = Buffer.allocUnsafe(size);
  let at = writeHeader(out, 0, 0x0a, ids, header);
  if (r.prevKv !== null) at = writeKeyValue(out, at, 0x12, r.prevKv);
  return sized(out, at, 'put');
}

export function encodeDeleteRangeResponse(r: DeleteRangeResponse, ids: HeaderIds, header: HeaderNumbers): Buffer {
  const size = headerFieldSize(ids, header) + (r.deleted === 0 ? 0 : 1 + int64Size(r.deleted)) + keyValuesSize(r.prevKvs);
  const out = Buffer.allocUnsafe(size);
  let at = writeHeader(out, 0, 0x0a, ids, header);
  at = writeInt64Field(out, at, 0x10, r.deleted);
  for (const kv of r.prevKvs) at = writeKeyValue(out, at, 0x1a, kv);
  return sized(out, at, 'delete range');
}

function keyValuesSize(kvs: readonly KeyValue[]): number {
  let size = 0;
  for (const kv of kvs) size += keyValueFieldSize(kv);
  return size;
}

function sized(out: Buffer, written: number, what: string): Buffer {
  invariant(written === out.length, () => `${what} response: ${out.length} bytes sized, ${written} written`);
  return out;
}
