// How many bytes one MVCC record takes in etcd 3.4's bbolt `key` bucket: its revision
// key (8-byte main, '_', 8-byte sub, and 't' for a tombstone) and its value, the
// mvccpb.KeyValue as gogoproto marshals it (fields in order, zero values left out).
// The count is exact: net/snapshot/records.ts writes those very bytes (a test holds the
// two together), but counting needs no encoding, so it is cheap enough for every write.

import { leaseIdToUint64, type LeaseId } from '../lease/leaseId.js';
import type { StoredKv } from './backend.js';

/** The revision key: main u64 | '_' | sub u64 (| 't'). */
export function revKeyBytes(tombstone: boolean): number {
  return tombstone ? 18 : 17;
}

/** The length of mvccpb.KeyValue's encoding of `kv`. */
export function keyValueBytes(kv: StoredKv): number {
  let n = bytesField(kv.key.length); // Key = 1 (keys are binary strings: one unit a byte)
  if (kv.tombstone) return n;
  n += intField(kv.createRevision) + intField(kv.modRevision) + intField(kv.version); // 2, 3, 4
  n += bytesField(kv.value.length) + leaseField(kv.lease); // Value = 5, Lease = 6
  return n;
}

/** A length-delimited field with a one-byte tag, left out when empty. */
function bytesField(length: number): number {
  return length === 0 ? 0 : 1 + varintBytes(length) + length;
}

/** An integer field with a one-byte tag, left out when zero. */
function intField(value: number): number {
  return value === 0 ? 0 : 1 + varintBytes(value);
}

/** The int64 lease field: a negative id is its 64 bits as a varint (10 bytes). */
function leaseField(id: LeaseId): number {
  if (id === 0n) return 0;
  let n = 2;
  for (let v = leaseIdToUint64(id); v >= 0x80n; v >>= 7n) n++;
  return n;
}

function varintBytes(value: number): number {
  let n = 1;
  for (let v = value; v >= 0x80; v = Math.floor(v / 0x80)) n++;
  return n;
}
