// HPACK's static Huffman code (RFC 7541 §5.2, Appendix B): string literals in a header
// block may be Huffman-coded, and every HTTP/2 client we meet (Go's, grpc-js) does so.
//
// Decoding walks a binary tree built once from the code table, one bit at a time: it
// only runs on the first header block of each gRPC connection and on the (rare)
// connections whose :authority is rewritten, so clarity beats a table-driven decoder.
// §5.2's rules on the end of a string are errors here as they are in nghttp2: a decoded
// EOS symbol, padding longer than 7 bits, or padding that is not the EOS code's
// leading 1 bits.

import { HUFFMAN_CODES } from './huffmanTable.js';

export class HuffmanError extends Error {
  override readonly name = 'HuffmanError';
}

const EOS = 256;

/**
 * The decoding tree, flat: node i has children at children[2i] (bit 0) and
 * children[2i+1] (bit 1); a child >= 0 is another node, a child < 0 is the leaf of
 * symbol -child-1. Node 0 is the root. Every code is a path; the code is complete
 * (Kraft sum 1), so every slot ends up filled.
 */
const children = buildTree();

function buildTree(): Int32Array {
  const slots: number[] = [0, 0];
  let nodes = 1;
  for (let symbol = 0; symbol <= EOS; symbol++) {
    const entry = HUFFMAN_CODES[symbol];
    if (entry === undefined) throw new Error(`huffman table lacks symbol ${symbol}`);
    const [code, length] = entry;
    let node = 0;
    for (let bit = length - 1; bit > 0; bit--) {
      const slot = 2 * node + ((code >>> bit) & 1);
      const next = slots[slot] ?? 0;
      if (next > 0) { node = next; continue; }
      if (next < 0) throw new Error(`huffman code of ${symbol} extends another code`);
      slots[slot] = nodes;
      slots.push(0, 0);
      node = nodes++;
    }
    const leaf = 2 * node + (code & 1);
    if ((slots[leaf] ?? 0) !== 0) throw new Error(`huffman code of ${symbol} is taken`);
    slots[leaf] = -symbol - 1;
  }
  return Int32Array.from(slots);
}

/** The Huffman-coded bytes (§5.2) decoded; HuffmanError on a malformed string. */
export function huffmanDecode(input: Uint8Array): Buffer {
  // Each symbol takes at least 5 bits, so the output is at most 8/5 of the input.
  const out = Buffer.allocUnsafe(Math.ceil((input.length * 8) / 5));
  let written = 0;
  let node = 0;
  /** Bits read since the last whole symbol, and whether they were all 1s. */
  let pendingBits = 0;
  let pendingAllOnes = true;
  for (const byte of input) {
    for (let bit = 7; bit >= 0; bit--) {
      const one = (byte >>> bit) & 1;
      const next = children[2 * node + one] ?? 0;
      pendingBits++;
      pendingAllOnes &&= one === 1;
      if (next > 0) { node = next; continue; }
      const symbol = -next - 1;
      if (symbol === EOS) throw new HuffmanError('EOS symbol in a Huffman-coded string');
      out[written++] = symbol;
      node = 0;
      pendingBits = 0;
      pendingAllOnes = true;
    }
  }
  if (pendingBits > 7) throw new HuffmanError('Huffman padding longer than 7 bits');
  if (!pendingAllOnes) throw new HuffmanError('Huffman padding is not the EOS prefix');
  return out.subarray(0, written);
}

/** The bytes Huffman-coded (§5.2), padded with 1 bits. Tests use it; the rewriter sends plain literals. */
export function huffmanEncode(input: Uint8Array): Buffer {
  const out: number[] = [];
  let accumulator = 0;
  let bits = 0;
  for (const byte of input) {
    const entry = HUFFMAN_CODES[byte];
    if (entry === undefined) throw new Error(`no huffman code for ${byte}`);
    const [code, length] = entry;
    // Feed the code in pieces of at most 8 bits so the accumulator stays within 32 bits.
    for (let remaining = length; remaining > 0;) {
      const take = Math.min(8, remaining);
      remaining -= take;
      accumulator = ((accumulator << take) | ((code >>> remaining) & ((1 << take) - 1))) & 0xffff;
      bits += take;
      if (bits >= 8) {
        bits -= 8;
        out.push((accumulator >>> bits) & 0xff);
      }
    }
  }
  if (bits > 0) out.push(((accumulator << (8 - bits)) | ((1 << (8 - bits)) - 1)) & 0xff);
  return Buffer.from(out);
}
