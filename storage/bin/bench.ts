// Benchmark of the LMDB log store: sequential LogStore.writes, each started when the
// previous one is durable (as the driver does), on a fresh LMDB environment in a
// temporary directory (removed afterwards). Prints, per case, writes/s, entries/s and
// LMDB transactions/s (every transaction is synced: syncs/s ≤ transactions/s), beside
// the disk's own rate of 256-byte write + fdatasync.
//
// Cases: 1 entry of 256 B per write (one client, no batching possible); k entries
// per write (what the driver sends when k proposals arrived during the previous
// write: the closed-loop equivalent of k clients, i.e. group commit through Raft's
// Ready batching); and 1 entry per write with an MVCC backend batch issued in the same
// turn on the same environment (the apply path: it rides along in the same commit).
//
//   npm run bench:storage [-- --seconds 3]

import { closeSync, fdatasyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogWrite, WriteResult } from '../../core/node/ports.js';
import type { Entry } from '../../core/raft/types.js';
import { rev } from '../../core/mvcc/revision.js';
import { LmdbBackend } from '../lmdbBackend.js';
import type { LmdbRoot } from '../lmdbEnv.js';
import { openLmdbEnv } from '../lmdbEnv.js';
import { LmdbLogStore } from '../lmdbLogStore.js';

const secondsArg = process.argv.indexOf('--seconds');
const SECONDS = secondsArg >= 0 ? Number(process.argv[secondsArg + 1]) : 3;
const PAYLOAD = new Uint8Array(256).fill(0x61);

function lastTxnId(root: LmdbRoot): number {
  const stats: unknown = root.getStats();
  if (typeof stats === 'object' && stats !== null && 'lastTxnId' in stats && typeof stats.lastTxnId === 'number') return stats.lastTxnId;
  return 0;
}

function writeOnce(store: LmdbLogStore, request: LogWrite): Promise<WriteResult> {
  return new Promise((resolve) => {
    store.write(request, resolve);
  });
}

interface Result { readonly name: string; readonly writes: number; readonly entries: number; readonly txns: number; readonly seconds: number }

async function run(name: string, perWrite: number, withBackend: boolean): Promise<Result> {
  const dir = mkdtempSync(join(tmpdir(), 'tern-bench-storage-'));
  try {
    const root = openLmdbEnv(dir);
    const store = LmdbLogStore.onEnv(root);
    const backend = withBackend ? LmdbBackend.onEnv(root) : null;
    let index = 0;
    let writes = 0;
    const txns0 = lastTxnId(root);
    const start = performance.now();
    const end = start + SECONDS * 1000;
    while (performance.now() < end) {
      const entries: Entry[] = [];
      for (let i = 0; i < perWrite; i++) entries.push({ term: 1, index: ++index, type: 'normal', data: PAYLOAD });
      if (backend !== null) {
        // What applying the previous write's entries leaves in the backend.
        backend.write({
          puts: [[rev(index + 1, 0), { key: `key${index % 1000}`, value: PAYLOAD, createRevision: index + 1, modRevision: index + 1, version: 1, lease: 0n, tombstone: false }]],
          deletes: [],
          meta: { appliedIndex: index - perWrite, compactRevision: 0 },
        });
      }
      const result = await writeOnce(store, { hardState: { term: 1, vote: 1, commit: index - perWrite }, entries, snapshot: null, mustSync: true });
      if (result.kind !== 'ok') throw new Error(`write failed: ${result.kind}: ${result.detail}`);
      writes++;
    }
    const seconds = (performance.now() - start) / 1000;
    const txns = lastTxnId(root) - txns0;
    await root.close();
    return { name, writes, entries: index, txns, seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function rawSync(): Result {
  const dir = mkdtempSync(join(tmpdir(), 'tern-bench-storage-'));
  try {
    const fd = openSync(join(dir, 'raw'), 'w');
    let writes = 0;
    const start = performance.now();
    const end = start + SECONDS * 1000;
    while (performance.now() < end) {
      writeSync(fd, PAYLOAD, 0, PAYLOAD.length, (writes % 64) * 256);
      fdatasyncSync(fd);
      writes++;
    }
    const seconds = (performance.now() - start) / 1000;
    closeSync(fd);
    return { name: 'disk: 256 B write + fdatasync', writes, entries: writes, txns: writes, seconds };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function show(r: Result): string {
  const rate = (n: number): string => Math.round(n / r.seconds).toLocaleString('en-US').padStart(9);
  return `${r.name.padEnd(44)} ${rate(r.writes)} ${rate(r.entries)} ${rate(r.txns)}`;
}

console.log(`${'case'.padEnd(44)} ${'writes/s'.padStart(9)} ${'entries/s'.padStart(9)} ${'txns/s'.padStart(9)}   (${SECONDS} s each)`);
console.log(show(rawSync()));
for (const [name, perWrite, withBackend] of [
  ['log: 1 entry (256 B) per write', 1, false],
  ['log: 1 entry + MVCC batch, shared env', 1, true],
  ['log: 16 entries per write (group commit)', 16, false],
  ['log: 256 entries per write (group commit)', 256, false],
] as const) {
  console.log(show(await run(name, perWrite, withBackend)));
}
