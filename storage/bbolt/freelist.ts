// bbolt's freelist: the pages no tree holds. Pages a transaction frees stay pending until
// it commits — the previous meta page still points at the trees that hold them, and a
// commit torn before its meta page is written falls back to that meta — and are free for
// the next transaction on. On disk (a FREELIST_PAGE) both are written as free, sorted:
// on reopen no transaction is in flight.

import { invariant } from '../../core/util/invariant.js';
import { FREELIST_PAGE, PAGE_HEADER_BYTES } from '../../net/snapshot/bboltFormat.js';
import { BboltFormatError } from './node.js';

/** A page header's count is 16 bits; past it, the count moves to the first element (bbolt's rule). */
const COUNT_IN_HEADER_MAX = 0xffff;

export class Freelist {
  /** Free page ids, ascending. */
  private free: number[];
  /** Pages freed by the open transaction. */
  private pending: number[] = [];

  constructor(free: readonly number[]) {
    this.free = [...free].sort((a, b) => a - b);
    for (let i = 1; i < this.free.length; i++) invariant(this.free[i - 1] !== this.free[i], 'a page is free twice');
  }

  get freeCount(): number {
    return this.free.length;
  }

  /** Frees `span` pages from `pgid` when the transaction commits. */
  release(pgid: number, span: number): void {
    invariant(pgid > 1 && span >= 1, () => `cannot free page ${pgid} (span ${span})`);
    for (let i = 0; i < span; i++) this.pending.push(pgid + i);
  }

  /** The first run of `span` free pages, taken; null if there is none (the file grows instead). */
  allocate(span: number): number | null {
    let runStart = -1;
    for (let i = 0; i < this.free.length; i++) {
      const id = this.free[i] as number;
      if (runStart < 0 || id !== (this.free[i - 1] as number) + 1) runStart = i;
      if (i - runStart + 1 === span) {
        const first = this.free[runStart] as number;
        this.free.splice(runStart, span);
        return first;
      }
    }
    return null;
  }

  /** The transaction committed: its freed pages are free from now on. */
  commit(): void {
    if (this.pending.length === 0) return;
    const merged = [...this.free, ...this.pending].sort((a, b) => a - b);
    for (let i = 1; i < merged.length; i++) invariant(merged[i - 1] !== merged[i], () => `page ${merged[i]} freed twice`);
    this.free = merged;
    this.pending = [];
  }

  /** The bytes of the page that lists free and pending pages. */
  pageBytes(): number {
    const count = this.free.length + this.pending.length;
    return PAGE_HEADER_BYTES + 8 * (count >= COUNT_IN_HEADER_MAX ? count + 1 : count);
  }

  /** The freelist page (free and pending ids, sorted) as page `pgid` of `span` pages. */
  write(pgid: number, pageSize: number): Buffer {
    const ids = [...this.free, ...this.pending].sort((a, b) => a - b);
    const bytes = this.pageBytes();
    const span = Math.ceil(bytes / pageSize);
    const page = Buffer.alloc(span * pageSize);
    page.writeBigUInt64LE(BigInt(pgid), 0);
    page.writeUInt16LE(FREELIST_PAGE, 8);
    page.writeUInt32LE(span - 1, 12);
    let at = PAGE_HEADER_BYTES;
    if (ids.length >= COUNT_IN_HEADER_MAX) {
      page.writeUInt16LE(COUNT_IN_HEADER_MAX, 10);
      page.writeBigUInt64LE(BigInt(ids.length), at);
      at += 8;
    } else {
      page.writeUInt16LE(ids.length, 10);
    }
    for (const id of ids) {
      page.writeBigUInt64LE(BigInt(id), at);
      at += 8;
    }
    return page;
  }
}

/** The free page ids a freelist page lists. */
export function readFreelist(page: Buffer, pgid: number): number[] {
  if (page.length < PAGE_HEADER_BYTES || page.readUInt16LE(8) !== FREELIST_PAGE) {
    throw new BboltFormatError(`page ${pgid} is not a freelist page`);
  }
  let count = page.readUInt16LE(10);
  let at = PAGE_HEADER_BYTES;
  if (count === COUNT_IN_HEADER_MAX) {
    if (page.length < at + 8) throw new BboltFormatError(`freelist page ${pgid} is cut short`);
    count = Number(page.readBigUInt64LE(at));
    at += 8;
  }
  if (at + 8 * count > page.length) throw new BboltFormatError(`freelist page ${pgid} lists more ids than it holds`);
  const ids: number[] = [];
  for (let i = 0; i < count; i++) ids.push(Number(page.readBigUInt64LE(at + 8 * i)));
  return ids;
}
