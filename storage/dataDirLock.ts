// One member per data directory. Two processes on the same LMDB files would both
// write (LMDB allows several writer processes, serialised by its lock file, which is
// exactly wrong here: two Raft members with one identity), so a member holds a lock
// file in its data directory for as long as it runs.
//
// The lock is a file created exclusively (O_EXCL) holding the owner's pid. A lock left
// by a member that died (kill -9, power loss) names a process that no longer exists and
// is taken over. Limit: a stale lock whose pid was reused by an unrelated live process
// is taken for held; remove the file by hand then (the message says which).
//
// etcd 3.4 holds flock()s on its WAL and bbolt files instead; its second process blocks
// on bbolt's flock without a word. Tern refuses at once with a message, exit code 1.

import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';

export const LOCK_FILE = 'tern.lock';

export class DataDirLocked extends Error {
  constructor(readonly dataDir: string, readonly ownerPid: number, readonly lockPath: string) {
    super(`cannot access data directory ${dataDir}: it is locked by another member (pid ${ownerPid}); `
      + `if no such member runs, remove ${lockPath}`);
    this.name = 'DataDirLocked';
  }
}

export class DataDirLock {
  private released = false;

  private constructor(readonly lockPath: string) {}

  /** Takes the lock on `dataDir` (creating the directory), or throws DataDirLocked. */
  static acquire(dataDir: string): DataDirLock {
    mkdirSync(dataDir, { recursive: true });
    const lockPath = path.join(dataDir, LOCK_FILE);
    // Two attempts: the second after removing a lock whose owner is gone.
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(lockPath, 'wx');
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        return new DataDirLock(lockPath);
      } catch (error) {
        if (!isCode(error, 'EEXIST')) throw error;
      }
      const owner = readOwner(lockPath);
      if (owner !== null && owner !== process.pid && isAlive(owner)) throw new DataDirLocked(dataDir, owner, lockPath);
      unlinkSync(lockPath); // stale: its owner died without releasing it
    }
    throw new DataDirLocked(dataDir, readOwner(lockPath) ?? 0, lockPath);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    try {
      unlinkSync(this.lockPath);
    } catch (error) {
      if (!isCode(error, 'ENOENT')) throw error;
    }
  }
}

function readOwner(lockPath: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(lockPath, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isCode(error, 'EPERM'); // exists, but is not ours to signal
  }
}

function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
