// CRC-32C (Castagnoli), the checksum etcd's HashKV uses (Go's crc32.Castagnoli).
// Node's zlib.crc32 is the IEEE polynomial, so it cannot stand in.

const TABLE = ((): Uint32Array => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/**
 * An incremental CRC-32C: `update` with each chunk, then `value`. `initial`: a CRC to
 * continue from (Go's crc32.Update(initial, …), as etcd's WAL chains one record's CRC
 * into the next); 0 starts afresh.
 */
export class Crc32c {
  private crc: number;

  constructor(initial = 0) {
    this.crc = (initial ^ 0xffffffff) >>> 0;
  }

  update(data: Uint8Array): this {
    let c = this.crc;
    for (const byte of data) c = (TABLE[(c ^ byte) & 0xff] ?? 0) ^ (c >>> 8);
    this.crc = c;
    return this;
  }

  value(): number {
    return (this.crc ^ 0xffffffff) >>> 0;
  }
}
