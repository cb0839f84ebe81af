// A protobuf wire reader for the records of etcd's WAL and snap files (walpb, raftpb,
// snappb, etcdserverpb.Metadata): a message as its fields in written order, varints as
// bigints — member and cluster ids and raft terms are uint64s that use all 64 bits,
// which net/snapshot/protoReader.ts (numbers below 2^53) cannot carry. Fixed 32/64-bit
// fields are read too (no etcd record here uses them, but they are legal protobuf);
// groups and any other wire type are refused.

export type WireField =
  | { readonly field: number; readonly kind: 'varint'; readonly value: bigint }
  | { readonly field: number; readonly kind: 'bytes'; readonly value: Uint8Array };

export class WireFormatError extends Error {}

/** A varint is at most 10 bytes (64 bits, 7 per byte). */
const VARINT_BYTES_MAX = 10;

export function wireFields(message: Uint8Array): WireField[] {
  const fields: WireField[] = [];
  let at = 0;
  while (at < message.length) {
    const [tag, afterTag] = readVarint(message, at);
    const field = Number(tag >> 3n);
    const wireType = Number(tag & 7n);
    if (field === 0) throw new WireFormatError(`field number 0 at byte ${at}`);
    if (wireType === 0) {
      const [value, next] = readVarint(message, afterTag);
      fields.push({ field, kind: 'varint', value });
      at = next;
    } else if (wireType === 2) {
      const [length, start] = readVarint(message, afterTag);
      const end = start + Number(length);
      if (length > BigInt(message.length) || end > message.length) throw new WireFormatError(`field ${field} runs past the end`);
      fields.push({ field, kind: 'bytes', value: message.subarray(start, end) });
      at = end;
    } else if (wireType === 1 || wireType === 5) {
      at = afterTag + (wireType === 1 ? 8 : 4);
      if (at > message.length) throw new WireFormatError(`field ${field} runs past the end`);
    } else {
      throw new WireFormatError(`field ${field} has wire type ${wireType}`);
    }
  }
  return fields;
}

/** The last varint of `field` (protobuf: the last occurrence wins), 0 if absent. */
export function uint(fields: readonly WireField[], field: number, what: string): bigint {
  let value = 0n;
  for (const f of fields) {
    if (f.field !== field) continue;
    if (f.kind !== 'varint') throw new WireFormatError(`${what} is length-delimited, not a varint`);
    value = f.value;
  }
  return value;
}

/** The last varint of `field` as a number; refused above 2^53 (indexes, terms, revisions). */
export function safeUint(fields: readonly WireField[], field: number, what: string): number {
  const value = uint(fields, field, what);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new WireFormatError(`${what} ${value.toString()} is beyond 2^53`);
  return Number(value);
}

/** The last bytes of `field`, null if absent. */
export function bytesOf(fields: readonly WireField[], field: number, what: string): Uint8Array | null {
  let value: Uint8Array | null = null;
  for (const f of fields) {
    if (f.field !== field) continue;
    if (f.kind !== 'bytes') throw new WireFormatError(`${what} is a varint, not length-delimited`);
    value = f.value;
  }
  return value;
}

/** Every occurrence of a repeated varint field (packed or not). */
export function repeatedUint(fields: readonly WireField[], field: number): bigint[] {
  const out: bigint[] = [];
  for (const f of fields) {
    if (f.field !== field) continue;
    if (f.kind === 'varint') {
      out.push(f.value);
      continue;
    }
    for (let at = 0; at < f.value.length;) {
      const [value, next] = readVarint(f.value, at);
      out.push(value);
      at = next;
    }
  }
  return out;
}

function readVarint(bytes: Uint8Array, at: number): [bigint, number] {
  let value = 0n;
  for (let i = 0; i < VARINT_BYTES_MAX; i++) {
    const byte = bytes[at + i];
    if (byte === undefined) throw new WireFormatError(`a varint at byte ${at} runs past the end`);
    value |= BigInt(byte & 0x7f) << BigInt(7 * i);
    if (byte < 0x80) return [BigInt.asUintN(64, value), at + i + 1];
  }
  throw new WireFormatError(`a varint at byte ${at} is longer than ${VARINT_BYTES_MAX} bytes`);
}
