// An HPACK encoder that never touches the dynamic table (RFC 7541 §6.1, §6.2.2, §6.2.3):
// a field equal to a static entry is sent as its index, any other as a literal without
// indexing (never indexed when the sender asked so), its name by static index when the
// static table has it, and strings as plain octets (no Huffman: the blocks only travel
// from this process's rewriter into its own HTTP/2 server, so size hardly matters).
//
// Because nothing is ever inserted, the receiver's dynamic table stays empty whatever
// blocks it is given, so re-encoded blocks can never desynchronise it.

import type { HeaderField } from './hpackDecoder.js';
import { STATIC_TABLE } from './hpackStaticTable.js';

/** Static index by "name\0value", and the lowest static index of each name. */
const staticPairs = new Map<string, number>();
const staticNames = new Map<string, number>();
STATIC_TABLE.forEach(([name, value], i) => {
  const key = `${name}\0${value}`;
  if (!staticPairs.has(key)) staticPairs.set(key, i + 1);
  if (!staticNames.has(name)) staticNames.set(name, i + 1);
});

/** One header block for the fields, using no dynamic table state. */
export function encodeWithoutIndexing(fields: readonly HeaderField[]): Buffer {
  const out = new ByteWriter();
  for (const field of fields) {
    const pair = field.neverIndexed ? undefined : staticPairs.get(`${field.name}\0${field.value}`);
    if (pair !== undefined) {
      out.integer(0x80, 7, pair);
      continue;
    }
    const nameIndex = staticNames.get(field.name) ?? 0;
    out.integer(field.neverIndexed ? 0x10 : 0x00, 4, nameIndex);
    if (nameIndex === 0) out.string(field.name);
    out.string(field.value);
  }
  return out.toBuffer();
}

class ByteWriter {
  private readonly bytes: number[] = [];

  /** §5.1: `value` in the low `prefixBits` of a byte whose high bits are `pattern`. */
  integer(pattern: number, prefixBits: number, value: number): void {
    if (!(Number.isSafeInteger(value) && value >= 0)) throw new RangeError(`HPACK integer ${value}`);
    const mask = (1 << prefixBits) - 1;
    if (value < mask) {
      this.bytes.push(pattern | value);
      return;
    }
    this.bytes.push(pattern | mask);
    let rest = value - mask;
    while (rest >= 0x80) {
      this.bytes.push((rest % 0x80) | 0x80);
      rest = Math.floor(rest / 0x80);
    }
    this.bytes.push(rest);
  }

  /** §5.2 with H = 0: the length, then the octets. */
  string(text: string): void {
    this.integer(0x00, 7, text.length);
    for (let i = 0; i < text.length; i++) this.bytes.push(text.charCodeAt(i) & 0xff);
  }

  toBuffer(): Buffer {
    return Buffer.from(this.bytes);
  }
}
