// Protobuf's wire format written by hand, for the responses on the hot paths (watch
// events, Range, Put, DeleteRange, Txn): sizes first, then the bytes into one buffer of exactly that size.
// What each message carries and why it is not proto-loader's path: watchEncoding.ts,
// kvEncoding.ts. Proto3 defaults (0, false, empty) are left out, as etcd's gogoproto
// encoder does; a decoder fills them in.
//
//   ResponseHeader 1 cluster_id  2 member_id  3 revision  4 raft_term
//   KeyValue       1 key  2 create_revision  3 mod_revision  4 version  5 value  6 lease

import type { KeyValue } from '../../core/mvcc/types.js';
import { invariant } from '../../core/util/invariant.js';
import type { WireIds } from './message.js';

/** What a response header carries besides the two ids. */
export interface HeaderNumbers {
  readonly revision: number;
  readonly raftTerm: number;
}

/** The ids of a header, encoded once: they are the same in every response of a member. */
export class HeaderIds {
  readonly bytes: Uint8Array;

  constructor(readonly ids: WireIds) {
    const cluster = parseUint64(ids.clusterId, 'cluster id');
    const member = parseUint64(ids.memberId, 'member id');
    const size = (cluster === 0n ? 0 : 1 + bigVarintSize(cluster)) + (member === 0n ? 0 : 1 + bigVarintSize(member));
    const bytes = new Uint8Array(size);
    let at = 0;
    if (cluster !== 0n) {
      bytes[at++] = 0x08;
      at = writeBigVarint(bytes, at, cluster);
    }
    if (member !== 0n) {
      bytes[at++] = 0x10;
      at = writeBigVarint(bytes, at, member);
    }
    invariant(at === size, 'header ids: size and bytes written differ');
    this.bytes = bytes;
  }
}

/** HeaderIds for the ids a context has now: rebuilt only when they change (a member learns its cluster id when it joins). */
export class CurrentHeaderIds {
  private cached: HeaderIds | null = null;

  of(ids: WireIds): HeaderIds {
    const cached = this.cached;
    if (cached !== null && cached.ids.clusterId === ids.clusterId && cached.ids.memberId === ids.memberId) return cached;
    this.cached = new HeaderIds(ids);
    return this.cached;
  }
}

/** Bytes of a header field (tag, length, body), given the header's ids and numbers. */
export function headerFieldSize(ids: HeaderIds, header: HeaderNumbers): number {
  const body = headerBodySize(ids, header);
  return 1 + varintSize(body) + body;
}

/** Writes the header as field `tag` (always present, as etcd sends it). */
export function writeHeader(out: Uint8Array, start: number, tag: number, ids: HeaderIds, header: HeaderNumbers): number {
  let at = start;
  out[at++] = tag;
  at = writeVarint(out, at, headerBodySize(ids, header));
  out.set(ids.bytes, at);
  at += ids.bytes.length;
  at = writeInt64Field(out, at, 0x18, header.revision);
  return writeInt64Field(out, at, 0x20, header.raftTerm);
}

/** Bytes of a KeyValue as field (tag, length, body). */
export function keyValueFieldSize(kv: KeyValue): number {
  const body = keyValueSize(kv);
  return 1 + varintSize(body) + body;
}

function headerBodySize(ids: HeaderIds, header: HeaderNumbers): number {
  let size = ids.bytes.length;
  if (header.revision !== 0) size += 1 + int64Size(header.revision);
  if (header.raftTerm !== 0) size += 1 + int64Size(header.raftTerm);
  return size;
}

function keyValueSize(kv: KeyValue): number {
  let size = 0;
  if (kv.key.length > 0) size += 1 + varintSize(kv.key.length) + kv.key.length;
  if (kv.createRevision !== 0) size += 1 + int64Size(kv.createRevision);
  if (kv.modRevision !== 0) size += 1 + int64Size(kv.modRevision);
  if (kv.version !== 0) size += 1 + int64Size(kv.version);
  if (kv.value.length > 0) size += 1 + varintSize(kv.value.length) + kv.value.length;
  if (kv.lease !== 0n) size += 1 + bigVarintSize(BigInt.asUintN(64, kv.lease));
  return size;
}

export function writeKeyValue(out: Uint8Array, start: number, tag: number, kv: KeyValue): number {
  let at = start;
  out[at++] = tag;
  at = writeVarint(out, at, keyValueSize(kv));
  if (kv.key.length > 0) at = writeBytesField(out, at, 0x0a, kv.key);
  at = writeInt64Field(out, at, 0x10, kv.createRevision);
  at = writeInt64Field(out, at, 0x18, kv.modRevision);
  at = writeInt64Field(out, at, 0x20, kv.version);
  if (kv.value.length > 0) at = writeBytesField(out, at, 0x2a, kv.value);
  if (kv.lease !== 0n) {
    out[at++] = 0x30;
    at = writeBigVarint(out, at, BigInt.asUintN(64, kv.lease));
  }
  return at;
}

export function writeBool(out: Uint8Array, start: number, tag: number): number {
  out[start] = tag;
  out[start + 1] = 0x01;
  return start + 2;
}

export function writeBytesField(out: Uint8Array, start: number, tag: number, bytes: Uint8Array): number {
  out[start] = tag;
  const at = writeVarint(out, start + 1, bytes.length);
  out.set(bytes, at);
  return at + bytes.length;
}

/** An int64 field, left out when 0 (proto3's default). */
export function writeInt64Field(out: Uint8Array, start: number, tag: number, value: number): number {
  if (value === 0) return start;
  out[start] = tag;
  if (value > 0) return writeVarint(out, start + 1, value);
  return writeBigVarint(out, start + 1, BigInt.asUintN(64, BigInt(value)));
}

/** Bytes of an int64 varint: a negative value takes ten (its 64-bit two's complement). */
export function int64Size(value: number): number {
  invariant(Number.isSafeInteger(value), () => `an int64 field holds ${value}, not a safe integer`);
  return value >= 0 ? varintSize(value) : 10;
}

export function varintSize(value: number): number {
  let size = 1;
  for (let v = value; v >= 0x80; v = Math.floor(v / 0x80)) size++;
  return size;
}

/** A non-negative integer below 2^53 as a varint (arithmetic, not bit operations: those are 32-bit). */
export function writeVarint(out: Uint8Array, start: number, value: number): number {
  let at = start;
  let v = value;
  while (v >= 0x80) {
    out[at++] = (v % 0x80) | 0x80;
    v = Math.floor(v / 0x80);
  }
  out[at++] = v;
  return at;
}

function bigVarintSize(value: bigint): number {
  let size = 1;
  for (let v = value; v >= 0x80n; v >>= 7n) size++;
  return size;
}

function writeBigVarint(out: Uint8Array, start: number, value: bigint): number {
  let at = start;
  let v = value;
  while (v >= 0x80n) {
    out[at++] = Number(v & 0x7fn) | 0x80;
    v >>= 7n;
  }
  out[at++] = Number(v);
  return at;
}

function parseUint64(decimal: string, what: string): bigint {
  invariant(/^[0-9]{1,20}$/.test(decimal), () => `${what} ${decimal} is not a uint64`);
  const value = BigInt(decimal);
  invariant(value < 2n ** 64n, () => `${what} ${decimal} is not a uint64`);
  return value;
}
