// Base64 as Go's encoding/base64 StdEncoding decodes it, which is how etcd's gateway
// reads a JSON string into a bytes field: the standard alphabet, '=' padding required,
// CR and LF skipped anywhere, unused trailing bits ignored. A refusal names the byte
// offset Go names ("illegal base64 data at input byte N"), which etcd returns verbatim.
// Node's Buffer.from(s, 'base64') accepts almost anything, so it cannot stand in.

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUES = new Map<number, number>(Array.from(ALPHABET, (ch, i) => [ch.charCodeAt(0), i]));
const PAD = 0x3d;
const isNewline = (c: number | undefined): boolean => c === 0x0a || c === 0x0d;

export type Decoded = { readonly bytes: Uint8Array } | { readonly error: string };

const corrupt = (at: number): { readonly error: string } => ({ error: `illegal base64 data at input byte ${at}` });

/** Go's base64.StdEncoding.Decode of `src`. */
export function goBase64Decode(src: Uint8Array): Decoded {
  const out: number[] = [];
  let at = 0;
  while (at < src.length) {
    const quantum = decodeQuantum(src, at);
    if ('error' in quantum) return quantum;
    out.push(...quantum.bytes);
    at = quantum.next;
    if (quantum.trailing) return corrupt(at);
    if (quantum.bytes.length < 3) break; // padded: the text ended
  }
  return { bytes: Uint8Array.from(out) };
}

type Quantum = { readonly bytes: number[]; readonly next: number; readonly trailing: boolean } | { readonly error: string };

/** Up to four symbols from `start` (newlines skipped): their 1-3 bytes. */
function decodeQuantum(src: Uint8Array, start: number): Quantum {
  const symbols: number[] = [];
  let at = start;
  while (symbols.length < 4) {
    if (at === src.length) {
      // Only reached with 1-3 symbols read (the caller stops at the end): padding was due.
      return symbols.length === 0 ? { bytes: [], next: at, trailing: false } : corrupt(at - symbols.length);
    }
    const c = src[at] ?? 0;
    at++;
    const value = VALUES.get(c);
    if (value !== undefined) {
      symbols.push(value);
      continue;
    }
    if (isNewline(c)) continue;
    if (c !== PAD || symbols.length < 2) return corrupt(at - 1);
    return padded(src, at, symbols);
  }
  return { bytes: assemble(symbols, 4), next: at, trailing: false };
}

/** The quantum ended in '=' (just read, before `at`) after 2 or 3 symbols. */
function padded(src: Uint8Array, start: number, symbols: number[]): Quantum {
  let at = start;
  if (symbols.length === 2) {
    while (isNewline(src[at])) at++;
    if (at === src.length) return corrupt(src.length);
    if (src[at] !== PAD) return corrupt(at - 1);
    at++;
  }
  while (isNewline(src[at])) at++;
  return { bytes: assemble(symbols, symbols.length), next: at, trailing: at < src.length };
}

/** `count` symbols (2-4) as their count - 1 bytes; unused low bits are dropped, as Go's non-strict decoder does. */
function assemble(symbols: readonly number[], count: number): number[] {
  const [a = 0, b = 0, c = 0, d = 0] = symbols;
  const value = (a << 18) | (b << 12) | (c << 6) | d;
  return [(value >> 16) & 0xff, (value >> 8) & 0xff, value & 0xff].slice(0, count - 1);
}
