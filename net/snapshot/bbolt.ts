// A writer of bbolt database files (the format of etcd's backend, go.etcd.io/bbolt),
// so that the Snapshot stream can carry a file `etcdctl snapshot status` and
// `snapshot restore` open. Write-once: every bucket is laid out as a fresh B+tree, no
// free pages, two identical meta pages (txids 0 and 1); buckets under a quarter page
// inline in their parent, as bbolt keeps them.
//
// The format's facts are in bboltFormat.ts.

import {
  BRANCH_PAGE as BRANCH, BUCKET_LEAF_FLAG, ELEMENT_BYTES as ELEMENT, fnv1a64, FREELIST_PAGE as FREELIST, LEAF_PAGE as LEAF,
  META_MAGIC as MAGIC, META_PAGE as META, META_VERSION as VERSION, PAGE_HEADER_BYTES as HEADER, type KeyValues,
} from './bboltFormat.js';

export type { KeyValues } from './bboltFormat.js';

const PAGE_SIZE = 4096;

interface Element {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  /** Leaf: element flags; branch: the child page id. */
  readonly flagsOrChild: number;
}

class PageWriter {
  readonly pages: Buffer[] = [];
  /** Ids 0 and 1 are the meta pages, 2 the (empty) freelist. */
  nextId = 3;

  /** `materialize` false: only count pages (the file's size without the file). */
  constructor(private readonly materialize: boolean) {}

  /** Lays out one page (with overflow pages if it is larger) and returns its id. */
  write(flags: number, elements: readonly Element[]): number {
    const size = HEADER + elements.length * ELEMENT + elements.reduce((n, e) => n + e.key.length + (flags === LEAF ? e.value.length : 0), 0);
    const span = Math.max(1, Math.ceil(size / PAGE_SIZE));
    const id = this.nextId;
    this.nextId += span;
    if (!this.materialize) return id;
    const page = Buffer.alloc(span * PAGE_SIZE);
    fill(page, id, flags, elements, span - 1);
    this.pages.push(page);
    return id;
  }

  /** A B+tree over sorted elements: leaf pages filled in order, branch levels above. Returns the root's id. */
  tree(elements: readonly Element[]): number {
    let level = this.level(LEAF, elements);
    while (level.length > 1) level = this.level(BRANCH, level);
    const root = level[0];
    return root === undefined ? this.write(LEAF, []) : root.flagsOrChild;
  }

  /** Writes one level; returns the branch elements that point at its pages. */
  private level(flags: number, elements: readonly Element[]): Element[] {
    const parents: Element[] = [];
    let group: Element[] = [];
    let size = HEADER;
    const flush = (): void => {
      const first = group[0];
      if (first === undefined) return;
      parents.push({ key: first.key, value: new Uint8Array(0), flagsOrChild: this.write(flags, group) });
      group = [];
      size = HEADER;
    };
    for (const e of elements) {
      const grows = ELEMENT + e.key.length + (flags === LEAF ? e.value.length : 0);
      if (group.length > 0 && size + grows > PAGE_SIZE) flush();
      group.push(e);
      size += grows;
    }
    flush();
    return parents;
  }
}

/** Lays out a page's header and elements (keys, and values on a leaf) into `page`. */
function fill(page: Buffer, id: number, flags: number, elements: readonly Element[], overflow: number): void {
  header(page, id, flags, elements.length, overflow);
  let data = HEADER + elements.length * ELEMENT;
  elements.forEach((e, i) => {
    const at = HEADER + i * ELEMENT;
    if (flags === LEAF) {
      page.writeUInt32LE(e.flagsOrChild, at);
      page.writeUInt32LE(data - at, at + 4);
      page.writeUInt32LE(e.key.length, at + 8);
      page.writeUInt32LE(e.value.length, at + 12);
    } else {
      page.writeUInt32LE(data - at, at);
      page.writeUInt32LE(e.key.length, at + 4);
      page.writeBigUInt64LE(BigInt(e.flagsOrChild), at + 8);
    }
    page.set(e.key, data);
    data += e.key.length;
    if (flags === LEAF) {
      page.set(e.value, data);
      data += e.value.length;
    }
  });
}

/** An inline bucket's leaf page: exactly as long as its contents. */
function leafBytes(elements: readonly Element[]): Buffer {
  const page = Buffer.alloc(HEADER + elements.reduce((n, e) => n + ELEMENT + e.key.length + e.value.length, 0));
  fill(page, 0, LEAF, elements, 0);
  return page;
}

function header(page: Buffer, id: number, flags: number, count: number, overflow: number): void {
  page.writeBigUInt64LE(BigInt(id), 0);
  page.writeUInt16LE(flags, 8);
  page.writeUInt16LE(count, 10);
  page.writeUInt32LE(overflow, 12);
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

/** The size of the file `writeBbolt(buckets)` would write, without writing it. */
export function bboltSize(buckets: ReadonlyMap<string, KeyValues>): number {
  return layout(new PageWriter(false), buckets).highWater * PAGE_SIZE;
}

/** A bbolt file holding `buckets` (name → key/values; sorted here), as one Buffer. */
export function writeBbolt(buckets: ReadonlyMap<string, KeyValues>): Buffer {
  const writer = new PageWriter(true);
  const { rootId, highWater } = layout(writer, buckets);

  const file = Buffer.alloc(highWater * PAGE_SIZE);
  for (const txid of [0, 1]) {
    const page = file.subarray(txid * PAGE_SIZE, (txid + 1) * PAGE_SIZE);
    header(page, txid, META, 0, 0);
    const m = HEADER;
    page.writeUInt32LE(MAGIC, m);
    page.writeUInt32LE(VERSION, m + 4);
    page.writeUInt32LE(PAGE_SIZE, m + 8);
    page.writeUInt32LE(0, m + 12);
    page.writeBigUInt64LE(BigInt(rootId), m + 16);
    page.writeBigUInt64LE(0n, m + 24);
    page.writeBigUInt64LE(2n, m + 32); // the freelist page
    page.writeBigUInt64LE(BigInt(highWater), m + 40);
    page.writeBigUInt64LE(BigInt(txid), m + 48);
    page.writeBigUInt64LE(fnv1a64(page.subarray(m, m + 56)), m + 56);
  }
  header(file.subarray(2 * PAGE_SIZE), 2, FREELIST, 0, 0);
  for (const page of writer.pages) page.copy(file, Number(page.readBigUInt64LE(0)) * PAGE_SIZE);
  return file;
}

/** Writes every bucket's tree and the root bucket page; the root's id and the high-water page id. */
function layout(writer: PageWriter, buckets: ReadonlyMap<string, KeyValues>): { rootId: number; highWater: number } {
  const names = [...buckets.keys()].map((n) => Buffer.from(n)).sort(compareBytes);
  const bucketElements: Element[] = names.map((name) => {
    const entries = [...(buckets.get(name.toString()) ?? [])].sort((a, b) => compareBytes(a[0], b[0]));
    const elements = entries.map(([key, value]) => ({ key, value, flagsOrChild: 0 }));
    const size = HEADER + elements.reduce((n, e) => n + ELEMENT + e.key.length + e.value.length, 0);
    // As bbolt does: a small bucket lives inline in its parent (root 0, its leaf page after the header).
    if (size <= PAGE_SIZE / 4) return { key: name, value: Buffer.concat([Buffer.alloc(16), leafBytes(elements)]), flagsOrChild: BUCKET_LEAF_FLAG };
    const value = Buffer.alloc(16);
    value.writeBigUInt64LE(BigInt(writer.tree(elements)), 0); // sequence stays 0
    return { key: name, value, flagsOrChild: BUCKET_LEAF_FLAG };
  });
  const rootId = writer.write(LEAF, bucketElements);
  return { rootId, highWater: writer.nextId };
}
