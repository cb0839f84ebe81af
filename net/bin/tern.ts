// The Tern member binary: `npm start -- <etcd flags>`. Serves etcd's KV and
// Maintenance APIs (gRPC) and /health, /version, /metrics (HTTP) on
// --listen-client-urls. This slice runs a single member; its Raft log and its MVCC
// records live in LMDB under --data-dir, so a restart resumes (peers come next).

import { mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { DataDirLock, DataDirLocked } from '../../storage/dataDirLock.js';
import { LmdbBackend } from '../../storage/lmdbBackend.js';
import { openLmdbEnv } from '../../storage/lmdbEnv.js';
import { LmdbLogStore } from '../../storage/lmdbLogStore.js';
import { hostPort, parseFlags } from '../flags.js';
import { Member } from '../member.js';
import { MemberMetrics } from '../metrics.js';

async function main(): Promise<void> {
  const parsed = parseFlags(process.argv.slice(2));
  if (!parsed.ok) {
    process.stderr.write(`tern: ${parsed.error}\n`);
    process.exit(2);
  }
  const flags = parsed.flags;
  let lock: DataDirLock;
  try {
    lock = DataDirLock.acquire(flags.dataDir);
  } catch (error) {
    if (!(error instanceof DataDirLocked)) throw error;
    process.stderr.write(`tern: ${error.message}\n`);
    process.exit(1);
  }
  // One LMDB environment holds the Raft log, hard state and snapshots and the MVCC
  // records with their applied index: the backend batch applied after a write and the
  // next log write commit in one transaction, one sync (storage/lmdbEnv.ts). On start
  // the records are there already; the log after the last snapshot is only skipped through.
  const walDir = path.join(flags.dataDir, 'member', 'wal');
  mkdirSync(walDir, { recursive: true });
  const root = openLmdbEnv(walDir);
  const metrics = new MemberMetrics();
  const logStore = LmdbLogStore.onEnv(root);
  const backend = LmdbBackend.onEnv(root, {
    onCommit: (seconds) => { metrics.backendCommitSeconds.observe(seconds); },
    onError: (detail) => {
      process.stderr.write(`tern: the MVCC backend failed to commit, stopping: ${detail}\n`);
      process.exit(1);
    },
  });
  const member = await Member.start({
    logStore,
    backend,
    metrics,
    dbSizeBytes: () => allocatedBytes(path.join(walDir, 'data.mdb')),
    maxRequestBytes: flags.maxRequestBytes,
    metricsAddresses: flags.listenMetricsUrls.map((u) => hostPort(u) ?? u),
    name: flags.name,
    clientAddresses: flags.listenClientUrls.map((u) => hostPort(u) ?? u),
    peerUrls: flags.initialAdvertisePeerUrls,
    clusterToken: flags.initialClusterToken,
    heartbeatMs: flags.heartbeatMs,
    electionMs: flags.electionMs,
  });
  process.stderr.write(`tern: member ${flags.name} (id ${BigInt(member.ids.memberId).toString(16)}) `
    + `serving clients on ${flags.listenClientUrls.join(',')}, data in ${flags.dataDir}\n`);
  const stop = (): void => {
    void member.stop()
      .then(() => backend.close())
      .then(() => logStore.close())
      .then(() => root.close())
      .then(() => { lock.release(); process.exit(0); });
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  // Harnesses wait for this line before connecting (etcd prints the same phrase).
  const ready = setInterval(() => {
    if (!member.isLeader()) return;
    clearInterval(ready);
    process.stderr.write('tern: ready to serve client requests\n');
  }, 10);
}

/** The file's allocated size (LMDB's map file is sparse: its length is the map size). */
function allocatedBytes(file: string): number {
  try {
    return statSync(file).blocks * 512;
  } catch {
    return 0;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`tern: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
