// The file under a bbolt database, page by page: positioned reads and writes and a data
// sync. Reads and writes are synchronous (a commit writes a few pages to the page
// cache); the syncs of a commit may run on libuv's thread pool (db.ts
// updateInBackground), so that the main thread does not wait on the disk.

import { closeSync, constants, fdatasync, fdatasyncSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { invariant } from '../../core/util/invariant.js';

export class PageFile {
  private fd: number | null;

  private constructor(fd: number, readonly pageSize: number) {
    this.fd = fd;
  }

  /** Opens (creating if `create`) the file at `path` for reading and writing. */
  static open(path: string, pageSize: number, create: boolean): PageFile {
    invariant(Number.isInteger(pageSize) && pageSize >= 512, () => `bad page size ${pageSize}`);
    // Not 'a+': with O_APPEND, Linux ignores the position of every write.
    return new PageFile(openSync(path, constants.O_RDWR | (create ? constants.O_CREAT : 0), 0o600), pageSize);
  }

  get bytes(): number {
    return fstatSync(this.handle()).size;
  }

  /** `length` bytes from `offset` (fewer only past the end of the file). */
  readAt(offset: number, length: number): Buffer {
    const buffer = Buffer.allocUnsafe(length);
    let done = 0;
    while (done < length) {
      const n = readSync(this.handle(), buffer, done, length - done, offset + done);
      if (n === 0) break;
      done += n;
    }
    return done === length ? buffer : buffer.subarray(0, done);
  }

  /** Page `pgid` and the `span - 1` pages after it. */
  readPages(pgid: number, span: number): Buffer {
    return this.readAt(pgid * this.pageSize, span * this.pageSize);
  }

  writePages(pgid: number, data: Buffer): void {
    invariant(data.length % this.pageSize === 0, 'a page write is whole pages');
    let done = 0;
    while (done < data.length) done += writeSync(this.handle(), data, done, data.length - done, pgid * this.pageSize + done);
  }

  sync(): void {
    fdatasyncSync(this.handle());
  }

  /**
   * A data sync on libuv's thread pool. The caller must not close the file before it
   * is told, or must ignore what it is told (db.ts settles a landing commit on close).
   */
  syncInBackground(done: (error: Error | null) => void): void {
    fdatasync(this.handle(), (error) => { done(error); });
  }

  close(): void {
    if (this.fd === null) return;
    closeSync(this.fd);
    this.fd = null;
  }

  private handle(): number {
    invariant(this.fd !== null, 'the bbolt file is closed');
    return this.fd;
  }
}
