// etcd 3.4's backend records as bytes: the bbolt key of a revision and the
// mvccpb.KeyValue stored under it, byte for byte as etcd writes them. The snapshot
// image lays them out in its `key` bucket; HashKV hashes them.

import type { StoredKv } from '../../core/mvcc/backend.js';
import { leaseIdToUint64 } from '../../core/lease/leaseId.js';
import { fromKey } from '../../core/mvcc/keys.js';
import { mainOf, SUB_LIMIT, type Rev } from '../../core/mvcc/revision.js';

/** etcd's bbolt key for a revision. */
export function revBytes(r: Rev, tombstone: boolean): Uint8Array {
  const out = Buffer.alloc(tombstone ? 18 : 17);
  out.writeBigUInt64BE(BigInt(mainOf(r)), 0);
  out[8] = 0x5f; // '_'
  out.writeBigUInt64BE(BigInt(r % SUB_LIMIT), 9);
  if (tombstone) out[17] = 0x74; // 't'
  return out;
}

/** mvccpb.KeyValue as gogoproto marshals it: fields in order, zero values omitted. */
export function marshalKeyValue(kv: StoredKv): Uint8Array {
  const out: number[] = [];
  bytesField(out, 1, fromKey(kv.key));
  if (kv.tombstone) return Uint8Array.from(out);
  intField(out, 2, kv.createRevision);
  intField(out, 3, kv.modRevision);
  intField(out, 4, kv.version);
  bytesField(out, 5, kv.value);
  int64Field(out, 6, kv.lease);
  return Uint8Array.from(out);
}

/** A proto3 bytes/string field as gogoproto writes it: left out when empty. */
export function bytesField(out: number[], field: number, value: Uint8Array): void {
  if (value.length > 0) messageField(out, field, value);
}

/**
 * A length-delimited field written even when empty: how gogoproto writes a non-nil
 * embedded message (an empty one is the two bytes tag, 0).
 */
export function messageField(out: number[], field: number, value: Uint8Array): void {
  varint(out, (field << 3) | 2);
  varint(out, value.length);
  for (const b of value) out.push(b);
}

/** A proto3 integer (or enum, or bool) field: left out when zero. */
export function intField(out: number[], field: number, value: number): void {
  if (value === 0) return;
  varint(out, field << 3);
  varint(out, value);
}

/**
 * A proto3 int64 field (a lease id) as gogoproto writes it: left out when zero; a
 * negative value is its 64 bits two's complement, so 10 varint bytes.
 */
export function int64Field(out: number[], field: number, value: bigint): void {
  if (value === 0n) return;
  varint(out, field << 3);
  let v = leaseIdToUint64(value);
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
}

/** A lease id as etcd keys its `lease` bucket: int64ToBytes, the 64 bits big-endian. */
export function leaseKeyBytes(id: bigint): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(leaseIdToUint64(id));
  return out;
}

/** An unsigned 64-bit big-endian integer (etcd's binary.BigEndian.PutUint64). */
export function u64Bytes(value: number): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64BE(BigInt(value));
  return out;
}

/** A non-negative integer below 2^53 as a protobuf varint. */
export function varintBytes(value: number): number[] {
  const out: number[] = [];
  varint(out, value);
  return out;
}

function varint(out: number[], value: number): void {
  let v = value;
  while (v >= 0x80) {
    out.push((v % 0x80) | 0x80);
    v = Math.floor(v / 0x80);
  }
  out.push(v);
}
