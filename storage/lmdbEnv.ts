// Opening the LMDB environment that storage/ keeps its data in. One environment can
// carry both the Raft log (LmdbLogStore) and the MVCC records (LmdbBackend): LMDB has
// one writer, and lmdb-js batches every asynchronous write issued in one event turn
// into one transaction, so the backend batch a member applies and the log write it
// issues next (the driver does both in the same turn) share one commit and one sync.

import { mkdirSync } from 'node:fs';
import { open } from 'lmdb';
import type { Database, RootDatabase } from 'lmdb';

export type BinaryDb = Database<Buffer, Buffer>;
export type LmdbRoot = RootDatabase<Buffer, Buffer>;

/** A write promise of lmdb-js with `separateFlushed`: resolves on commit, `.flushed` once synced. */
export type CommitPromise = Promise<unknown> & { readonly flushed?: PromiseLike<unknown> };

export function openLmdbEnv(dir: string): LmdbRoot {
  mkdirSync(dir, { recursive: true });
  return open<Buffer, Buffer>({
    path: dir,
    maxDbs: 8,
    keyEncoding: 'binary',
    encoding: 'binary',
    // overlappingSync (lmdb-js's default on Linux): a transaction commits (becomes
    // visible) first and is synced after, outside the writer lock, so the next
    // transaction can be built while the disk syncs. separateFlushed gives each write a
    // second promise for the sync: the log store acknowledges on that one.
    overlappingSync: true,
    separateFlushed: true,
  });
}

export function openBinaryDb(root: LmdbRoot, name: string): BinaryDb {
  return root.openDB<Buffer, Buffer>({ name, keyEncoding: 'binary', encoding: 'binary' });
}

export function describeError(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Whether an LMDB or OS error means the disk (or the map) is full. */
export function isDiskFull(error: unknown): boolean {
  return /ENOSPC|MDB_MAP_FULL|No space left/i.test(describeError(error));
}
