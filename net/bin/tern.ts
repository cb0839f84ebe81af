// The Tern member binary: `npm start -- <etcd flags>`. Serves etcd's KV, Watch, Lease,
// Cluster, Maintenance and Auth APIs (gRPC) and /health, /version, /metrics (HTTP) on
// --listen-client-urls, and Tern's peer protocol on --listen-peer-urls. The Raft log
// and the MVCC records live in LMDB under --data-dir, the membership record beside
// them, so a restart resumes.

import { mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { TokenProvider } from '../../core/auth/tokens.js';
import type { AutoCompaction } from '../../core/server/autoCompactor.js';
import { DataDirLock, DataDirLocked } from '../../storage/dataDirLock.js';
import { LmdbBackend } from '../../storage/lmdbBackend.js';
import { openLmdbEnv } from '../../storage/lmdbEnv.js';
import { LmdbLogStore } from '../../storage/lmdbLogStore.js';
import { parseFlags, type Flags } from '../config/flags.js';
import { hostPort, listenAddressOf } from '../config/urls.js';
import { bcryptPasswords } from '../auth/passwords.js';
import { tokenProviderFor } from '../auth/tokenProviders.js';
import { TlsFileError } from '../tls/material.js';
import { memberTls, type MemberTls } from '../tls/memberTls.js';
import { Member, type MemberOptions } from '../member/member.js';
import { MemberMetrics } from '../metrics/memberMetrics.js';
import { bootstrapMembership } from '../peer/bootstrap.js';
import type { Membership } from '../peer/membership.js';

const say = (line: string): void => { process.stderr.write(`tern: ${line}\n`); };

async function main(): Promise<void> {
  const flags = flagsOrExit(process.argv.slice(2));
  if (flags.initialCorruptCheck) say('--experimental-initial-corrupt-check accepted, no effect yet');
  const tls = await tlsOrExit(flags);
  const tokens = tokensOrExit(flags);
  const lock = lockOrExit(flags.dataDir);
  const memberDir = path.join(flags.dataDir, 'member');
  const walDir = path.join(memberDir, 'wal');
  mkdirSync(walDir, { recursive: true });
  const boot = await bootstrapMembership(flags, path.join(memberDir, 'members.json'), tls.peerChannel);
  if (!boot.ok) {
    say(boot.error);
    lock.release();
    process.exit(1);
  }
  const metrics = new MemberMetrics();
  const storage = openStorage(walDir, metrics);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void member.stop()
      .then(() => storage.close())
      .then(() => { lock.release(); process.exit(0); });
  };
  const member: Member = await Member.start({
    ...memberOptions(flags, boot.membership),
    tls,
    tokens,
    passwords: bcryptPasswords(flags.auth.bcryptCost),
    logStore: storage.logStore,
    backend: storage.backend,
    metrics,
    dbSizeBytes: () => allocatedBytes(path.join(walDir, 'data.mdb')),
    onRemoved: () => {
      say('the member has been permanently removed from the cluster');
      stop();
    },
  });
  say(`member ${flags.name} (id ${boot.membership.selfId.toString(16)}, cluster ${boot.membership.clusterId.toString(16)}) `
    + `serving clients on ${flags.listenClientUrls.join(',')}, peers on ${flags.listenPeerUrls.join(',')}, data in ${flags.dataDir}`);
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  announceReady(member, flags, boot.membership.clusterId);
}

/** The flags, or exit as etcd does on a bad one (2: does not parse; 1: does not fit). */
function flagsOrExit(argv: readonly string[]): Flags {
  const parsed = parseFlags(argv);
  if (parsed.ok) return parsed.flags;
  say(parsed.error);
  return process.exit(parsed.exitCode);
}

/** The --auth-token provider with its key files read; exit 1 with etcd's text if they are unusable. */
function tokensOrExit(flags: Flags): TokenProvider {
  for (const warning of flags.auth.warnings) say(warning);
  const made = tokenProviderFor(flags.auth, (file) => readFileSync(file));
  if (made.ok) return made.provider;
  say(made.error);
  return process.exit(made.exitCode);
}

/** The TLS files, read and checked; exit 1 with etcd's text if one is bad (as etcdmain does). */
async function tlsOrExit(flags: Flags): Promise<MemberTls> {
  try {
    return await memberTls({ tls: flags.tls, dataDir: flags.dataDir, listenClientUrls: flags.listenClientUrls, listenPeerUrls: flags.listenPeerUrls });
  } catch (error) {
    if (!(error instanceof TlsFileError)) throw error;
    say(error.message);
    return process.exit(1);
  }
}

/** The data directory, held against a second member (exit 1 if another holds it). */
function lockOrExit(dataDir: string): DataDirLock {
  try {
    return DataDirLock.acquire(dataDir);
  } catch (error) {
    if (!(error instanceof DataDirLocked)) throw error;
    say(error.message);
    return process.exit(1);
  }
}

interface Storage {
  readonly logStore: LmdbLogStore;
  readonly backend: LmdbBackend;
  /** Closes the backend, the log store and their environment, in that order. */
  close(): Promise<void>;
}

/**
 * One LMDB environment holds the Raft log, hard state and snapshots and the MVCC
 * records with their applied index: the backend batch applied after a write and the
 * next log write commit in one transaction, one sync (storage/lmdbEnv.ts). On start
 * the records are there already; the log after the last snapshot is only skipped through.
 */
function openStorage(walDir: string, metrics: MemberMetrics): Storage {
  const root = openLmdbEnv(walDir);
  const logStore = LmdbLogStore.onEnv(root);
  const backend = LmdbBackend.onEnv(root, {
    onCommit: (seconds) => { metrics.backendCommitSeconds.observe(seconds); },
    onError: (detail) => {
      say(`the MVCC backend failed to commit, stopping: ${detail}`);
      process.exit(1);
    },
  });
  return {
    logStore,
    backend,
    close: () => backend.close().then(() => logStore.close()).then(() => root.close()),
  };
}

/** What the flags say of the member to start (storage and lifecycle aside). */
function memberOptions(flags: Flags, membership: Membership): MemberOptions {
  return {
    maxRequestBytes: flags.maxRequestBytes,
    strictReconfigCheck: flags.strictReconfigCheck,
    metricsAddresses: flags.listenMetricsUrls.map((u) => hostPort(u) ?? u),
    membership,
    name: flags.name,
    clientAddresses: flags.listenClientUrls.map(listenAddressOf),
    peerAddresses: flags.listenPeerUrls.map(listenAddressOf),
    advertiseClientUrls: flags.advertiseClientUrls,
    clusterToken: flags.initialClusterToken,
    heartbeatMs: flags.heartbeatMs,
    electionMs: flags.electionMs,
    snapshotCount: flags.snapshotCount,
    quotaBackendBytes: flags.quotaBackendBytes,
    ...autoCompaction(flags),
    log: say,
  };
}

/**
 * Harnesses wait for these lines before connecting, once the member has joined a cluster
 * that has a leader (itself or another). The phrases are etcd 3.4's: etcd's e2e suite
 * waits for "enabled capabilities for version" and "published" (tests/e2e/etcd_process.go),
 * other harnesses for "ready to serve client requests".
 */
function announceReady(member: Member, flags: Flags, clusterId: bigint): void {
  const ready = setInterval(() => {
    if (!member.hasLeader()) return;
    clearInterval(ready);
    say('enabled capabilities for version 3.4');
    say(`published {Name:${flags.name} ClientURLs:[${flags.advertiseClientUrls.join(' ')}]} to cluster ${clusterId.toString(16)}`);
    say('ready to serve client requests');
  }, 10);
}

/** etcd's auto-compaction flags as the core's setting (retention 0: off, etcd's default). */
function autoCompaction(flags: Flags): { autoCompaction?: AutoCompaction } {
  if (flags.autoCompactionRetention === 0) return {};
  return flags.autoCompactionMode === 'periodic'
    ? { autoCompaction: { mode: 'periodic', retentionMs: flags.autoCompactionRetention } }
    : { autoCompaction: { mode: 'revision', retention: flags.autoCompactionRetention } };
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
  say(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
