// An HPACK decoder (RFC 7541) for the header blocks a client sends: the static table,
// the connection's dynamic table with its size updates, Huffman-coded strings.
//
// One decoder per connection and direction, fed every header block in order: HPACK
// state is the whole connection's, so a block skipped would desynchronise every later
// one. Anything malformed is an HpackError; the caller drops the connection, as
// nghttp2 does on its COMPRESSION_ERROR. Limits bound the work a block can cause: an
// indexed field is two bytes on the wire but may stand for a 4 KiB table entry, so the
// decoded list's size is capped and checked as it grows, not at the end.

import { huffmanDecode, HuffmanError } from './huffman.js';
import { STATIC_TABLE } from './hpackStaticTable.js';

export class HpackError extends Error {
  override readonly name = 'HpackError';
}

export interface HeaderField {
  /** Names and values are octets; latin1 strings carry them unchanged. */
  readonly name: string;
  readonly value: string;
  /** Sent as "never indexed" (§6.2.3): an intermediary re-encoding it must keep that. */
  readonly neverIndexed: boolean;
}

/** §4.1: an entry's size is its name's and value's octets plus 32. */
export function entrySize(name: string, value: string): number {
  return name.length + value.length + 32;
}

export interface HpackDecoderOptions {
  /** The SETTINGS_HEADER_TABLE_SIZE the receiver announced: the most a size update may ask. */
  readonly maxTableBytes: number;
  /** The most a decoded header list may weigh (sizes as in §4.1). */
  readonly maxListBytes: number;
}

/** Integers are at most this (a 4-byte continuation covers it); more is an attack, not a header. */
const MAX_INTEGER = 2 ** 31 - 1;

export class HpackDecoder {
  /** Newest first, as indexed (§2.3.3). Invariant: tableBytes = Σ entrySize ≤ tableLimit. */
  private readonly table: (readonly [string, string])[] = [];
  private tableBytes = 0;
  /** The size the encoder last set (§6.3), ≤ options.maxTableBytes. */
  private tableLimit: number;

  constructor(private readonly options: HpackDecoderOptions) {
    if (!(options.maxTableBytes >= 0 && options.maxListBytes > 0)) throw new RangeError('bad HPACK decoder limits');
    this.tableLimit = options.maxTableBytes;
  }

  /** The dynamic table, newest entry first (for tests and diagnostics). */
  get dynamicTable(): readonly (readonly [string, string])[] {
    return this.table;
  }

  /** Its size as §4.1 counts it. */
  get dynamicTableBytes(): number {
    return this.tableBytes;
  }

  /** The header list one complete header block encodes; HpackError if malformed or over the limit. */
  decode(block: Uint8Array): HeaderField[] {
    const reader = new BlockReader(block);
    const fields: HeaderField[] = [];
    let listBytes = 0;
    while (!reader.done()) {
      const first = reader.peek();
      if ((first & 0xe0) === 0x20) {
        // §4.2: size updates come first in a block, before any field.
        if (fields.length > 0) throw new HpackError('dynamic table size update after a header field');
        this.resize(reader.integer(5));
        continue;
      }
      const field = this.field(reader);
      listBytes += entrySize(field.name, field.value);
      if (listBytes > this.options.maxListBytes) throw new HpackError(`header list over ${this.options.maxListBytes} bytes`);
      fields.push(field);
    }
    return fields;
  }

  private field(reader: BlockReader): HeaderField {
    const first = reader.peek();
    if ((first & 0x80) !== 0) {
      const [name, value] = this.entry(reader.integer(7));
      return { name, value, neverIndexed: false };
    }
    if ((first & 0x40) !== 0) {
      const index = reader.integer(6);
      const name = index === 0 ? reader.string() : this.entry(index)[0];
      const value = reader.string();
      this.insert(name, value);
      return { name, value, neverIndexed: false };
    }
    // 0000xxxx without indexing, 0001xxxx never indexed: both a 4-bit name index.
    const neverIndexed = (first & 0x10) !== 0;
    const index = reader.integer(4);
    const name = index === 0 ? reader.string() : this.entry(index)[0];
    return { name, value: reader.string(), neverIndexed };
  }

  private entry(index: number): readonly [string, string] {
    if (index === 0) throw new HpackError('index 0');
    const entry = index <= STATIC_TABLE.length ? STATIC_TABLE[index - 1] : this.table[index - STATIC_TABLE.length - 1];
    if (entry === undefined) throw new HpackError(`index ${index} beyond the tables`);
    return entry;
  }

  private resize(limit: number): void {
    if (limit > this.options.maxTableBytes) throw new HpackError(`table size ${limit} over the announced ${this.options.maxTableBytes}`);
    this.tableLimit = limit;
    this.evictTo(limit);
  }

  /** §4.4: an entry larger than the table empties it and is not added. */
  private insert(name: string, value: string): void {
    const size = entrySize(name, value);
    this.evictTo(this.tableLimit - size);
    if (size <= this.tableLimit) {
      this.table.unshift([name, value]);
      this.tableBytes += size;
    }
    if (this.tableBytes > this.tableLimit) throw new Error('HPACK table over its limit');
  }

  private evictTo(bytes: number): void {
    while (this.tableBytes > Math.max(bytes, 0)) {
      const oldest = this.table.pop();
      if (oldest === undefined) throw new Error('HPACK table size without entries');
      this.tableBytes -= entrySize(oldest[0], oldest[1]);
    }
  }
}

/** A cursor over one header block: the §5.1 integers and §5.2 strings it is made of. */
class BlockReader {
  private offset = 0;

  constructor(private readonly block: Uint8Array) {}

  done(): boolean {
    return this.offset >= this.block.length;
  }

  peek(): number {
    const byte = this.block[this.offset];
    if (byte === undefined) throw new HpackError('header block truncated');
    return byte;
  }

  /** §5.1: an integer in the low `prefixBits` of the current byte, continued 7 bits a byte. */
  integer(prefixBits: number): number {
    const mask = (1 << prefixBits) - 1;
    let value = this.peek() & mask;
    this.offset++;
    if (value < mask) return value;
    for (let shift = 0; ; shift += 7) {
      const byte = this.peek();
      this.offset++;
      value += (byte & 0x7f) * 2 ** shift;
      if (value > MAX_INTEGER) throw new HpackError('integer too large');
      if ((byte & 0x80) === 0) return value;
    }
  }

  /** §5.2: a length-prefixed string, Huffman-coded when the top bit is set. */
  string(): string {
    const huffman = (this.peek() & 0x80) !== 0;
    const length = this.integer(7);
    if (length > this.block.length - this.offset) throw new HpackError('string literal beyond the block');
    const raw = this.block.subarray(this.offset, this.offset + length);
    this.offset += length;
    if (!huffman) return Buffer.from(raw.buffer, raw.byteOffset, raw.length).toString('latin1');
    try {
      return huffmanDecode(raw).toString('latin1');
    } catch (error) {
      if (error instanceof HuffmanError) throw new HpackError(error.message);
      throw error;
    }
  }
}
