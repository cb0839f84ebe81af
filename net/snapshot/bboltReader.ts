// A reader of bbolt database files: etcd's backend (`member/snap/db`) and the files
// `etcdctl snapshot save` writes (with or without their SHA-256 trailer), so Tern can
// look inside a real etcd's data (issue #15: recovery from an etcd data dir).
//
// It trusts nothing in the file: the meta page must carry bbolt's magic, version and a
// matching checksum (of the two metas, the valid one with the higher txid wins, as
// bbolt's); every page id and element must lie inside the file; a page reached twice
// (in a bbolt file each page belongs to one tree, once — so this bounds the work by the
// file's size, cycles and shared subtrees included) or trees deeper than MAX_DEPTH are
// refused. Any violation is a
// BboltError naming what is wrong — never a crash, never a partial answer.

import {
  BRANCH_PAGE, BUCKET_HEADER_BYTES, BUCKET_LEAF_FLAG, ELEMENT_BYTES, fnv1a64, LEAF_PAGE, META_CHECKED_BYTES, META_MAGIC,
  META_VERSION, PAGE_HEADER_BYTES, type KeyValues,
} from './bboltFormat.js';

/** bbolt's B+trees are a few levels deep; a deeper "tree" is a corrupt file. */
const MAX_DEPTH = 64;
/** Buckets nest (etcd's do not); a bound on nesting like the one on depth. */
const MAX_BUCKET_NESTING = 16;
/** The page sizes bbolt can have been opened with (os.Getpagesize() on the writer). */
const PAGE_SIZES = new Set([512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]);

export class BboltError extends Error {}

interface Meta {
  readonly pageSize: number;
  readonly root: bigint;
  readonly txid: bigint;
  /** The high-water mark: the file holds at least this many pages. */
  readonly pages: bigint;
}

/** Every top-level bucket of the file (name → its keys and values, in key order); nested buckets are refused. */
export function readBbolt(file: Uint8Array): Map<string, KeyValues> {
  const data = Buffer.from(file.buffer, file.byteOffset, file.byteLength);
  const meta = chooseMeta(data);
  // A file shorter than its high-water mark was cut short (a torn copy or write): pages it
  // does not reach may hold nothing we visit, but the file is not the one bbolt wrote.
  if (meta.pages * BigInt(meta.pageSize) > BigInt(data.length)) {
    throw new BboltError(`the file is ${data.length} bytes, short of the ${(meta.pages * BigInt(meta.pageSize)).toString()} its meta page covers: cut short`);
  }
  const reader = new TreeReader(data, meta.pageSize);
  const buckets = new Map<string, KeyValues>();
  reader.walk(meta.root, 0, (key, value, flags) => {
    if ((flags & BUCKET_LEAF_FLAG) === 0) throw new BboltError(`a plain key ${JSON.stringify(key.toString())} at the top level`);
    buckets.set(key.toString(), reader.bucket(value, 1));
  });
  return buckets;
}

/** Of the two meta pages, the valid one with the higher txid (bbolt's choice). */
function chooseMeta(data: Buffer): Meta {
  const first = parseMeta(data, 0, null);
  const candidates: Meta[] = typeof first === 'string' ? [] : [first];
  // The second meta is one page in: at the first's page size, or (first torn) at any.
  for (const size of typeof first === 'string' ? [...PAGE_SIZES] : [first.pageSize]) {
    const second = parseMeta(data, size, size);
    if (typeof second === 'string') continue;
    candidates.push(second);
    break;
  }
  const best = candidates.sort((a, b) => (a.txid > b.txid ? -1 : a.txid < b.txid ? 1 : 0))[0];
  if (best === undefined) throw new BboltError(`not a bbolt file: ${typeof first === 'string' ? first : 'no valid meta page'}`);
  return best;
}

/** The meta page at `at`; `pageSize`: the size it must declare (null for the first, which sits at 0 whatever the size). */
function parseMeta(data: Buffer, at: number, pageSize: number | null): Meta | string {
  const m = at + PAGE_HEADER_BYTES;
  if (data.length < m + META_CHECKED_BYTES + 8) return 'too short for a meta page';
  if (data.readUInt32LE(m) !== META_MAGIC) return 'bad magic';
  if (data.readUInt32LE(m + 4) !== META_VERSION) return `unsupported version ${String(data.readUInt32LE(m + 4))}`;
  const declared = data.readUInt32LE(m + 8);
  if (!PAGE_SIZES.has(declared) || (pageSize !== null && declared !== pageSize)) return `page size ${String(declared)}`;
  if (fnv1a64(data.subarray(m, m + META_CHECKED_BYTES)) !== data.readBigUInt64LE(m + META_CHECKED_BYTES)) return 'meta checksum mismatch';
  return { pageSize: declared, root: data.readBigUInt64LE(m + 16), txid: data.readBigUInt64LE(m + 48), pages: data.readBigUInt64LE(m + 40) };
}

class TreeReader {
  /** Every page visited so far. */
  private readonly seen = new Set<bigint>();

  constructor(private readonly data: Buffer, private readonly pageSize: number) {}

  /** A bucket's contents from its header in the parent (a root page, or an inline page). */
  bucket(header: Buffer, nesting: number): KeyValues {
    if (header.length < BUCKET_HEADER_BYTES) throw new BboltError('a bucket header is truncated');
    if (nesting > MAX_BUCKET_NESTING) throw new BboltError('buckets nested too deeply');
    const root = header.readBigUInt64LE(0);
    const out: [Uint8Array, Uint8Array][] = [];
    const visit = (key: Buffer, value: Buffer, flags: number): void => {
      if ((flags & BUCKET_LEAF_FLAG) !== 0) throw new BboltError(`nested bucket ${JSON.stringify(key.toString())} (etcd's backend has none)`);
      out.push([Uint8Array.from(key), Uint8Array.from(value)]);
    };
    if (root === 0n) this.leaf(header.subarray(BUCKET_HEADER_BYTES), visit);
    else this.walk(root, 0, visit);
    return out;
  }

  /** Visits a tree's leaf elements in key order. */
  walk(pageId: bigint, depth: number, visit: (key: Buffer, value: Buffer, flags: number) => void): void {
    if (depth > MAX_DEPTH) throw new BboltError('a tree deeper than any bbolt writes');
    if (this.seen.has(pageId)) throw new BboltError(`page ${pageId.toString()} is reached twice`);
    this.seen.add(pageId);
    const page = this.page(pageId);
    const flags = page.readUInt16LE(8);
    if (flags === LEAF_PAGE) {
      this.leaf(page, visit);
      return;
    }
    if (flags !== BRANCH_PAGE) throw new BboltError(`page ${pageId.toString()} is neither a branch nor a leaf (flags ${String(flags)})`);
    const count = page.readUInt16LE(10);
    for (let i = 0; i < count; i++) {
      const at = PAGE_HEADER_BYTES + i * ELEMENT_BYTES;
      this.inside(page, at + ELEMENT_BYTES, `branch page ${pageId.toString()}`);
      this.walk(page.readBigUInt64LE(at + 8), depth + 1, visit);
    }
  }

  /** A leaf page's elements (a file page or an inline bucket's bytes). */
  private leaf(page: Buffer, visit: (key: Buffer, value: Buffer, flags: number) => void): void {
    this.inside(page, PAGE_HEADER_BYTES, 'a leaf page header');
    if (page.readUInt16LE(8) !== LEAF_PAGE) throw new BboltError('an inline bucket is not a leaf page');
    const count = page.readUInt16LE(10);
    for (let i = 0; i < count; i++) {
      const at = PAGE_HEADER_BYTES + i * ELEMENT_BYTES;
      this.inside(page, at + ELEMENT_BYTES, 'a leaf element');
      const [flags, pos, ksize, vsize] = [page.readUInt32LE(at), page.readUInt32LE(at + 4), page.readUInt32LE(at + 8), page.readUInt32LE(at + 12)];
      const keyAt = at + pos;
      this.inside(page, keyAt + ksize + vsize, 'a leaf element\'s key and value');
      visit(page.subarray(keyAt, keyAt + ksize), page.subarray(keyAt + ksize, keyAt + ksize + vsize), flags);
    }
  }

  /** The page with this id and its overflow pages. */
  private page(id: bigint): Buffer {
    const start = Number(id) * this.pageSize;
    if (id < 2n || !Number.isSafeInteger(start) || start + PAGE_HEADER_BYTES > this.data.length) {
      throw new BboltError(`page ${id.toString()} is outside the file`);
    }
    if (this.data.readBigUInt64LE(start) !== id) throw new BboltError(`page ${id.toString()} carries another id`);
    const span = (this.data.readUInt32LE(start + 12) + 1) * this.pageSize;
    if (start + span > this.data.length) throw new BboltError(`page ${id.toString()} runs past the end of the file`);
    return this.data.subarray(start, start + span);
  }

  private inside(buffer: Buffer, end: number, what: string): void {
    if (end > buffer.length) throw new BboltError(`${what} runs past its page`);
  }
}
