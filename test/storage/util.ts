// Helpers for the storage tests: a temporary directory removed afterwards, promise
// forms of the callback ports, and a separate process that reads a store back.

import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LogStore, LogWrite, RecoveredLog, RecoveryFailure, WriteResult } from '../../core/node/ports.js';
import type { Entry, HardState, Snapshot } from '../../core/raft/types.js';

/** withTempDir for synchronous work. */
export function inTempDir(run: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'tern-storage-test-'));
  try {
    run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'tern-storage-test-'));
  try {
    return await run(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function write(store: LogStore, request: Partial<LogWrite>): Promise<WriteResult> {
  return new Promise((resolve) => {
    store.write({ hardState: null, entries: [], snapshot: null, mustSync: true, ...request }, resolve);
  });
}

export function compact(store: LogStore, snapshot: Snapshot): Promise<WriteResult> {
  return new Promise((resolve) => {
    store.compact(snapshot, resolve);
  });
}

export function entry(index: number, term: number, text = `e${index}`, type: Entry['type'] = 'normal'): Entry {
  return { index, term, type, data: new TextEncoder().encode(text) };
}

export function entries(from: number, to: number, term: number): Entry[] {
  const out: Entry[] = [];
  for (let i = from; i <= to; i++) out.push(entry(i, term));
  return out;
}

export function snapshot(index: number, term: number, text = `s${index}`): Snapshot {
  return { metadata: { index, term, confState: { voters: [1, 2, 3], learners: [4] } }, data: new TextEncoder().encode(text) };
}

export function hardState(term: number, commit: number, vote = 1): HardState {
  return { term, vote, commit };
}

/** A plain-data form of a recovery (bytes as arrays) that compares and prints well. */
export function plain(recovered: RecoveredLog | RecoveryFailure): unknown {
  return JSON.parse(JSON.stringify(recovered, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v)));
}

/** Opens the store in `dir` from a separate Node process and returns its recovery, in plain form. */
export function recoverInChild(dir: string): unknown {
  const script = join(dirname(fileURLToPath(import.meta.url)), 'recoverChild.js');
  const run = spawnSync(process.execPath, [script, dir], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`child recovery failed (${run.status}): ${run.stderr}`);
  return JSON.parse(run.stdout);
}
