// Real processes for compatibility tests: a Tern member, a real etcd, and etcdctl.

import anyTest, { registerCompletionHandler, type ExecutionContext, type TestFn } from 'ava';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../../jepsen-like/real/ports.js';

// One way of asking the kernel for a free port, shared with the jepsen-like tool.
export { freePort };

/**
 * A random base port for the bench scripts' fixed port layouts (base + 100·k + 10·i + 0/1),
 * in 10,000..29,999: below Linux's ephemeral range (32768..60999), where any outgoing
 * connection of a test running beside it may take a port between the check and the bind
 * (a CI run lost etcd's 127.0.0.1:40300 so). Ports from freePort() come from that range,
 * so they never meet these.
 */
export function benchBasePort(): number {
  return 10_000 + 1000 * Math.floor(Math.random() * 19);
}

export interface Running {
  readonly process: ChildProcess;
  readonly endpoint: string;
  stop(): Promise<number | null>;
}

/**
 * How long a process may take to say it is ready. A start takes under a second on a quiet
 * machine; helpers saw 20 s pass with the load average above 20, so the bound is wide: it
 * only keeps a member that never starts from hanging the test.
 */
const READY_TIMEOUT_MS = 90_000;

/**
 * How long a stop waits after SIGTERM before SIGKILL. A member that ignores SIGTERM is a
 * bug the test must report (stop() then answers null, not 0), never a test that waits
 * forever: a worker with a live child never exits, and CI waited on one for an hour.
 */
const STOP_GRACE_MS = 30_000;

/** Every process started here that has not exited: killed when the test file's process exits, whatever failed. */
const live = new Set<ChildProcess>();
process.once('exit', () => { for (const child of live) child.kill('SIGKILL'); });
// Once a file's tests and hooks are done, a child still running is one a test failed to stop
// (a start that failed beside another, a test that threw before its stop). It would keep
// the worker from exiting, and the whole run waiting on it; it is killed, and named.
registerCompletionHandler(() => {
  for (const child of live) {
    process.stderr.write(`test/net/processes: pid ${child.pid ?? '?'} (${child.spawnargs.slice(0, 2).join(' ')}) outlived its test file; killed\n`);
    child.kill('SIGKILL');
  }
});

function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => { live.delete(child); });
}

/** Starts a process and waits until its stderr shows `readyLine`. */
function startAndWait(
  command: string, args: readonly string[], readyLine: string, endpoint: string, cleanup: () => void, cwd?: string,
  env?: NodeJS.ProcessEnv,
): Promise<Running> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(cwd === undefined ? {} : { cwd }), ...(env === undefined ? {} : { env }) });
  track(child);
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${command} never said "${readyLine}":\n${log}`)); }, READY_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      log += chunk.toString();
      if (!log.includes(readyLine)) return;
      clearTimeout(timer);
      resolve({
        process: child,
        endpoint,
        stop: () => new Promise((done) => {
          if (child.exitCode !== null || child.signalCode !== null) {
            done(child.exitCode);
            return;
          }
          const kill = setTimeout(() => { child.kill('SIGKILL'); }, STOP_GRACE_MS);
          child.once('exit', (code) => { clearTimeout(kill); cleanup(); done(code); });
          child.kill('SIGTERM');
        }),
      });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => { clearTimeout(timer); cleanup(); reject(new Error(`${command} exited ${String(code)}:\n${log}`)); });
  });
}

/** A temporary data directory; removed by `removeDataDir` (or when `startTern` owns it). */
export function tempDataDir(): string {
  return mkdtempSync(path.join(tmpdir(), 'tern-data-'));
}

export function removeDataDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** The package's `tern` bin (net/bin/tern.mjs): what an operator, npx and etcd's e2e suite exec. */
export const TERN_BIN = path.join(process.cwd(), 'net/bin/tern.mjs');

/** Runs the bin to its exit (for flags it refuses): its exit code and stderr; `env` replaces the environment. */
export function runTernToExit(args: readonly string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; stderr: string; stdout: string }> {
  return runToExit(process.execPath, [TERN_BIN, ...args], env);
}

/** Any command run to its exit (killed after 30 s: a refusal must not hang a test). */
export function runToExit(command: string, args: readonly string[], env?: NodeJS.ProcessEnv, cwd?: string): Promise<{ code: number; stderr: string; stdout: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 30_000, ...(env === undefined ? {} : { env }), ...(cwd === undefined ? {} : { cwd }) }, (error, stdout, stderr) => {
      resolve({ code: error !== null && typeof error.code === 'number' ? error.code : error === null ? 0 : -1, stderr, stdout });
    });
  });
}

/** Starts a Tern member (on `port` if given: a restart keeps its address). With no `dataDir`, it gets a temporary one, removed when it stops. */
export function startTern(options: { dataDir?: string; port?: number; extraArgs?: readonly string[] } = {}): Promise<Running> {
  return withPortRetry(() => startTernOnce(options));
}

async function startTernOnce(options: { dataDir?: string; port?: number; extraArgs?: readonly string[] }): Promise<Running> {
  const [port, peerPort] = [options.port ?? await freePort(), await freePort()];
  const dataDir = options.dataDir ?? tempDataDir();
  const cleanup = options.dataDir === undefined ? (): void => { removeDataDir(dataDir); } : (): void => undefined;
  // Only the listening peer port is free-chosen: the advertised peer URL stays etcd's
  // default, so the member and cluster ids equal a default etcd's.
  return startAndWait(process.execPath, [
    TERN_BIN, '--listen-client-urls', `http://127.0.0.1:${port}`, '--listen-peer-urls', `http://127.0.0.1:${peerPort}`, '--data-dir', dataDir,
    ...(options.extraArgs ?? []),
  ], 'ready to serve client requests', `127.0.0.1:${port}`, cleanup);
}

/** Starts real etcd; on `dataDir` if given (e.g. made by `etcdctl snapshot restore`), else a fresh one; `extraArgs` appended. */
export function startEtcd(options: { dataDir?: string; extraArgs?: readonly string[] } = {}): Promise<Running> {
  return withPortRetry(() => startEtcdOnce(options));
}

async function startEtcdOnce(options: { dataDir?: string; extraArgs?: readonly string[] }): Promise<Running> {
  const [client, peer] = [await freePort(), await freePort()];
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-etcd-'));
  return startAndWait('etcd', [
    '--data-dir', options.dataDir ?? path.join(dir, 'data'),
    '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, ...(options.extraArgs ?? []),
  ], 'ready to serve client requests', `127.0.0.1:${client}`, () => { rmSync(dir, { recursive: true, force: true }); });
}

export interface Outcome {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/** `cwd`: where etcdctl runs (a unix:// endpoint names a socket file relative to it). */
export function etcdctl(endpoint: string, args: readonly string[], input?: string, cwd?: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = execFile('etcdctl', ['--endpoints', endpoint, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, ...(cwd === undefined ? {} : { cwd }) },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ stdout, stderr, code });
      });
    if (input !== undefined) child.stdin?.end(input);
  });
}

interface Stoppable { stop(): Promise<unknown> }

function stoppable(value: unknown): value is Stoppable {
  return typeof value === 'object' && value !== null && 'stop' in value && typeof value.stop === 'function';
}

/**
 * Two starts at once, as Promise.all would, except that when one fails the other's server
 * (anything with a `stop`) is stopped before the failure is rethrown: a child left running
 * keeps the ava worker alive, and a CI run waited 20 minutes on one.
 */
export async function startBoth<A, B>(first: Promise<A>, second: Promise<B>): Promise<[A, B]> {
  const [a, b] = await Promise.allSettled([first, second]);
  if (a.status === 'fulfilled' && b.status === 'fulfilled') return [a.value, b.value];
  const started = [a, b].flatMap((s) => (s.status === 'fulfilled' && stoppable(s.value) ? [s.value] : []));
  await Promise.all(started.map((s) => s.stop().catch(() => undefined)));
  throw a.status === 'rejected' ? a.reason : (b as PromiseRejectedResult).reason;
}

/** One member of a cluster started by `startTernCluster` or `startEtcdCluster`. */
export interface ClusterMember {
  readonly name: string;
  readonly endpoint: string;
  readonly peerUrl: string;
  readonly dataDir: string;
  /** The running process, or null while killed. */
  running: Running | null;
}

/** A real Tern and a real etcd 3.4 side by side, for one whole test file. */
export interface SideBySide {
  readonly tern: Running;
  readonly etcd: Running;
}

/** ava's `test` with both started before the file's tests and stopped after them, also when one fails. */
export function sideBySideTest(): TestFn<SideBySide> {
  const test = anyTest as TestFn<SideBySide>;
  test.before(async (t) => {
    const [tern, etcd] = await startBoth(startTern(), startEtcd());
    t.context = { tern, etcd };
  });
  test.after.always(async (t) => {
    await Promise.all([t.context.tern.stop(), t.context.etcd.stop()]);
  });
  return test;
}

export interface RunningCluster {
  readonly members: readonly ClusterMember[];
  readonly endpoints: string;
  /** SIGKILL: no clean shutdown, as a crash. */
  kill(index: number): Promise<void>;
  /** Starts a killed member again on its data dir (its flags unchanged, as etcd's docs say; `extraArgs` added). */
  restart(index: number, extraArgs?: readonly string[]): Promise<void>;
  /** Stops every member and removes the data dirs. */
  stop(): Promise<void>;
}

const READY = 'ready to serve client requests';

/** A Tern binary with exactly these flags; `endpoint` is where its clients connect; `env` replaces the environment. */
export function startTernProcess(args: readonly string[], endpoint: string, cwd?: string, env?: NodeJS.ProcessEnv): Promise<Running> {
  return startAndWait(process.execPath, [TERN_BIN, ...args], READY, endpoint, () => undefined, cwd, env);
}

/** Like startTernProcess (or real etcd with `kind` 'etcd'), ready once its output shows `line` (a member that never serves says other things). */
export function startMemberUntil(kind: 'tern' | 'etcd', args: readonly string[], endpoint: string, line: string): Promise<Running> {
  const [command, argv] = kind === 'etcd' ? ['etcd', args] : [process.execPath, [TERN_BIN, ...args]];
  return startAndWait(command, argv, line, endpoint, () => undefined);
}

/** `etcd gateway start` (real etcd's, or Tern's with the same arguments), ready once it says so. */
export function startGatewayProcess(kind: 'tern' | 'etcd', args: readonly string[], endpoint: string): Promise<Running> {
  const [command, argv] = kind === 'etcd' ? ['etcd', ['gateway', 'start', ...args]] : [process.execPath, [TERN_BIN, 'gateway', 'start', ...args]];
  return startAndWait(command, argv, 'ready to proxy client requests', endpoint, () => undefined);
}

/** `etcd grpc-proxy start` (real etcd's, or Tern's with the same arguments), ready once it says it started. */
export function startGrpcProxyProcess(kind: 'tern' | 'etcd', args: readonly string[], endpoint: string): Promise<Running> {
  const [command, argv] = kind === 'etcd' ? ['etcd', ['grpc-proxy', 'start', ...args]] : [process.execPath, [TERN_BIN, 'grpc-proxy', 'start', ...args]];
  return startAndWait(command, argv, 'started gRPC proxy', endpoint, () => undefined);
}

/** A real etcd with exactly these flags. */
export function startEtcdProcess(args: readonly string[], endpoint: string): Promise<Running> {
  return startAndWait('etcd', args, READY, endpoint, () => undefined);
}

/**
 * n members on 127.0.0.1 with free ports, started together with etcd's flags
 * (`--initial-cluster`, token `etcd-cluster-1`, names infra1..n): a Tern binary or a
 * real etcd, so the two can be compared.
 */
export interface Schemes {
  readonly client: 'http' | 'https';
  readonly peer: 'http' | 'https';
}

const PLAIN: Schemes = { client: 'http', peer: 'http' };

async function startCluster(kind: 'tern' | 'etcd', n: number, extraArgs: readonly string[], schemes: Schemes): Promise<RunningCluster> {
  const root = mkdtempSync(path.join(tmpdir(), `tern-${kind}-cluster-`));
  const members: ClusterMember[] = [];
  for (let i = 1; i <= n; i++) {
    const [client, peer] = [await freePort(), await freePort()];
    members.push({ name: `infra${i}`, endpoint: `127.0.0.1:${client}`, peerUrl: `${schemes.peer}://127.0.0.1:${peer}`, dataDir: path.join(root, `infra${i}`), running: null });
  }
  const initialCluster = members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  const launch = async (m: ClusterMember, more: readonly string[] = []): Promise<void> => {
    const args = [
      ...more,
      '--name', m.name, '--data-dir', m.dataDir,
      '--listen-client-urls', `${schemes.client}://${m.endpoint}`, '--advertise-client-urls', `${schemes.client}://${m.endpoint}`,
      '--listen-peer-urls', m.peerUrl, '--initial-advertise-peer-urls', m.peerUrl,
      '--initial-cluster-token', 'etcd-cluster-1', '--initial-cluster', initialCluster, '--initial-cluster-state', 'new',
      ...extraArgs,
    ];
    const [command, argv] = kind === 'etcd' ? ['etcd', args] : [process.execPath, [TERN_BIN, ...args]];
    m.running = await startAndWait(command, argv, READY, m.endpoint, () => undefined);
  };
  const cluster: RunningCluster = {
    members,
    endpoints: members.map((m) => m.endpoint).join(','),
    kill: async (index) => {
      const m = members[index];
      const child = m?.running?.process;
      if (m === undefined || child === undefined) return;
      await new Promise((done) => { child.once('exit', done); child.kill('SIGKILL'); });
      m.running = null;
    },
    restart: async (index, more) => {
      const m = members[index];
      if (m !== undefined) await launch(m, more);
    },
    stop: async () => {
      await Promise.all(members.map((m) => m.running?.stop() ?? Promise.resolve(null)));
      rmSync(root, { recursive: true, force: true });
    },
  };
  // Wait for every launch before giving up on one: none may outlive a failed start.
  const failed = (await Promise.allSettled(members.map((m) => launch(m)))).find((r) => r.status === 'rejected');
  if (failed !== undefined) {
    await cluster.stop();
    throw failed.reason;
  }
  return cluster;
}

/**
 * A free port may be taken by a parallel test between `freePort` and the bind: retry with
 * new ports (a port the caller chose stays; the others are drawn again). Two CI runs lost
 * a single-member start this way (EADDRINUSE) before single starts retried too.
 */
async function withPortRetry<T>(start: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (attempt >= 3 || !(error instanceof Error) || !/EADDRINUSE|address already in use/.test(error.message)) throw error;
    }
  }
}

export function startTernCluster(n: number, extraArgs: readonly string[] = [], schemes: Schemes = PLAIN): Promise<RunningCluster> {
  return withPortRetry(() => startCluster('tern', n, extraArgs, schemes));
}

export function startEtcdCluster(n: number, extraArgs: readonly string[] = [], schemes: Schemes = PLAIN): Promise<RunningCluster> {
  return withPortRetry(() => startCluster('etcd', n, extraArgs, schemes));
}

/** A long-running etcdctl (watch, elect, watch -i): its output so far, and a way to stop it. */
export interface EtcdctlChild {
  readonly stdout: () => string;
  readonly stderr: () => string;
  /** Writes a line to its stdin (interactive commands). */
  send(line: string): void;
  /** Resolves once `done(stdout)` holds, or after `timeoutMs` (then the caller's comparison shows what came). */
  waitFor(done: (stdout: string) => boolean, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then the exit code (null when it died by the signal). */
  stop(): Promise<number | null>;
  /** Resolves with the exit code when it exits by itself. */
  exited(): Promise<number | null>;
}

export function spawnEtcdctl(endpoint: string, args: readonly string[]): EtcdctlChild {
  const child = spawn('etcdctl', ['--endpoints', endpoint, ...args], {
    env: { ...process.env, ETCDCTL_API: '3' }, stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let exitCode: number | null | undefined;
  const exitWaiters: ((code: number | null) => void)[] = [];
  const listeners = new Set<() => void>();
  child.stdout.on('data', (chunk: Buffer) => { out += chunk.toString(); for (const l of listeners) l(); });
  child.stderr.on('data', (chunk: Buffer) => { err += chunk.toString(); });
  track(child);
  // 'close', not 'exit': 'exit' may come before the last of stdout is read (a lock's
  // command output was missed that way), 'close' comes after the streams ended.
  child.once('close', (code) => {
    exitCode = code;
    for (const w of exitWaiters.splice(0)) w(code);
    for (const l of listeners) l();
  });
  const exited = (): Promise<number | null> => new Promise((resolve) => {
    if (exitCode !== undefined) resolve(exitCode);
    else exitWaiters.push(resolve);
  });
  return {
    stdout: () => out,
    stderr: () => err,
    send: (line) => { child.stdin.write(`${line}\n`); },
    waitFor: (done, timeoutMs = 5_000) => new Promise((resolve) => {
      const check = (): void => {
        if (!done(out) && exitCode === undefined) return;
        listeners.delete(check);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => { listeners.delete(check); resolve(); }, timeoutMs);
      listeners.add(check);
      check();
    }),
    stop: () => {
      if (exitCode === undefined) child.kill('SIGTERM');
      return exited();
    },
    exited,
  };
}

interface EndpointStatus { Endpoint: string; Status: { header: { member_id: number }; leader: number } }

/** The index of the member that is leader, as endpoint status reports it (-1 if none agree). */
export async function leaderIndex(cluster: RunningCluster): Promise<number> {
  const live = cluster.members.filter((m) => m.running !== null).map((m) => m.endpoint);
  const out = await etcdctl(live.join(','), ['endpoint', 'status', '-w', 'json']);
  if (out.code !== 0) return -1;
  const statuses = JSON.parse(out.stdout) as EndpointStatus[];
  const leader = statuses.find((s) => s.Status.leader === s.Status.header.member_id);
  return leader === undefined ? -1 : cluster.members.findIndex((m) => m.endpoint === leader.Endpoint);
}

/**
 * Runs one of the repo's scripts (`node net/bin/launch.mjs <script> …`) to its exit, in a
 * process group of its own, so that a failed or timed-out run takes the etcd and Tern
 * members it started with it (killed at teardown).
 */
export function runScript(t: ExecutionContext, args: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['net/bin/launch.mjs', ...args], { cwd: process.cwd(), detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null && child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => { stdout += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { if (stderr.length < 100_000) stderr += chunk.toString(); });
  return new Promise((resolve) => { child.once('close', (code) => { resolve({ code, stdout, stderr }); }); });
}
