// Small binary codecs for what storage/ keeps in LMDB. Numbers are written as
// float64 (exact for every safe integer, which is all Tern uses); keys are 8-byte
// big-endian unsigned integers so that LMDB's bytewise key order is numeric order.
// Decoders throw CorruptRecord on anything malformed; recovery turns that into a
// 'corrupt' refusal instead of handing the core half-read state.

import type { StoredKv, BackendMeta } from '../core/mvcc/backend.js';
import type { Entry, HardState, NodeId, Snapshot } from '../core/raft/types.js';

export class CorruptRecord extends Error {}

const TWO_32 = 2 ** 32;

/** An unsigned safe integer as 8 bytes, big-endian (sorts numerically bytewise). */
export function u64Key(n: number): Buffer {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`key ${n} is not an unsigned safe integer`);
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32BE(Math.floor(n / TWO_32), 0);
  b.writeUInt32BE(n % TWO_32, 4);
  return b;
}

export function readU64Key(b: Uint8Array): number {
  if (b.byteLength !== 8) throw new CorruptRecord(`a key of ${b.byteLength} bytes (want 8)`);
  const view = new DataView(b.buffer, b.byteOffset, 8);
  const n = view.getUint32(0) * TWO_32 + view.getUint32(4);
  if (!Number.isSafeInteger(n)) throw new CorruptRecord(`key ${n} beyond the safe integers`);
  return n;
}

class Writer {
  private readonly buf: Buffer;
  private pos = 0;
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  // Buffer's write methods return the offset just past what they wrote.
  u8(n: number): this {
    this.pos = this.buf.writeUInt8(n, this.pos);
    return this;
  }
  u32(n: number): this {
    this.pos = this.buf.writeUInt32BE(n, this.pos);
    return this;
  }
  num(n: number): this {
    this.pos = this.buf.writeDoubleBE(n, this.pos);
    return this;
  }
  i64(n: bigint): this {
    this.pos = this.buf.writeBigInt64BE(n, this.pos);
    return this;
  }
  bytes(b: Uint8Array): this {
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
    return this;
  }
  done(): Buffer {
    if (this.pos !== this.buf.length) throw new Error(`codec: wrote ${this.pos} of ${this.buf.length} bytes`);
    return this.buf;
  }
}

class Reader {
  private pos = 0;
  private readonly view: DataView;
  constructor(private readonly b: Uint8Array, private readonly what: string) {
    this.view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  }
  private need(n: number): void {
    if (this.pos + n > this.b.byteLength) throw new CorruptRecord(`${this.what}: truncated record (${this.b.byteLength} bytes)`);
  }
  u8(): number {
    this.need(1);
    return this.view.getUint8(this.pos++);
  }
  u32(): number {
    this.need(4);
    const n = this.view.getUint32(this.pos);
    this.pos += 4;
    return n;
  }
  /** A non-negative safe integer. */
  num(): number {
    this.need(8);
    const n = this.view.getFloat64(this.pos);
    this.pos += 8;
    if (!Number.isSafeInteger(n) || n < 0) throw new CorruptRecord(`${this.what}: field value ${n} is not a non-negative integer`);
    return n;
  }
  /** Any safe integer, written as float64 (lease ids in legacy MVCC records). */
  int(): number {
    this.need(8);
    const n = this.view.getFloat64(this.pos);
    this.pos += 8;
    if (!Number.isSafeInteger(n)) throw new CorruptRecord(`${this.what}: field value ${n} is not an integer`);
    return n;
  }
  /** A signed 64-bit big-endian integer. */
  i64(): bigint {
    this.need(8);
    const n = this.view.getBigInt64(this.pos);
    this.pos += 8;
    return n;
  }
  /** A copy (LMDB's buffers may be reused), as a plain Uint8Array like the core's. */
  bytes(n: number): Uint8Array {
    this.need(n);
    const out = this.b.slice(this.pos, this.pos + n);
    this.pos += n;
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  }
  rest(): Uint8Array {
    return this.bytes(this.b.byteLength - this.pos);
  }
  end(): void {
    if (this.pos !== this.b.byteLength) throw new CorruptRecord(`${this.what}: ${this.b.byteLength - this.pos} trailing bytes`);
  }
}

// ------------------------------------------------------------------ Raft log

const ENTRY_NORMAL = 0;
const ENTRY_CONF_CHANGE = 1;

/** An entry's value; its index is the key. */
export function encodeEntry(e: Entry): Buffer {
  return new Writer(9 + e.data.byteLength).u8(e.type === 'normal' ? ENTRY_NORMAL : ENTRY_CONF_CHANGE).num(e.term).bytes(e.data).done();
}

export function decodeEntry(index: number, b: Uint8Array): Entry {
  const r = new Reader(b, `entry ${index}`);
  const tag = r.u8();
  if (tag !== ENTRY_NORMAL && tag !== ENTRY_CONF_CHANGE) throw new CorruptRecord(`entry ${index}: unknown type tag ${tag}`);
  const term = r.num();
  return { term, index, type: tag === ENTRY_NORMAL ? 'normal' : 'confChange', data: r.rest() };
}

export function encodeHardState(h: HardState): Buffer {
  return new Writer(24).num(h.term).num(h.vote).num(h.commit).done();
}

export function decodeHardState(b: Uint8Array): HardState {
  const r = new Reader(b, 'hard state');
  const hs = { term: r.num(), vote: r.num(), commit: r.num() };
  r.end();
  return hs;
}

export function encodeSnapshot(s: Snapshot): Buffer {
  const { voters, learners } = s.metadata.confState;
  const size = 16 + 4 + 8 * voters.length + 4 + 8 * learners.length + 4 + s.data.byteLength;
  const w = new Writer(size).num(s.metadata.index).num(s.metadata.term);
  w.u32(voters.length);
  for (const v of voters) w.num(v);
  w.u32(learners.length);
  for (const l of learners) w.num(l);
  return w.u32(s.data.byteLength).bytes(s.data).done();
}

export function decodeSnapshot(b: Uint8Array): Snapshot {
  const r = new Reader(b, 'snapshot');
  const index = r.num();
  const term = r.num();
  const ids = (): NodeId[] => {
    const n = r.u32();
    if (n > b.byteLength / 8) throw new CorruptRecord(`snapshot: ${n} members cannot fit in ${b.byteLength} bytes`);
    const out: NodeId[] = [];
    for (let i = 0; i < n; i++) out.push(r.num());
    return out;
  };
  const voters = ids();
  const learners = ids();
  const data = r.bytes(r.u32());
  r.end();
  return { metadata: { index, term, confState: { voters, learners } }, data };
}

// ------------------------------------------------------------------ MVCC

const KV_TOMBSTONE = 1;
/**
 * The lease is a signed 64-bit integer (every record written since lease ids became
 * bigints); without it, a float64 (records written before: every id was a safe integer).
 */
const KV_LEASE_INT64 = 2;
const KV_FLAGS = KV_TOMBSTONE | KV_LEASE_INT64;

/** An MVCC key is a binary string (one code unit 0–255 per byte): stored as those bytes. */
function keyBytes(key: string): Buffer {
  for (let i = 0; i < key.length; i++) {
    if (key.charCodeAt(i) > 0xff) throw new RangeError(`MVCC key has a code unit above 0xff at ${i}`);
  }
  return Buffer.from(key, 'latin1');
}

export function encodeStoredKv(kv: StoredKv): Buffer {
  const key = keyBytes(kv.key);
  return new Writer(1 + 32 + 4 + key.length + kv.value.byteLength)
    .u8((kv.tombstone ? KV_TOMBSTONE : 0) | KV_LEASE_INT64)
    .num(kv.createRevision).num(kv.modRevision).num(kv.version).i64(kv.lease)
    .u32(key.length).bytes(key).bytes(kv.value).done();
}

export function decodeStoredKv(revision: number, b: Uint8Array): StoredKv {
  const r = new Reader(b, `MVCC record ${revision}`);
  const flags = r.u8();
  if ((flags & ~KV_FLAGS) !== 0) throw new CorruptRecord(`MVCC record ${revision}: unknown flags ${flags}`);
  const createRevision = r.num();
  const modRevision = r.num();
  const version = r.num();
  const lease = (flags & KV_LEASE_INT64) !== 0 ? r.i64() : BigInt(r.int());
  const key = Buffer.from(r.bytes(r.u32())).toString('latin1');
  const value = r.rest();
  return { key, value, createRevision, modRevision, version, lease, tombstone: (flags & KV_TOMBSTONE) !== 0 };
}

export function encodeBackendMeta(m: BackendMeta): Buffer {
  return new Writer(16).num(m.appliedIndex).num(m.compactRevision).done();
}

export function decodeBackendMeta(b: Uint8Array): BackendMeta {
  const r = new Reader(b, 'MVCC meta');
  const meta = { appliedIndex: r.num(), compactRevision: r.num() };
  r.end();
  return meta;
}
