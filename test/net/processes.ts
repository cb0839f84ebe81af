// Real processes for compatibility tests: a Tern member, a real etcd, and etcdctl.

import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => { resolve(port); });
    });
  });
}

export interface Running {
  readonly process: ChildProcess;
  readonly endpoint: string;
  stop(): Promise<number | null>;
}

/** Starts a process and waits until its stderr shows `readyLine`. */
function startAndWait(command: string, args: readonly string[], readyLine: string, endpoint: string, cleanup: () => void): Promise<Running> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`${command} never said "${readyLine}":\n${log}`)); }, 20_000);
    const onData = (chunk: Buffer): void => {
      log += chunk.toString();
      if (!log.includes(readyLine)) return;
      clearTimeout(timer);
      resolve({
        process: child,
        endpoint,
        stop: () => new Promise((done) => {
          child.once('exit', (code) => { cleanup(); done(code); });
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

/** Starts a Tern member (on `port` if given: a restart keeps its address). With no `dataDir`, it gets a temporary one, removed when it stops. */
export async function startTern(options: { dataDir?: string; port?: number } = {}): Promise<Running> {
  const port = options.port ?? await freePort();
  const bin = path.join(process.cwd(), 'build/net/bin/tern.js');
  const dataDir = options.dataDir ?? tempDataDir();
  const cleanup = options.dataDir === undefined ? (): void => { removeDataDir(dataDir); } : (): void => undefined;
  return startAndWait(process.execPath, [bin, '--listen-client-urls', `http://127.0.0.1:${port}`, '--data-dir', dataDir],
    'ready to serve client requests', `127.0.0.1:${port}`, cleanup);
}

/** Starts real etcd; on `dataDir` if given (e.g. made by `etcdctl snapshot restore`), else a fresh one. */
export async function startEtcd(options: { dataDir?: string } = {}): Promise<Running> {
  const [client, peer] = [await freePort(), await freePort()];
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-etcd-'));
  return startAndWait('etcd', [
    '--data-dir', options.dataDir ?? path.join(dir, 'data'),
    '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`,
  ], 'ready to serve client requests', `127.0.0.1:${client}`, () => { rmSync(dir, { recursive: true, force: true }); });
}

export interface Outcome {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

export function etcdctl(endpoint: string, args: readonly string[], input?: string): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = execFile('etcdctl', ['--endpoints', endpoint, ...args], { env: { ...process.env, ETCDCTL_API: '3' } },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ stdout, stderr, code });
      });
    if (input !== undefined) child.stdin?.end(input);
  });
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
  child.once('exit', (code) => {
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
