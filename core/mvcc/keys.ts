// Keys inside MVCC are "binary strings": one UTF-16 code unit (0–255) per byte.
// JavaScript compares strings by code unit, which for such strings is exactly
// etcd's unsigned lexicographic byte order; and strings are Map keys for free.

export type Key = string;

export function toKey(bytes: Uint8Array): Key {
  let out = '';
  // Chunked: String.fromCharCode with very many arguments overflows the stack.
  for (let i = 0; i < bytes.length; i += 8192) {
    out += String.fromCharCode(...bytes.subarray(i, i + 8192));
  }
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

