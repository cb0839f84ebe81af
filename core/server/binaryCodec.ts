// A compact binary encoding of JSON-like values with a byte-array type, for what the
// state machine writes into Raft entries and snapshots. It replaces JSON with tagged
// latin1 strings on the hot path: every proposal is encoded once and decoded on every
// member, and JSON's replacer/reviver callbacks cost more than the rest of a put.
//
//   0x00 null          0x03 integer (zig-zag varint, |n| < 2^52)   0x06 bytes (len, raw)
//   0x01 false         0x04 float64 (little-endian)                   0x07 array (count, items)
//   0x02 true          0x05 string (UTF-8 length, UTF-8)              0x08 object (count, [key string, value]…)
//   0x09 bigint (zig-zag varint of a signed 64-bit integer: lease ids)
//
// Object properties whose value is undefined are left out, as JSON.stringify does.

import { invariant } from '../util/invariant.js';
import { utf8KeepingBom } from '../util/utf8.js';

const NULL = 0x00;
const FALSE = 0x01;
const TRUE = 0x02;
const INTEGER = 0x03;
const FLOAT = 0x04;
const STRING = 0x05;
const BYTES = 0x06;
const ARRAY = 0x07;
const OBJECT = 0x08;
const BIGINT = 0x09;

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Arrays and objects nest at most this deep in a decoded value: deeper bytes are refused
 * (CodecError) instead of recursing until the stack runs out. A request's envelope is
 * ~4 levels per nested transaction, so ~250 levels of transaction fit.
 */
export const MAX_NESTING_DEPTH = 1024;

/** Thrown by decodeValue for bytes that are not such an encoding. */
export class CodecError extends Error {}

const utf8 = new TextEncoder();
const fromUtf8 = utf8KeepingBom;

/** A writer's first buffer; one grown beyond SHARED_WRITER_MAX_BYTES is not kept for the next value. */
const WRITER_START_BYTES = 256;
const SHARED_WRITER_MAX_BYTES = 64 * 1024;

class Writer {
  bytes = new Uint8Array(WRITER_START_BYTES);
  view = new DataView(this.bytes.buffer);
  length = 0;
  /** A value is being written (the shared writer is not reentrant). */
  busy = false;

  reserve(n: number): void {
    if (this.length + n <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.bytes.length * 2, this.length + n));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
    this.view = new DataView(grown.buffer);
  }

  byte(b: number): void {
    this.reserve(1);
    this.bytes[this.length++] = b;
  }

  /** Unsigned varint of a safe integer (7 bits per byte; arithmetic, not bitwise, beyond 2^31). */
  varuint(n: number): void {
    this.reserve(8);
    while (n >= 0x80) {
      this.bytes[this.length++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.bytes[this.length++] = n;
  }

  raw(bytes: Uint8Array): void {
    this.varuint(bytes.length);
    this.reserve(bytes.length);
    this.bytes.set(bytes, this.length);
    this.length += bytes.length;
  }

  string(s: string): void {
    // ASCII (every key and tag Tern writes) is copied as is; anything else via UTF-8.
    let ascii = true;
    for (let i = 0; i < s.length && ascii; i++) ascii = s.charCodeAt(i) < 0x80;
    if (!ascii) {
      this.raw(utf8.encode(s));
      return;
    }
    this.varuint(s.length);
    this.reserve(s.length);
    for (let i = 0; i < s.length; i++) this.bytes[this.length++] = s.charCodeAt(i);
  }

  value(v: unknown): void {
    if (v === null || v === undefined) this.byte(NULL);
    else if (v === false) this.byte(FALSE);
    else if (v === true) this.byte(TRUE);
    else if (typeof v === 'number') this.number(v);
    else if (typeof v === 'bigint') this.bigint(v);
    else if (typeof v === 'string') {
      this.byte(STRING);
      this.string(v);
    } else if (v instanceof Uint8Array) {
      this.byte(BYTES);
      this.raw(v);
    } else if (Array.isArray(v)) {
      this.byte(ARRAY);
      this.varuint(v.length);
      for (const item of v as unknown[]) this.value(item);
    } else if (typeof v === 'object') {
      // Keys counted, then written: no [key, value] pair or filtered copy per property.
      const record = v as Record<string, unknown>;
      const keys = Object.keys(record);
      let count = 0;
      for (const k of keys) if (record[k] !== undefined) count++;
      this.byte(OBJECT);
      this.varuint(count);
      for (const k of keys) {
        const x = record[k];
        if (x === undefined) continue;
        this.string(k);
        this.value(x);
      }
    } else {
      throw new CodecError(`cannot encode a ${typeof v}`);
    }
  }

  /** Any int64: zig-zag, then 7 bits per byte (at most 10 bytes). */
  private bigint(n: bigint): void {
    if (n < INT64_MIN || n > INT64_MAX) throw new CodecError(`bigint ${n} is outside int64`);
    this.byte(BIGINT);
    let z = n >= 0n ? n * 2n : -n * 2n - 1n;
    this.reserve(10);
    while (z >= 0x80n) {
      this.bytes[this.length++] = Number(z & 0x7fn) | 0x80;
      z >>= 7n;
    }
    this.bytes[this.length++] = Number(z);
  }

  private number(n: number): void {
    // Zig-zag doubles the magnitude: only |n| < 2^52 stays exact; -0 is not an integer here.
    if (Number.isInteger(n) && Math.abs(n) < 2 ** 52 && !Object.is(n, -0)) {
      this.byte(INTEGER);
      this.varuint(n >= 0 ? n * 2 : -n * 2 - 1);
      return;
    }
    this.byte(FLOAT);
    this.reserve(8);
    this.view.setFloat64(this.length, n, true);
    this.length += 8;
  }
}

class Reader {
  private at = 0;
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  done(): boolean {
    return this.at === this.bytes.length;
  }

  private byte(): number {
    const b = this.bytes[this.at++];
    if (b === undefined) throw new CodecError('truncated');
    return b;
  }

  private varuint(): number {
    let n = 0;
    for (let scale = 1; ; scale *= 0x80) {
      const b = this.byte();
      n += (b & 0x7f) * scale;
      if (b < 0x80) return n;
      if (scale > 2 ** 49) throw new CodecError('varint too long');
    }
  }

  private bigint(): bigint {
    let z = 0n;
    for (let shift = 0n; ; shift += 7n) {
      if (shift > 63n) throw new CodecError('bigint varint too long');
      const b = this.byte();
      z |= BigInt(b & 0x7f) << shift;
      if (b < 0x80) break;
    }
    if (z >= 2n ** 64n) throw new CodecError('bigint beyond 64 bits');
    return z % 2n === 0n ? z / 2n : -(z + 1n) / 2n;
  }

  private take(n: number): Uint8Array {
    if (this.at + n > this.bytes.length) throw new CodecError('truncated');
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }

  private string(): string {
    const bytes = this.take(this.varuint());
    let ascii = true;
    for (let i = 0; i < bytes.length && ascii; i++) ascii = (bytes[i] ?? 0) < 0x80;
    // Typed arrays are array-likes, which apply accepts; TypeScript's signature wants an array.
    return ascii && bytes.length <= 4096 ? String.fromCharCode.apply(null, bytes as unknown as number[]) : fromUtf8.decode(bytes);
  }

  value(depth = 0): unknown {
    if (depth > MAX_NESTING_DEPTH) throw new CodecError(`nested deeper than ${MAX_NESTING_DEPTH}`);
    const tag = this.byte();
    switch (tag) {
      case NULL: return null;
      case FALSE: return false;
      case TRUE: return true;
      case INTEGER: {
        const z = this.varuint();
        return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
      }
      case FLOAT: {
        this.take(8);
        return this.view.getFloat64(this.at - 8, true);
      }
      case BIGINT: return this.bigint();
      case STRING: return this.string();
      case BYTES: return this.take(this.varuint()).slice(); // a copy: the entry may be freed
      case ARRAY: {
        const n = this.varuint();
        const out: unknown[] = [];
        for (let i = 0; i < n; i++) out.push(this.value(depth + 1));
        return out;
      }
      case OBJECT: {
        const n = this.varuint();
        const out: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          const key = this.string();
          const item = this.value(depth + 1);
          // Plain assignment keeps the object in V8's fast mode (defineProperty on every
          // field cost more than the rest of a put's decode); only "__proto__" needs
          // defineProperty, as assigning it would set the prototype, not a field.
          if (key === '__proto__') Object.defineProperty(out, key, { value: item, enumerable: true, writable: true, configurable: true });
          else out[key] = item;
        }
        return out;
      }
      default: throw new CodecError(`unknown tag ${tag}`);
    }
  }
}

/**
 * One writer for every value (every proposal is encoded here): its buffer is reused, and
 * the value's bytes are copied out of it. A buffer grown past SHARED_WRITER_MAX_BYTES (a
 * snapshot) is let go afterwards.
 */
const shared = new Writer();

/** Encodes a value after `prefix` (a format marker the caller chooses). */
export function encodeValue(value: unknown, prefix: readonly number[] = []): Uint8Array {
  invariant(!shared.busy, 'encodeValue called while encoding');
  const w = shared;
  w.busy = true;
  w.length = 0;
  try {
    for (const b of prefix) {
      invariant(Number.isInteger(b) && b >= 0 && b <= 0xff, 'a prefix value is not a byte');
      w.byte(b);
    }
    w.value(value);
    invariant(w.length > prefix.length && w.length <= w.bytes.length, 'the writer lost track of its length');
    return w.bytes.slice(0, w.length);
  } finally {
    w.busy = false;
    if (w.bytes.length > SHARED_WRITER_MAX_BYTES) {
      w.bytes = new Uint8Array(WRITER_START_BYTES);
      w.view = new DataView(w.bytes.buffer);
    }
  }
}

/** The inverse of encodeValue (after skipping `skip` prefix bytes); throws CodecError. */
export function decodeValue(bytes: Uint8Array, skip = 0): unknown {
  invariant(Number.isInteger(skip) && skip >= 0 && skip <= bytes.length, 'cannot skip more bytes than there are');
  const r = new Reader(bytes.subarray(skip));
  const value = r.value();
  if (!r.done()) throw new CodecError('trailing bytes');
  return value;
}
