// Keys inside MVCC are "binary strings": one UTF-16 code unit (0–255) per byte.
// JavaScript compares strings by code unit, which for such strings is exactly
// etcd's unsigned lexicographic byte order; and strings are Map keys for free.

export type Key = string;

const CHUNK = 8192;

export function toKey(bytes: Uint8Array): Key {
  // Hot (every key and value of every request): short keys by a plain loop, longer
  // ones through fromCharCode.apply on the typed array itself — spreading it runs the
  // iterator protocol and costs ~7× more. Chunked: very many arguments overflow the stack.
  if (bytes.length <= 16) {
    let out = '';
    for (const b of bytes) out += String.fromCharCode(b);
    return out;
  }
  // apply takes any array-like; TypeScript's signature insists on an array.
  if (bytes.length <= CHUNK) return String.fromCharCode.apply(null, bytes as unknown as number[]);
  let out = '';
  for (let i = 0; i < bytes.length; i += CHUNK) out += String.fromCharCode.apply(null, bytes.subarray(i, i + CHUNK) as unknown as number[]);
  return out;
}

export function fromKey(key: Key): Uint8Array {
  const bytes = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) bytes[i] = key.charCodeAt(i);
  return bytes;
}

/** A key from a text, bytes as UTF-8 (for tests and tools). */
export function keyOf(text: string): Key {
  return toKey(new TextEncoder().encode(text));
}

/**
 * What a (key, range_end) pair selects, by etcd's conventions:
 *   range_end empty      → the single key;
 *   range_end "\0"       → every key ≥ key (and key "\0" too: every key);
 *   otherwise            → [key, range_end); an inverted range selects nothing.
 */
export type KeyRange =
  | { readonly kind: 'single'; readonly key: Key }
  | { readonly kind: 'range'; readonly from: Key; readonly to: Key | null };

export function keyRange(key: Key, rangeEnd: Key): KeyRange {
  if (rangeEnd === '') return { kind: 'single', key };
  if (rangeEnd === '\0') return { kind: 'range', from: key, to: null };
  return { kind: 'range', from: key, to: rangeEnd };
}

export function inRange(range: KeyRange, key: Key): boolean {
  if (range.kind === 'single') return key === range.key;
  return key >= range.from && (range.to === null || key < range.to);
}

