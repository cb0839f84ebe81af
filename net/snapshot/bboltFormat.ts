// The facts of bbolt's file format (go.etcd.io/bbolt) that its writer (bbolt.ts) and
// reader (bboltReader.ts) share. Little-endian throughout:
//   page header    id u64 | flags u16 | count u16 | overflow u32
//   meta (pages 0, 1) magic u32 | version u32 | pageSize u32 | flags u32 |
//                  root bucket {root pgid u64, sequence u64} | freelist pgid u64 |
//                  high-water pgid u64 | txid u64 | checksum u64 (FNV-1a 64 of the above)
//   leaf element   flags u32 | pos u32 | ksize u32 | vsize u32 (pos: from the element to its key)
//   branch element pos u32 | ksize u32 | pgid u64 (key: the child's first key)
//   a bucket's value in its parent: {root pgid u64, sequence u64}, element flag 0x01;
//   root 0: an inline bucket, its leaf page right after those 16 bytes.

export const PAGE_HEADER_BYTES = 16;
export const ELEMENT_BYTES = 16;
export const META_MAGIC = 0xed0cdaed;
export const META_VERSION = 2;
/** The meta fields before the checksum, from the end of the page header. */
export const META_CHECKED_BYTES = 56;
export const BRANCH_PAGE = 0x01;
export const LEAF_PAGE = 0x02;
export const META_PAGE = 0x04;
export const FREELIST_PAGE = 0x10;
export const BUCKET_LEAF_FLAG = 0x01;
/** A bucket's header in its parent's leaf: root pgid and sequence. */
export const BUCKET_HEADER_BYTES = 16;

export type KeyValues = readonly (readonly [Uint8Array, Uint8Array])[];

export function fnv1a64(data: Uint8Array): bigint {
  let hash = 0xcbf29ce484222325n;
  for (const byte of data) {
    hash ^= BigInt(byte);
    hash = (hash * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return hash;
}
