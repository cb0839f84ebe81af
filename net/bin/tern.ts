// The Tern member binary: `npm start -- <etcd flags>`. Serves etcd's KV, Watch, Lease,
// Cluster, Maintenance and Auth APIs (gRPC) and /health, /version, /metrics (HTTP) on
// --listen-client-urls, and Tern's peer protocol on --listen-peer-urls. The Raft log
// and the MVCC records live in LMDB under --data-dir, the membership record beside
// them, so a restart resumes.

import { TEST_BUGS_VARIABLE, testBugsFrom } from '../member/testBugs.js';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { TokenProvider } from '../../core/auth/tokens.js';
import type { AutoCompaction } from '../../core/server/autoCompactor.js';
import { DataDirLock, DataDirLocked } from '../../storage/dataDirLock.js';
import { BboltBackend } from '../../storage/bboltBackend.js';
import { openLmdbEnv } from '../../storage/lmdbEnv.js';
import { LmdbLogStore } from '../../storage/lmdbLogStore.js';
import type { Flags } from '../config/flags.js';
import type { Notice } from '../config/flagSources.js';
import { flagsHelp, USAGE, versionText } from '../config/help.js';
import { parseGatewayCommand } from '../gateway-tcp/gatewayCommand.js';
import { TcpGateway } from '../gateway-tcp/tcpGateway.js';
import { Backends } from '../grpc-proxy/backends.js';
import { proxyChannelCredentials } from '../grpc-proxy/clientTls.js';
import { GrpcProxy } from '../grpc-proxy/grpcProxy.js';
import { parseGrpcProxyCommand } from '../grpc-proxy/proxyCommand.js';
import { readInvocation, type RefusalForm } from '../config/invocation.js';
import { bootLogger, loggerFor, type LogSettings } from '../log/logConfig.js';
import type { Logger } from '../log/logger.js';
import { hostPort, listenAddressOf } from '../config/urls.js';
import { bcryptPasswords } from '../auth/passwords.js';
import { tokenProviderFor } from '../auth/tokenProviders.js';
import { TlsFileError } from '../tls/material.js';
import { memberTls, servingTlsOf, type MemberTls } from '../tls/memberTls.js';
import { Member, type MemberOptions } from '../member/member.js';
import { InitialCorruption } from '../member/corruptCheck.js';
import { forceNewCluster } from '../member/forceNewCluster.js';
import { MemberMetrics } from '../metrics/memberMetrics.js';
import { bootstrapMembership } from '../peer/bootstrap.js';
import { detectEtcdDataDir, EtcdDataDirError, importEtcdDataDir, walNames, type EtcdDataDirPaths } from '../etcdData/importDataDir.js';
import type { Membership } from '../../core/membership/members.js';

/** The member's log, set up from the logging flags once they are read. */
let log: Logger = bootLogger().at('etcdmain');
const say = (line: string): void => { log.info(line); };

async function main(): Promise<void> {
  if (process.argv[2] === 'gateway') {
    await runGateway(process.argv.slice(3));
    return;
  }
  if (process.argv[2] === 'grpc-proxy') {
    await runGrpcProxy(process.argv.slice(3));
    return;
  }
  const flags = flagsOrExit(process.argv.slice(2));
  const tls = await tlsOrExit(flags);
  const tokens = tokensOrExit(flags);
  const lock = lockOrExit(flags.dataDir);
  const memberDir = path.join(flags.dataDir, 'member');
  const walDir = flags.walDir === '' ? path.join(memberDir, 'wal') : flags.walDir;
  mkdirSync(memberDir, { recursive: true });
  await importOrExit({ memberDir, walDir, membersFile: path.join(memberDir, 'members.json') }, flags, lock);
  mkdirSync(walDir, { recursive: true });
  // etcd's memberInitialized: only a member that has data runs the initial corruption check.
  const initialized = existsSync(path.join(memberDir, 'members.json'));
  const boot = await bootstrapMembership(flags, path.join(memberDir, 'members.json'), tls.peerChannel);
  if (!boot.ok) {
    log.fatal(boot.error);
    lock.release();
    process.exit(1);
  }
  const metrics = new MemberMetrics();
  const storage = openStorage(memberDir, walDir, metrics, flags);
  if (flags.forceNewCluster) await forceOrExit(storage, lock, boot.membership);
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void member.stop()
      .then(() => storage.close())
      .then(() => { lock.release(); log.close(); process.exit(0); });
  };
  const testBugs = testBugsFrom(process.env[TEST_BUGS_VARIABLE]);
  if ('error' in testBugs) {
    log.fatal(testBugs.error);
    lock.release();
    process.exit(1);
  }
  if (testBugs.bugs !== null) log.warn(`running with planted bugs for tests (${TEST_BUGS_VARIABLE}=${process.env[TEST_BUGS_VARIABLE] ?? ''}): this member is not safe`);
  const member: Member = await startOrExit(storage, lock, {
    ...memberOptions(flags, boot.membership),
    corruptCheck: { initial: flags.initialCorruptCheck && initialized, intervalMs: flags.corruptCheckTimeMs, log: log.at('etcdserver') },
    ...(testBugs.bugs === null ? {} : { testBugs: testBugs.bugs }),
    tls,
    tokens,
    passwords: bcryptPasswords(flags.auth.bcryptCost),
    logStore: storage.logStore,
    backend: storage.backend,
    metrics,
    dbSizeBytes: () => allocatedBytes(storage.backendFile),
    onRemoved: () => {
      say('the member has been permanently removed from the cluster');
      stop();
    },
  });
  say(`member ${flags.name} (id ${boot.membership.selfId.toString(16)}, cluster ${boot.membership.clusterId.toString(16)}) `
    + `serving clients on ${flags.listenClientUrls.join(',')}, peers on ${flags.listenPeerUrls.join(',')}, data in ${flags.dataDir}`
    + (flags.walDir === '' ? '' : `, log and records in ${flags.walDir}`));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  announceReady(member, flags, boot.membership);
}

/** --force-new-cluster: the log made to hold this member alone, before it starts; a disk failure exits 1. */
async function forceOrExit(storage: Storage, lock: DataDirLock, membership: Membership): Promise<void> {
  try {
    const forced = await forceNewCluster(storage.logStore, membership);
    if (forced === null) return;
    log.at('etcdserver').warn('forcing restart member', {
      'cluster-id': membership.clusterId.toString(16), 'local-member-id': membership.selfId.toString(16), 'commit-index': forced.commitIndex,
      'removed-members': forced.removed,
    }, `forcing restart of member ${membership.selfId.toString(16)} in cluster ${membership.clusterId.toString(16)} at commit index ${forced.commitIndex}, removing [${forced.removed.join(' ')}]`);
  } catch (error) {
    log.fatal((error as Error).message);
    await storage.close();
    lock.release();
    process.exit(1);
  }
}

/** Member.start; on the initial corruption check's refusal, etcdmain's fatal line and exit 1. */
async function startOrExit(storage: Storage, lock: DataDirLock, options: MemberOptions): Promise<Member> {
  try {
    return await Member.start(options);
  } catch (error) {
    if (!(error instanceof InitialCorruption)) throw error;
    log.fatal('discovery failed', { error: error.message }, error.message);
    await storage.close();
    lock.release();
    return process.exit(1);
  }
}

/** `etcd gateway start …`: the L4 proxy (net/gateway-tcp/). Runs until SIGTERM or SIGINT. */
async function runGateway(argv: readonly string[]): Promise<void> {
  const command = parseGatewayCommand(argv);
  if (typeof command === 'string') {
    process.stderr.write(`${command}\n`);
    process.exit(1);
  }
  const gatewayLog = log.at('tcpproxy');
  const gateway = new TcpGateway({ endpoints: command.endpoints, retryDelayMs: command.retryDelayMs, log: (line) => { gatewayLog.warn(line); } });
  await gateway.listen(command.listenHost, command.listenPort);
  // etcd's line, which harnesses (etcd's e2e TestGateway) wait for.
  gatewayLog.info(`ready to proxy client requests to [${command.endpoints.join(' ')}]`);
  const stop = (): void => { void gateway.close().then(() => process.exit(0)); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/** `etcd grpc-proxy start …`: the gRPC proxy (net/grpc-proxy/). Runs until SIGTERM or SIGINT. */
async function runGrpcProxy(argv: readonly string[]): Promise<void> {
  const command = parseGrpcProxyCommand(argv);
  if (typeof command === 'string') {
    process.stderr.write(`${command}\n`);
    process.exit(1);
  }
  const proxyLog = log.at('grpcproxy');
  for (const flag of command.accepted) proxyLog.info(`--${flag} is accepted and changes nothing in Tern's grpc-proxy`);
  let proxy: GrpcProxy;
  try {
    const credentials = proxyChannelCredentials(command.clientTls);
    const backends = new Backends({ endpoints: command.endpoints, credentials, maxSendBytes: command.maxSendBytes, maxRecvBytes: command.maxRecvBytes });
    const { servingTls } = command;
    const serves = servingTls.certFile !== '' || servingTls.keyFile !== '' || servingTls.trustedCaFile !== '' || servingTls.autoTls;
    const tls = serves ? await servingTlsOf(
      { ...servingTls, clientCertAuth: false, rules: { allowedCn: '', allowedHostname: '' } },
      path.join(command.dataDir, 'fixtures', 'proxy'), [`https://${command.listenHost}:${String(command.listenPort)}`], servingTls.ciphers,
    ) : null;
    tls?.material.current(); // bad files refuse the start, as etcd's do
    proxy = new GrpcProxy({
      backends, clientTls: command.clientTls, servingTls: tls, maxConcurrentStreams: command.maxConcurrentStreams,
      onRefused: (remote, reason) => { proxyLog.warn(`rejected connection from "${remote}" (${reason})`); },
    });
  } catch (error) {
    if (!(error instanceof TlsFileError)) throw error;
    process.stderr.write(`${error.message}\n`);
    process.exit(1);
  }
  const address = `${command.listenHost}:${String(command.listenPort)}`;
  try {
    await proxy.listen(command.listenHost, command.listenPort);
    if (command.metricsAddr !== null) await proxy.listenMetrics(command.metricsAddr.host, command.metricsAddr.port);
  } catch (error) {
    process.stderr.write(`listen tcp ${address}: ${(error as Error).message}\n`);
    process.exit(1);
  }
  // etcd's line, which harnesses wait for.
  proxyLog.info(`started gRPC proxy on ${address}, forwarding to [${command.endpoints.join(' ')}]`);
  const stop = (): void => { void proxy.close().then(() => process.exit(0)); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

/**
 * The flags (from the command line and ETCD_* variables, or a config file), with the
 * logger they describe set up; or exit as etcd does: help and --version 0, a flag that
 * does not parse 2, flags that do not fit 1.
 */
function flagsOrExit(argv: readonly string[]): Flags {
  const invocation = readInvocation(argv, { env: process.env, readFile: (file) => readFileSync(file, 'utf8') });
  switch (invocation.kind) {
    case 'help':
      process.stderr.write(`${USAGE}\n`);
      process.stdout.write(flagsHelp());
      return process.exit(0);
    case 'version':
      printNotices(invocation.notices);
      process.stdout.write(versionText());
      return process.exit(0);
    case 'refused':
      printNotices(invocation.notices);
      if (invocation.logging?.kind === 'zap') log = loggerOrBoot(invocation.logging);
      return exitRefused(invocation.message, invocation.form, invocation.exitCode);
    case 'run':
      printNotices(invocation.notices);
      startLogging(invocation.flags, invocation.configFile, invocation.ignoredKeys);
      return invocation.flags;
  }
}

/** etcd's pkg/flags lines, in capnslog form (etcd prints them before its logger exists). */
function printNotices(notices: readonly Notice[]): void {
  const pkgFlags = bootLogger().at('pkg/flags');
  for (const notice of notices) pkgFlags.log(notice.level, notice.text);
}

function exitRefused(message: string, form: RefusalForm, exitCode: 1 | 2): never {
  switch (form) {
    case 'usage':
      process.stderr.write(`${message}\n${USAGE}\n`);
      break;
    case 'verify':
      if (log.kind === 'zap') log.warn('failed to verify flags', { error: message });
      else log.error(`error verifying flags, ${message}. See 'etcd --help'.`);
      break;
    case 'fatal':
      bootLogger().at('pkg/flags').fatal(message);
      break;
    case 'panic':
      process.stderr.write(`panic: ${message}\n`);
      break;
    case 'error':
      log.fatal(message);
      break;
  }
  return process.exit(exitCode);
}

/** The flags' logger for a refusal; the boot logger if even that cannot be had (a log file that will not open). */
function loggerOrBoot(settings: LogSettings): Logger {
  try {
    return loggerFor(settings).at('etcdmain');
  } catch {
    return bootLogger().at('etcdmain');
  }
}

/** The logger of --logger/--log-level/--log-outputs, then what etcd says about the flags once it has one. */
function startLogging(flags: Flags, configFile: string | null, ignoredKeys: readonly string[]): void {
  for (const warning of flags.logging.warnings) process.stderr.write(`${warning}\n`);
  try {
    log = loggerFor(flags.logging).at('etcdmain');
  } catch (error) {
    exitRefused(error instanceof Error ? error.message : String(error), 'verify', 1);
  }
  if (configFile !== null) {
    log.info('loaded server configuration, other configuration command line flags and environment variables will be ignored if provided',
      { path: configFile },
      `Loading server configuration from "${configFile}". Other configuration command line flags and environment variables will be ignored if provided.`);
  }
  for (const key of ignoredKeys) log.warn(`config file key "${key}" is not one of etcd's; ignored, as etcd ignores it`, { path: configFile ?? '' });
  for (const notice of flags.notices) log.warn(notice);
}

/** The --auth-token provider with its key files read; exit 1 with etcd's text if they are unusable. */
function tokensOrExit(flags: Flags): TokenProvider {
  for (const warning of flags.auth.warnings) log.warn(warning);
  const made = tokenProviderFor(flags.auth, (file) => readFileSync(file));
  if (made.ok) return made.provider;
  log.fatal(made.error);
  return process.exit(made.exitCode);
}

/** The TLS files, read and checked; exit 1 with etcd's text if one is bad (as etcdmain does). */
async function tlsOrExit(flags: Flags): Promise<MemberTls> {
  try {
    return await memberTls({ tls: flags.tls, dataDir: flags.dataDir, listenClientUrls: flags.listenClientUrls, listenPeerUrls: flags.listenPeerUrls });
  } catch (error) {
    if (!(error instanceof TlsFileError)) throw error;
    log.fatal(error.message);
    return process.exit(1);
  }
}

/** The data directory, held against a second member (exit 1 if another holds it). */
function lockOrExit(dataDir: string): DataDirLock {
  try {
    return DataDirLock.acquire(dataDir);
  } catch (error) {
    if (!(error instanceof DataDirLocked)) throw error;
    log.fatal(error.message);
    return process.exit(1);
  }
}

/**
 * A data dir etcd 3.4 wrote (or `etcdctl snapshot restore` made), with no Tern environment
 * yet, is imported once (net/etcdData/importDataDir.ts); one that is damaged, incomplete or
 * from a newer etcd stops the member with exit 1, never a fresh cluster beside it.
 */
async function importOrExit(paths: EtcdDataDirPaths, flags: Flags, lock: DataDirLock): Promise<void> {
  const refuse = (error: unknown): never => {
    if (!(error instanceof EtcdDataDirError)) throw error;
    log.fatal('cannot boot from the etcd data dir', { 'data-dir': flags.dataDir, error: error.message },
      `cannot boot from the etcd data dir ${flags.dataDir}: ${error.message}`);
    lock.release();
    return process.exit(1);
  };
  try {
    if (detectEtcdDataDir(paths) !== 'etcd') return;
    const startedMs = Date.now();
    const passwords = bcryptPasswords(flags.auth.bcryptCost);
    const s = await importEtcdDataDir({ ...paths, hashPassword: (p) => passwords.hash(p), nowMs: startedMs });
    const took = Date.now() - startedMs;
    log.info('imported etcd data dir', {
      'data-dir': flags.dataDir, 'member-id': s.memberId.toString(16), 'cluster-id': s.clusterId.toString(16), keys: s.keys,
      revisions: s.revisions, revision: s.revision, 'compact-revision': s.compactRevision, leases: s.leases, users: s.users, roles: s.roles,
      members: s.members, 'consistent-index': s.consistentIndex, 'snapshot-index': s.snapshotIndex, 'wal-entries-replayed': s.entries,
      'wal-requests-replayed': s.requests, commit: s.commit, 'wal-torn-bytes-cut': s.tornBytes, took: `${took}ms`,
    }, `imported etcd data dir ${flags.dataDir}: ${s.keys} keys (${s.revisions} revisions, revision ${s.revision}, compacted at ${s.compactRevision}), `
      + `${s.leases} leases, ${s.users} users, ${s.roles} roles, ${s.members} members, state at index ${s.snapshotIndex}, `
      + `${s.entries} WAL entries carried (${s.requests} requests), in ${took} ms`);
  } catch (error) {
    refuse(error);
  }
}

interface Storage {
  readonly logStore: LmdbLogStore;
  readonly backend: BboltBackend;
  /** The MVCC backend's file (etcd's member/snap/db). */
  readonly backendFile: string;
  /** Commits the backend and closes it, then the log store and its environment, in that order. */
  close(): Promise<void>;
}

/**
 * The Raft log, hard state and snapshots live in one LMDB environment in the WAL dir;
 * the MVCC records with their applied index in a bbolt file laid out as etcd's backend,
 * at etcd's place, member/snap/db (storage/bboltBackend.ts) — so etcd's tools and its
 * e2e suite find it there. In a data dir imported from etcd, etcd's own db stays as it
 * was (its files are read, never changed) and Tern's is member/snap/tern.db beside it.
 * The backend commits every --backend-batch-interval (or at --backend-batch-limit
 * records) without waiting on the log: a crash loses nothing the Raft log cannot replay
 * (docs/storage.md). On start, the log after the backend's applied index is applied
 * again, the rest only skipped through.
 */
function openStorage(memberDir: string, walDir: string, metrics: MemberMetrics, flags: Flags): Storage {
  const root = openLmdbEnv(walDir);
  const logStore = LmdbLogStore.onEnv(root, { flushAfterMs: flags.backendBatchIntervalMs, maxQueued: flags.backendBatchLimit });
  const snapDir = path.join(memberDir, 'snap');
  mkdirSync(snapDir, { recursive: true });
  const backendFile = path.join(snapDir, walNames(walDir).length > 0 ? 'tern.db' : 'db');
  const fatal = (detail: string): void => {
    log.fatal(`the MVCC backend failed to commit, stopping: ${detail}`);
    process.exit(1);
  };
  const backend = BboltBackend.open(backendFile, {
    maxPending: flags.backendBatchLimit,
    onCommit: (seconds) => { metrics.backendCommitSeconds.observe(seconds); },
    onError: fatal,
  });
  const commits = setInterval(() => { backend.commit(); }, flags.backendBatchIntervalMs);
  commits.unref();
  return {
    logStore,
    backend,
    backendFile,
    close: async () => {
      clearInterval(commits);
      backend.close();
      await logStore.close();
      await root.close();
    },
  };
}

/** What the flags say of the member to start (storage and lifecycle aside). */
function memberOptions(flags: Flags, membership: Membership): MemberOptions {
  const memberLog = log.at('member');
  return {
    maxRequestBytes: flags.maxRequestBytes,
    maxConcurrentStreams: flags.maxConcurrentStreams,
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
    maxTxnOps: flags.maxTxnOps,
    preVote: flags.preVote,
    initialElectionTickAdvance: flags.initialElectionTickAdvance,
    grpcKeepalive: flags.grpcKeepalive,
    watchProgressNotifyIntervalMs: flags.watchProgressNotifyIntervalMs,
    log: (line) => { memberLog.info(line); },
  };
}

/**
 * Harnesses wait for these lines before connecting, once the member has joined a cluster
 * that has a leader (itself or another). The phrases are etcd 3.4's: etcd's e2e suite
 * waits for "enabled capabilities for version" and "published" (tests/e2e/etcd_process.go),
 * other harnesses for "ready to serve client requests" (which etcd's zap form lacks:
 * Tern writes it in both forms).
 */
function announceReady(member: Member, flags: Flags, membership: Membership): void {
  const server = log.at('etcdserver');
  const [memberId, clusterId] = [membership.selfId.toString(16), membership.clusterId.toString(16)];
  const attributes = `{Name:${flags.name} ClientURLs:[${flags.advertiseClientUrls.join(' ')}]}`;
  const ready = setInterval(() => {
    if (!member.published) return;
    clearInterval(ready);
    server.info('published local member to cluster through raft', {
      'local-member-id': memberId, 'local-member-attributes': attributes, 'request-path': `/0/members/${memberId}/attributes`, 'cluster-id': clusterId,
    }, `published ${attributes} to cluster ${clusterId}`);
    log.at('api').info('enabled capabilities for version', { 'cluster-version': '3.4' }, 'enabled capabilities for version 3.4');
    log.at('embed').info('ready to serve client requests');
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
  log.fatal(error instanceof Error ? error.message : String(error));
  process.exit(1);
});
