// One B+tree page of a bbolt file, in memory: parsed from a page, edited by a write
// transaction, split and laid out again when it commits (db.ts). As bbolt's node.go: a
// leaf holds keys and values (a value flagged BUCKET_LEAF_FLAG is a bucket's header); a
// branch holds each child's first key and page id, and the child itself once a write
// went through it.

import { invariant } from '../../core/util/invariant.js';
import { BRANCH_PAGE, ELEMENT_BYTES, LEAF_PAGE, PAGE_HEADER_BYTES } from '../../net/snapshot/bboltFormat.js';

export class BboltFormatError extends Error {}

export interface Inode {
  key: Buffer;
  /** Leaf: the value. Branch: unused (empty). */
  value: Buffer;
  /** Leaf: the element's flags. */
  flags: number;
  /** Branch: the child's page id. */
  child: number;
  /** Branch: the child, once a write went through it (it is laid out anew at commit). */
  node: Node | null;
}

export class Node {
  constructor(
    readonly leaf: boolean,
    public inodes: Inode[],
    /** The page it was read from (0: new, or an inline bucket's page). */
    public pgid: number,
    /** How many pages that page took (its overflow + 1), freed when it is rewritten. */
    public span: number,
  ) {}

  /** Set by deletes: rebalanced (an empty node leaves its parent) before commit. */
  unbalanced = false;

  /** The bytes of its page (header, elements, keys and values). */
  size(): number {
    return sizeOf(this.leaf, this.inodes);
  }

  /** The index of the first inode whose key is ≥ `key` (inodes.length if none). */
  search(key: Buffer): number {
    let lo = 0;
    let hi = this.inodes.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (Buffer.compare((this.inodes[mid] as Inode).key, key) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Branch: the child whose range holds `key` (the last with a first key ≤ it; the first if none). */
  childIndex(key: Buffer): number {
    const i = this.search(key);
    const exact = i < this.inodes.length && (this.inodes[i] as Inode).key.equals(key);
    return exact ? i : Math.max(0, i - 1);
  }
}

/** A node from a page's bytes (`page` holds the whole page, overflow included). */
export function parseNode(page: Buffer, pgid: number, span: number): Node {
  if (page.length < PAGE_HEADER_BYTES) throw new BboltFormatError(`page ${pgid} is cut short`);
  const flags = page.readUInt16LE(8);
  const count = page.readUInt16LE(10);
  if (flags !== LEAF_PAGE && flags !== BRANCH_PAGE) throw new BboltFormatError(`page ${pgid} is neither a branch nor a leaf (flags ${flags})`);
  const leaf = flags === LEAF_PAGE;
  if (PAGE_HEADER_BYTES + count * ELEMENT_BYTES > page.length) throw new BboltFormatError(`page ${pgid}'s elements run past it`);
  const inodes: Inode[] = [];
  for (let i = 0; i < count; i++) {
    const at = PAGE_HEADER_BYTES + i * ELEMENT_BYTES;
    if (leaf) {
      const keyAt = at + page.readUInt32LE(at + 4);
      const ksize = page.readUInt32LE(at + 8);
      const vsize = page.readUInt32LE(at + 12);
      if (keyAt + ksize + vsize > page.length) throw new BboltFormatError(`page ${pgid}: an element runs past the page`);
      inodes.push({
        flags: page.readUInt32LE(at), key: page.subarray(keyAt, keyAt + ksize),
        value: page.subarray(keyAt + ksize, keyAt + ksize + vsize), child: 0, node: null,
      });
    } else {
      const keyAt = at + page.readUInt32LE(at);
      const ksize = page.readUInt32LE(at + 4);
      if (keyAt + ksize > page.length) throw new BboltFormatError(`page ${pgid}: an element runs past the page`);
      const child = Number(page.readBigUInt64LE(at + 8));
      inodes.push({ flags: 0, key: page.subarray(keyAt, keyAt + ksize), value: EMPTY, child, node: null });
    }
  }
  return new Node(leaf, inodes, pgid, span);
}

/** Lays out `inodes` as one page with id `pgid` into a buffer of `span` pages (or exactly `size` bytes for an inline bucket). */
export function writeNode(leaf: boolean, inodes: readonly Inode[], pgid: number, bytes: number, pageSize: number): Buffer {
  const span = Math.ceil(bytes / pageSize);
  const page = Buffer.alloc(pgid === 0 ? bytes : span * pageSize);
  page.writeBigUInt64LE(BigInt(pgid), 0);
  page.writeUInt16LE(leaf ? LEAF_PAGE : BRANCH_PAGE, 8);
  invariant(inodes.length <= 0xffff, 'more elements than a page header counts');
  page.writeUInt16LE(inodes.length, 10);
  page.writeUInt32LE(pgid === 0 ? 0 : span - 1, 12);
  let data = PAGE_HEADER_BYTES + inodes.length * ELEMENT_BYTES;
  inodes.forEach((inode, i) => {
    const at = PAGE_HEADER_BYTES + i * ELEMENT_BYTES;
    if (leaf) {
      page.writeUInt32LE(inode.flags, at);
      page.writeUInt32LE(data - at, at + 4);
      page.writeUInt32LE(inode.key.length, at + 8);
      page.writeUInt32LE(inode.value.length, at + 12);
    } else {
      invariant(inode.node === null, 'a branch is laid out before its children were');
      page.writeUInt32LE(data - at, at);
      page.writeUInt32LE(inode.key.length, at + 4);
      page.writeBigUInt64LE(BigInt(inode.child), at + 8);
    }
    inode.key.copy(page, data);
    data += inode.key.length;
    if (leaf) {
      inode.value.copy(page, data);
      data += inode.value.length;
    }
  });
  return page;
}

/**
 * Cuts a node's inodes into pages as bbolt's node.split does: a node that fits a page
 * (or has at most four elements) stays whole; otherwise each page is closed once it
 * holds at least two elements and the next would take it past `threshold` bytes,
 * leaving at least two for the rest. So a run of appends (etcd's revisions, at a
 * threshold of 0.9 pages) fills pages to that share; an element larger than a page
 * stays on an overflowing page of its own or with one neighbour.
 */
export function splitInodes(leaf: boolean, inodes: readonly Inode[], pageSize: number, threshold: number): Inode[][] {
  const groups: Inode[][] = [];
  let rest = inodes;
  for (;;) {
    if (rest.length <= 2 * MIN_KEYS_PER_PAGE || sizeOf(leaf, rest) < pageSize) {
      groups.push([...rest]);
      return groups;
    }
    let size = PAGE_HEADER_BYTES;
    let cut = 0;
    for (let i = 0; i < rest.length - MIN_KEYS_PER_PAGE; i++) {
      const inode = rest[i] as Inode;
      const grows = ELEMENT_BYTES + inode.key.length + (leaf ? inode.value.length : 0);
      if (i >= MIN_KEYS_PER_PAGE && size + grows > threshold) break;
      size += grows;
      cut = i + 1;
    }
    groups.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }
}

/** The bytes of a page holding `inodes` (header, elements, keys and, on a leaf, values). */
export function sizeOf(leaf: boolean, inodes: readonly Inode[]): number {
  let bytes = PAGE_HEADER_BYTES;
  for (const inode of inodes) bytes += ELEMENT_BYTES + inode.key.length + (leaf ? inode.value.length : 0);
  return bytes;
}

const MIN_KEYS_PER_PAGE = 2;
const EMPTY = Buffer.alloc(0);
