// A bbolt database file that Tern reads and writes in place, page for page as
// go.etcd.io/bbolt does, so that the file is etcd's `member/snap/db`: Go's bbolt opens
// it (tx.Check() finds nothing wrong), and what bbolt writes into it Tern reads back.
//
// Copy-on-write, as bbolt: a write transaction reads the pages its writes go through
// into nodes (node.ts), and its commit lays every such node out on pages no tree of the
// last commit holds (free ones, or new ones past the end), then the freelist, syncs,
// and only then writes the meta page (the two alternate, by txid) and syncs again. A
// crash before that meta write leaves the file as the last commit left it; a torn meta
// page fails its checksum and the other one wins. The syncs and the meta write may run
// in the background (updateInBackground): reads see the last commit until it lands.
//
// One level of buckets under the root, as etcd's backend has (key, meta, lease, auth,
// members, …); small buckets inline in the root's leaf, as bbolt keeps them. Left out:
// merging under-filled pages after deletes (bbolt's rebalance). An emptied page leaves
// its tree, and a branch of one child collapses, but a page that is only sparse stays
// so: valid for bbolt, a little larger than bbolt's file after heavy compaction.

import { invariant } from '../../core/util/invariant.js';
import {
  BUCKET_HEADER_BYTES, BUCKET_LEAF_FLAG, fnv1a64, META_CHECKED_BYTES, META_MAGIC, META_PAGE, META_VERSION, PAGE_HEADER_BYTES,
} from '../../net/snapshot/bboltFormat.js';
import { Freelist, readFreelist } from './freelist.js';
import { BboltFormatError, Node, parseNode, sizeOf, splitInodes, writeNode, type Inode } from './node.js';
import { PageFile } from './pageFile.js';

export { BboltFormatError } from './node.js';

/** The page size Tern creates files with (bbolt's: the OS page, 4096 here). */
export const DEFAULT_PAGE_SIZE = 4096;
/** bbolt's default share of a page a split fills (DefaultFillPercent). */
const DEFAULT_FILL = 0.5;
/** Parsed pages kept between transactions (pages are immutable until freed and rewritten). */
const PAGE_CACHE_MAX = 4096;
/** Trees deeper than this are corrupt files, not bbolt's (a few levels hold millions of keys). */
const MAX_DEPTH = 64;

interface Meta {
  readonly root: number;
  readonly freelist: number;
  /** The high-water mark: pages below it are in the file. */
  readonly pgid: number;
  readonly txid: number;
}

/** A transaction's pages, written: the meta that will make them the committed tree. */
interface Prepared {
  readonly meta: Meta;
  readonly freelistSpan: number;
}

/** A commit landing in the background: where it stands, and whom to tell. */
interface Landing extends Prepared {
  /** Pages written and not synced; or the meta page written too, not synced. */
  stage: 'pagesWritten' | 'metaWritten';
  /** Landed or failed (a late sync's callback then does nothing). */
  settled: boolean;
  readonly landed: (error: Error | null) => void;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** A bucket as its header in the root says: a root page, or (root 0) an inline leaf page. */
interface BucketHeader {
  readonly root: number;
  readonly sequence: bigint;
  readonly inline: Buffer | null;
}

export class BboltDb {
  private meta: Meta;
  private freelist: Freelist;
  private freelistSpan: number;
  private readonly cache = new Map<number, Node>();
  private writing = false;
  private failure: string | null = null;
  /**
   * The read transaction views share until the next commit: it holds nothing but the
   * buckets it looked up, which stay valid while the committed state does (the backend
   * reads a record per put and per range hit).
   */
  private reader: Tx | null = null;
  /** A commit of updateInBackground whose syncs or meta page are still to come. */
  private landing: Landing | null = null;

  private constructor(private readonly file: PageFile, meta: Meta) {
    this.meta = meta;
    const page = this.readPage(meta.freelist);
    this.freelistSpan = page.span;
    this.freelist = new Freelist(readFreelist(page.bytes, meta.freelist));
  }

  /**
   * Opens the file at `path`; with `create`, a missing or empty file becomes a new
   * database (metas at txid 0 and 1, an empty freelist and root, as bbolt's init).
   * A file that is not bbolt's, or is damaged, is a BboltFormatError.
   */
  static open(path: string, options: { readonly create?: boolean } = {}): BboltDb {
    const probe = PageFile.open(path, DEFAULT_PAGE_SIZE, options.create === true);
    try {
      if (probe.bytes === 0) {
        if (options.create !== true) throw new BboltFormatError(`${path} is empty`);
        initialize(probe);
      }
      const { meta, pageSize } = chooseMeta(probe);
      if (pageSize === DEFAULT_PAGE_SIZE) return new BboltDb(probe, meta);
      probe.close();
      return new BboltDb(PageFile.open(path, pageSize, false), meta);
    } catch (error) {
      probe.close();
      throw error;
    }
  }

  get txid(): number {
    return this.meta.txid;
  }

  /** Pages in the file (the high-water mark) and pages free among them. */
  stats(): { readonly pages: number; readonly free: number; readonly pageSize: number } {
    return { pages: this.meta.pgid, free: this.freelist.freeCount, pageSize: this.file.pageSize };
  }

  /** Reads the last commit's state. */
  view<T>(read: (tx: Tx) => T): T {
    this.check();
    this.reader ??= new Tx(this, false);
    return read(this.reader);
  }

  /**
   * Runs `write` in a transaction and commits it, syncs included (nothing is written if
   * it throws). A commit still landing from updateInBackground lands first.
   */
  update<T>(write: (tx: Tx) => T): T {
    this.check();
    invariant(!this.writing, 'one write transaction at a time');
    this.settle();
    this.writing = true;
    try {
      const tx = new Tx(this, true);
      const result = write(tx);
      this.commit(tx);
      return result;
    } finally {
      this.writing = false;
    }
  }

  /** Lands a commit still landing (settle), then closes the file. */
  close(): void {
    try {
      if (this.failure === null) this.settle();
    } finally {
      this.file.close();
    }
  }

  /** The node of page `pgid` (parsed once, then from the cache). */
  node(pgid: number): Node {
    const cached = this.cache.get(pgid);
    if (cached !== undefined) return cached;
    const { bytes, span } = this.readPage(pgid);
    const node = parseNode(bytes, pgid, span);
    if (this.cache.size >= PAGE_CACHE_MAX) this.cache.delete(this.cache.keys().next().value as number);
    this.cache.set(pgid, node);
    return node;
  }

  /** A private copy of page `pgid`'s node, for a write to edit (the cached one is the committed page). */
  editable(pgid: number): Node {
    const page = this.node(pgid);
    return new Node(page.leaf, page.inodes.map((inode) => ({ ...inode })), page.pgid, page.span);
  }

  get rootPgid(): number {
    return this.meta.root;
  }

  private readPage(pgid: number): { bytes: Buffer; span: number } {
    if (!Number.isSafeInteger(pgid) || pgid < 2 || pgid >= this.meta.pgid) {
      throw new BboltFormatError(`page ${pgid} is outside the file's ${this.meta.pgid} pages`);
    }
    const first = this.file.readPages(pgid, 1);
    if (first.length < PAGE_HEADER_BYTES) throw new BboltFormatError(`page ${pgid} is past the end of the file`);
    if (Number(first.readBigUInt64LE(0)) !== pgid) throw new BboltFormatError(`page ${pgid} carries id ${first.readBigUInt64LE(0)}`);
    const span = first.readUInt32LE(12) + 1;
    if (pgid + span > this.meta.pgid) throw new BboltFormatError(`page ${pgid} overflows past the file's ${this.meta.pgid} pages`);
    const bytes = span === 1 ? first : this.file.readPages(pgid, span);
    if (bytes.length < span * this.file.pageSize) throw new BboltFormatError(`page ${pgid} is cut short`);
    return { bytes, span };
  }

  /**
   * Runs `write` in a transaction, writes its pages and returns at once; the syncs and
   * the meta page follow off the main thread (`landed` is told when the commit is
   * durable, or why it failed). Until then reads see the last commit, which no page of
   * this one touches (copy-on-write), and no other write may start: the pages this one
   * frees are still the durable tree's. `settle()` finishes a landing commit at once.
   */
  updateInBackground(write: (tx: Tx) => void, landed: (error: Error | null) => void): void {
    this.check();
    invariant(!this.writing && this.landing === null, 'one write transaction at a time');
    this.writing = true;
    let prepared: Prepared | null;
    try {
      const tx = new Tx(this, true);
      write(tx);
      prepared = this.writePages(tx);
    } finally {
      this.writing = false;
    }
    if (prepared === null) {
      landed(null);
      return;
    }
    const landing: Landing = { ...prepared, stage: 'pagesWritten', settled: false, landed };
    this.landing = landing;
    this.file.syncInBackground((error) => {
      if (landing.settled) return;
      if (error !== null) {
        this.landingFailed(landing, error);
        return;
      }
      try {
        this.file.writePages(landing.meta.txid % 2, metaPage(landing.meta, this.file.pageSize));
      } catch (writeError) {
        this.landingFailed(landing, writeError);
        return;
      }
      landing.stage = 'metaWritten';
      this.file.syncInBackground((metaError) => {
        if (landing.settled) return;
        if (metaError !== null) this.landingFailed(landing, metaError);
        else this.land(landing);
      });
    });
  }

  /** Finishes a landing commit now, on this thread (before a write that may not wait, or a close). */
  settle(): void {
    const landing = this.landing;
    if (landing === null) return;
    try {
      if (landing.stage === 'pagesWritten') {
        this.file.sync();
        this.file.writePages(landing.meta.txid % 2, metaPage(landing.meta, this.file.pageSize));
      }
      this.file.sync();
    } catch (error) {
      this.landingFailed(landing, error);
      throw error;
    }
    this.land(landing);
  }

  private commit(tx: Tx): void {
    const prepared = this.writePages(tx);
    if (prepared === null) return;
    try {
      this.file.sync();
      this.file.writePages(prepared.meta.txid % 2, metaPage(prepared.meta, this.file.pageSize));
      this.file.sync();
    } catch (error) {
      this.failure = describe(error);
      throw error;
    }
    this.install(prepared);
  }

  /**
   * Lays the transaction's nodes and the freelist out on pages no committed tree holds
   * and writes them (not synced); null when nothing was written.
   */
  private writePages(tx: Tx): Prepared | null {
    const writes = new Map<number, Buffer>();
    let highWater = this.meta.pgid;
    const allocate = (span: number): number => {
      const reused = this.freelist.allocate(span);
      if (reused !== null) return reused;
      const pgid = highWater;
      highWater += span;
      return pgid;
    };
    const layout: Layout = {
      pageSize: this.file.pageSize,
      release: (pgid, span) => { this.freelist.release(pgid, span); },
      place: (leaf, inodes) => {
        const bytes = sizeOf(leaf, inodes);
        const pgid = allocate(Math.ceil(bytes / this.file.pageSize));
        writes.set(pgid, writeNode(leaf, inodes, pgid, bytes, this.file.pageSize));
        return pgid;
      },
    };
    const root = tx.spill(layout);
    if (writes.size === 0 && root === this.meta.root) return null; // nothing written: no commit (and nothing freed)
    this.freelist.release(this.meta.freelist, this.freelistSpan);
    const freelistSpan = Math.ceil(this.freelist.pageBytes() / this.file.pageSize);
    const freelistPgid = allocate(freelistSpan);
    const meta: Meta = { root, freelist: freelistPgid, pgid: highWater, txid: this.meta.txid + 1 };
    try {
      writes.set(freelistPgid, this.freelist.write(freelistPgid, this.file.pageSize));
      for (const pgid of [...writes.keys()].sort((a, b) => a - b)) {
        this.file.writePages(pgid, writes.get(pgid) as Buffer);
        this.cache.delete(pgid);
      }
    } catch (error) {
      // The file may hold half a commit (never referenced by a meta); this handle is done.
      this.failure = describe(error);
      throw error;
    }
    return { meta, freelistSpan };
  }

  /** The commit is durable: it is the state reads see, and the pages it freed may be reused. */
  private install(prepared: Prepared): void {
    this.freelist.commit();
    this.freelistSpan = prepared.freelistSpan;
    this.meta = prepared.meta;
    this.reader = null;
  }

  private land(landing: Landing): void {
    landing.settled = true;
    this.landing = null;
    this.install(landing);
    landing.landed(null);
  }

  private landingFailed(landing: Landing, error: unknown): void {
    landing.settled = true;
    this.landing = null;
    this.failure = describe(error);
    landing.landed(error instanceof Error ? error : new Error(this.failure));
  }

  private check(): void {
    if (this.failure !== null) throw new Error(`bbolt: a commit failed, the file is closed to writes: ${this.failure}`);
  }
}

/** What a commit's spill needs: where pages go, and what it frees. */
interface Layout {
  readonly pageSize: number;
  /** Frees a page the last commit's trees held (free for the next transaction). */
  readonly release: (pgid: number, span: number) => void;
  /** Writes `inodes` as a page somewhere free; its id. */
  readonly place: (leaf: boolean, inodes: readonly Inode[]) => number;
}

/** One transaction: reads see the last commit plus this transaction's own writes. */
export class Tx {
  /** Buckets this transaction opened (their roots materialized once written) or deleted, by name. */
  private readonly buckets = new Map<string, Bucket | typeof DELETED>();
  /** Trees of buckets deleted in this transaction: their committed pages are freed at commit. */
  private readonly dropped: Tree[] = [];
  /** The root bucket's tree: bucket name → header. */
  private readonly root: Tree;

  constructor(private readonly db: BboltDb, readonly writable: boolean) {
    this.root = new Tree(db, { root: db.rootPgid, sequence: 0n, inline: null }, DEFAULT_FILL);
  }

  /** Bucket names, in byte order. */
  bucketNames(): string[] {
    const names = new Set<string>();
    this.root.scan(null, null, (key, _value, flags) => {
      if ((flags & BUCKET_LEAF_FLAG) !== 0) names.add(key.toString());
      return true;
    });
    for (const [name, bucket] of this.buckets) {
      if (bucket === DELETED) names.delete(name);
      else names.add(name);
    }
    return [...names].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  }

  bucket(name: string): Bucket | null {
    const open = this.buckets.get(name);
    if (open !== undefined) return open === DELETED ? null : open;
    const found = this.root.find(Buffer.from(name));
    if (found === null) return null;
    if ((found.flags & BUCKET_LEAF_FLAG) === 0) throw new BboltFormatError(`${name} is a key, not a bucket`);
    const bucket = new Bucket(this, new Tree(this.db, parseBucketHeader(found.value, name), DEFAULT_FILL));
    this.buckets.set(name, bucket);
    return bucket;
  }

  /** The bucket `name`, created (empty, inline) if there is none. */
  createBucket(name: string): Bucket {
    this.mustWrite();
    invariant(name.length > 0, 'a bucket needs a name');
    const existing = this.bucket(name);
    if (existing !== null) return existing;
    const tree = new Tree(this.db, { root: 0, sequence: 0n, inline: null }, DEFAULT_FILL);
    tree.materializeEmpty();
    const bucket = new Bucket(this, tree);
    this.buckets.set(name, bucket);
    return bucket;
  }

  /** Removes bucket `name` and frees its pages at commit. */
  deleteBucket(name: string): void {
    this.mustWrite();
    const bucket = this.bucket(name);
    if (bucket === null) return;
    this.dropped.push(bucket.tree);
    this.buckets.set(name, DELETED);
  }

  mustWrite(): void {
    invariant(this.writable, 'a write in a read-only transaction');
  }

  /** Lays out every bucket written and then the root; the root's page id. */
  spill(layout: Layout): number {
    for (const tree of this.dropped) tree.freeAll(layout);
    for (const [name, bucket] of this.buckets) {
      const key = Buffer.from(name);
      if (bucket === DELETED) this.root.remove(key);
      else if (bucket.tree.written) this.root.put(key, bucket.tree.spill(layout, true), BUCKET_LEAF_FLAG);
    }
    if (!this.root.written) return this.db.rootPgid;
    const root = Number(this.root.spill(layout, false).readBigUInt64LE(0));
    invariant(root >= 2, 'the root bucket is always a page');
    return root;
  }
}

const DELETED = Symbol('deleted');

/** A bucket's keys and values. */
export class Bucket {
  constructor(private readonly tx: Tx, readonly tree: Tree) {}

  get(key: Uint8Array): Buffer | null {
    const found = this.tree.find(asBuffer(key));
    return found === null || (found.flags & BUCKET_LEAF_FLAG) !== 0 ? null : found.value;
  }

  put(key: Uint8Array, value: Uint8Array): void {
    this.tx.mustWrite();
    invariant(key.length > 0, 'a key must not be empty');
    this.tree.put(Buffer.from(key), Buffer.from(value), 0);
  }

  delete(key: Uint8Array): void {
    this.tx.mustWrite();
    this.tree.remove(asBuffer(key));
  }

  /** Visits keys from `from` (null: the first) below `to` (null: to the last), in order, while `visit` says true. */
  scan(from: Uint8Array | null, to: Uint8Array | null, visit: (key: Buffer, value: Buffer) => boolean): void {
    this.tree.scan(from === null ? null : asBuffer(from), to === null ? null : asBuffer(to), (key, value) => visit(key, value));
  }

  /** The share of a page a split fills (bbolt's FillPercent; etcd sets 0.9 for its append-only key bucket). */
  set fillPercent(share: number) {
    this.tree.fill = Math.min(1, Math.max(0.1, share));
  }
}

/** One B+tree: a bucket's, or the root's (bucket name → header). */
class Tree {
  /** The root, once a write went through it (then every node on a written path is materialized). */
  private rootNode: Node | null = null;

  constructor(private readonly db: BboltDb, private header: BucketHeader, public fill: number) {}

  get written(): boolean {
    return this.rootNode !== null;
  }

  materializeEmpty(): void {
    this.rootNode = new Node(true, [], 0, 0);
  }

  /** The leaf inode holding `key`, or null. */
  find(key: Buffer): Inode | null {
    let node = this.readRoot();
    for (let depth = 0; !node.leaf; depth++) {
      if (depth > MAX_DEPTH || node.inodes.length === 0) throw new BboltFormatError('a branch page with no children, or a tree too deep');
      const inode = node.inodes[node.childIndex(key)] as Inode;
      node = inode.node ?? this.db.node(inode.child);
    }
    const i = node.search(key);
    const inode = node.inodes[i];
    return inode !== undefined && inode.key.equals(key) ? inode : null;
  }

  put(key: Buffer, value: Buffer, flags: number): void {
    const leaf = this.writableLeaf(key);
    const i = leaf.search(key);
    const at = leaf.inodes[i];
    if (at !== undefined && at.key.equals(key)) {
      at.value = value;
      at.flags = flags;
      return;
    }
    leaf.inodes.splice(i, 0, { key, value, flags, child: 0, node: null });
  }

  remove(key: Buffer): void {
    const leaf = this.writableLeaf(key);
    const i = leaf.search(key);
    const at = leaf.inodes[i];
    if (at === undefined || !at.key.equals(key)) return;
    leaf.inodes.splice(i, 1);
    leaf.unbalanced = true;
  }

  scan(from: Buffer | null, to: Buffer | null, visit: (key: Buffer, value: Buffer, flags: number) => boolean): void {
    this.walk(this.readRoot(), from, to, visit, 0);
  }

  /** Frees every page of the tree (a deleted bucket). */
  freeAll(layout: Layout): void {
    if (this.header.root === 0) return;
    const free = (pgid: number, depth: number): void => {
      if (depth > MAX_DEPTH) throw new BboltFormatError('a tree too deep');
      const node = this.db.node(pgid);
      if (!node.leaf) for (const inode of node.inodes) free(inode.child, depth + 1);
      layout.release(pgid, node.span);
    };
    free(this.header.root, 0);
  }

  /**
   * Lays the written tree out (`inlineable`: a small leaf root goes inline) and returns
   * the header its parent holds for it: root page id and sequence, and the inline page.
   */
  spill(layout: Layout, inlineable: boolean): Buffer {
    const root = this.rootNode;
    invariant(root !== null, 'spilling a tree nothing wrote');
    let top = this.prune(root, layout);
    // A branch of one child is that child (bbolt's rebalance collapses the root so).
    while (!top.leaf && top.inodes.length === 1) {
      const only = top.inodes[0] as Inode;
      if (top.pgid !== 0) layout.release(top.pgid, top.span);
      top = only.node ?? this.db.editable(only.child);
    }
    if (!top.leaf && top.inodes.length === 0) {
      if (top.pgid !== 0) layout.release(top.pgid, top.span);
      top = new Node(true, [], 0, 0);
    }
    const header = Buffer.alloc(BUCKET_HEADER_BYTES);
    header.writeBigUInt64LE(this.header.sequence, 8);
    if (inlineable && top.leaf && top.size() <= layout.pageSize / 4 && top.inodes.every((i) => (i.flags & BUCKET_LEAF_FLAG) === 0)) {
      if (top.pgid !== 0) layout.release(top.pgid, top.span);
      return Buffer.concat([header, writeNode(true, top.inodes, 0, top.size(), layout.pageSize)]);
    }
    let pieces = this.place(top, layout);
    while (pieces.length > 1) {
      const parents: Inode[] = pieces.map((p) => ({ key: p.key, value: EMPTY, flags: 0, child: p.pgid, node: null }));
      pieces = splitInodes(false, parents, layout.pageSize, layout.pageSize * this.fill)
        .map((group) => ({ key: (group[0] as Inode).key, pgid: layout.place(false, group) }));
    }
    header.writeBigUInt64LE(BigInt((pieces[0] as Piece).pgid), 0);
    return header;
  }

  /** Removes emptied children from the written nodes under `node` (freeing their pages); returns `node`. */
  private prune(node: Node, layout: Layout): Node {
    if (node.leaf) return node;
    const kept: Inode[] = [];
    for (const inode of node.inodes) {
      if (inode.node !== null) {
        this.prune(inode.node, layout);
        if (inode.node.inodes.length === 0) {
          if (inode.node.pgid !== 0) layout.release(inode.node.pgid, inode.node.span);
          continue;
        }
      }
      kept.push(inode);
    }
    node.inodes = kept;
    return node;
  }

  /** Writes a written node and its written descendants on fresh pages, freeing the pages they came from. */
  private place(node: Node, layout: Layout): Piece[] {
    if (!node.leaf) {
      node.inodes = node.inodes.flatMap((inode) => (inode.node === null ? [inode]
        : this.place(inode.node, layout).map((p) => ({ key: p.key, value: EMPTY, flags: 0, child: p.pgid, node: null }))));
    }
    if (node.pgid !== 0) layout.release(node.pgid, node.span);
    node.pgid = 0;
    return splitInodes(node.leaf, node.inodes, layout.pageSize, layout.pageSize * this.fill)
      .map((group) => ({ key: group[0]?.key ?? EMPTY, pgid: layout.place(node.leaf, group) }));
  }

  private readRoot(): Node {
    if (this.rootNode !== null) return this.rootNode;
    if (this.header.root === 0) return parseNode(this.inlinePage(), 0, 0);
    return this.db.node(this.header.root);
  }

  private inlinePage(): Buffer {
    invariant(this.header.inline !== null, 'an inline bucket without its page');
    return this.header.inline;
  }

  /** The leaf `key` belongs in, with every node on the way there made editable. */
  private writableLeaf(key: Buffer): Node {
    if (this.rootNode === null) {
      this.rootNode = this.header.root === 0 ? parseNode(Buffer.from(this.inlinePage()), 0, 0) : this.db.editable(this.header.root);
    }
    let node = this.rootNode;
    for (let depth = 0; !node.leaf; depth++) {
      if (depth > MAX_DEPTH || node.inodes.length === 0) throw new BboltFormatError('a branch page with no children, or a tree too deep');
      const inode = node.inodes[node.childIndex(key)] as Inode;
      inode.node ??= this.db.editable(inode.child);
      node = inode.node;
    }
    return node;
  }

  private walk(node: Node, from: Buffer | null, to: Buffer | null, visit: (key: Buffer, value: Buffer, flags: number) => boolean, depth: number): boolean {
    if (depth > MAX_DEPTH) throw new BboltFormatError('a tree too deep');
    if (node.leaf) {
      for (let i = from === null ? 0 : node.search(from); i < node.inodes.length; i++) {
        const inode = node.inodes[i] as Inode;
        if (to !== null && Buffer.compare(inode.key, to) >= 0) return false;
        if (!visit(inode.key, inode.value, inode.flags)) return false;
      }
      return true;
    }
    for (let i = from === null ? 0 : node.childIndex(from); i < node.inodes.length; i++) {
      const inode = node.inodes[i] as Inode;
      if (to !== null && Buffer.compare(inode.key, to) >= 0 && i > 0) return false;
      if (!this.walk(inode.node ?? this.db.node(inode.child), from, to, visit, depth + 1)) return false;
    }
    return true;
  }
}

interface Piece {
  readonly key: Buffer;
  readonly pgid: number;
}

function parseBucketHeader(value: Buffer, name: string): BucketHeader {
  if (value.length < BUCKET_HEADER_BYTES) throw new BboltFormatError(`bucket ${name}'s header is cut short`);
  const root = Number(value.readBigUInt64LE(0));
  return { root, sequence: value.readBigUInt64LE(8), inline: root === 0 ? value.subarray(BUCKET_HEADER_BYTES) : null };
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

const EMPTY = Buffer.alloc(0);

/** A new file's first four pages: metas at txid 0 and 1, an empty freelist (2) and root leaf (3). */
function initialize(file: PageFile): void {
  const size = file.pageSize;
  const pages = Buffer.alloc(4 * size);
  for (const txid of [0, 1]) metaPage({ root: 3, freelist: 2, pgid: 4, txid }, size).copy(pages, txid * size);
  new Freelist([]).write(2, size).copy(pages, 2 * size);
  writeNode(true, [], 3, PAGE_HEADER_BYTES, size).copy(pages, 3 * size);
  file.writePages(0, pages);
  file.sync();
}

function metaPage(meta: Meta, pageSize: number): Buffer {
  const page = Buffer.alloc(pageSize);
  page.writeBigUInt64LE(BigInt(meta.txid % 2), 0);
  page.writeUInt16LE(META_PAGE, 8);
  const m = PAGE_HEADER_BYTES;
  page.writeUInt32LE(META_MAGIC, m);
  page.writeUInt32LE(META_VERSION, m + 4);
  page.writeUInt32LE(pageSize, m + 8);
  page.writeUInt32LE(0, m + 12);
  page.writeBigUInt64LE(BigInt(meta.root), m + 16);
  page.writeBigUInt64LE(0n, m + 24);
  page.writeBigUInt64LE(BigInt(meta.freelist), m + 32);
  page.writeBigUInt64LE(BigInt(meta.pgid), m + 40);
  page.writeBigUInt64LE(BigInt(meta.txid), m + 48);
  page.writeBigUInt64LE(fnv1a64(page.subarray(m, m + META_CHECKED_BYTES)), m + META_CHECKED_BYTES);
  return page;
}

/** Of the two meta pages, the valid one with the higher txid (bbolt's choice), and the page size it declares. */
function chooseMeta(file: PageFile): { meta: Meta; pageSize: number } {
  const first = parseMeta(file.readAt(0, 4096), null);
  const size = typeof first === 'string' ? null : first.pageSize;
  const candidates: { meta: Meta; pageSize: number }[] = typeof first === 'string' ? [] : [first];
  for (const at of size === null ? [512, 1024, 2048, 4096, 8192, 16384, 32768, 65536] : [size]) {
    const second = parseMeta(file.readAt(at, 4096), at);
    if (typeof second !== 'string') {
      candidates.push(second);
      break;
    }
  }
  candidates.sort((a, b) => b.meta.txid - a.meta.txid);
  const best = candidates[0];
  if (best === undefined) throw new BboltFormatError(`not a bbolt file: ${typeof first === 'string' ? first : 'no valid meta page'}`);
  if (best.meta.pgid * best.pageSize > file.bytes) throw new BboltFormatError(`the file is shorter than the ${best.meta.pgid} pages its meta page covers`);
  return best;
}

function parseMeta(page: Buffer, pageSize: number | null): { meta: Meta; pageSize: number } | string {
  const m = PAGE_HEADER_BYTES;
  if (page.length < m + META_CHECKED_BYTES + 8) return 'too short for a meta page';
  if (page.readUInt32LE(m) !== META_MAGIC) return 'bad magic';
  if (page.readUInt32LE(m + 4) !== META_VERSION) return `unsupported version ${page.readUInt32LE(m + 4)}`;
  const declared = page.readUInt32LE(m + 8);
  if (pageSize !== null && declared !== pageSize) return `page size ${declared}`;
  if (fnv1a64(page.subarray(m, m + META_CHECKED_BYTES)) !== page.readBigUInt64LE(m + META_CHECKED_BYTES)) return 'meta checksum mismatch';
  const meta = {
    root: Number(page.readBigUInt64LE(m + 16)), freelist: Number(page.readBigUInt64LE(m + 32)),
    pgid: Number(page.readBigUInt64LE(m + 40)), txid: Number(page.readBigUInt64LE(m + 48)),
  };
  return { meta, pageSize: declared };
}
