// Starts a real etcd or a Tern cluster (1 or 3 members) on loopback for the server
// benchmark, with the same etcd flags for both, each member in a temporary data dir.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type ServerKind = 'etcd' | 'tern';
/** A server that does no work (nullServer.ts): the transport's ceiling, one member only. */
export type NullServerKind = 'grpc-js-null' | 'http2-null';

export interface RunningCluster {
  readonly kind: ServerKind | NullServerKind;
  readonly endpoints: readonly string[];
  /** The members' current pids (a restart changes one). */
  pids(): readonly number[];
  /** Exec of every member to the last one's "ready to serve client requests", in ms. */
  readonly startMs: number;
  /** SIGKILLs member i, starts it again on its data dir with its flags: exec to ready, in ms. */
  killAndRestart(i: number): Promise<number>;
  stop(): Promise<void>;
}

// The package's bin, as an operator runs it (it starts the compiled member without building).
const TERN_BIN = fileURLToPath(new URL('../../../../net/bin/tern.mjs', import.meta.url));
const NULL_SERVER = fileURLToPath(new URL('./nullServer.js', import.meta.url));
const READY_WAIT_MS = 30_000;

/** Spawns one member and resolves once it says it is ready (rejects if it exits first). */
function spawnReady(kind: ServerKind | NullServerKind, name: string, flags: readonly string[]): { child: ChildProcess; ready: Promise<void> } {
  const command = kind === 'etcd' ? 'etcd' : process.execPath;
  const args = kind === 'etcd' ? flags
    : kind === 'tern' ? [TERN_BIN, ...flags]
      : [NULL_SERVER, '--transport', kind === 'grpc-js-null' ? 'grpc-js' : 'http2', ...flags];
  const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const ready = new Promise<void>((resolve, reject) => {
    let log = '';
    const timer = setTimeout(() => { reject(new Error(`${kind} ${name} not ready after 30 s:\n${log.slice(-2000)}`)); }, READY_WAIT_MS);
    const onExit = (code: number | null): void => { clearTimeout(timer); reject(new Error(`${kind} ${name} exited ${String(code)}:\n${log.slice(-2000)}`)); };
    child.stderr.on('data', (chunk: Buffer) => {
      if (log.length < 100_000) log += chunk.toString();
      if (!log.includes('ready to serve client requests')) return;
      clearTimeout(timer);
      child.removeListener('exit', onExit);
      resolve();
    });
    child.once('exit', onExit);
  });
  return { child, ready };
}

function stopChild(c: ChildProcess, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (c.exitCode !== null || c.signalCode !== null) {
      resolve();
      return;
    }
    c.once('exit', () => { resolve(); });
    c.kill(signal);
  });
}

/** Ports: member i uses base + 10·i (client) and base + 10·i + 1 (peer). */
/** TLS on the client port: the server's files (flags) for both etcd and Tern. */
export interface ServerTlsFlags {
  readonly flags: readonly string[];
}

export async function startCluster(kind: ServerKind | NullServerKind, members: number, basePort: number, tls?: ServerTlsFlags): Promise<RunningCluster> {
  if (kind !== 'etcd' && kind !== 'tern' && (members !== 1 || tls !== undefined)) throw new Error(`${kind} runs as one plain-text member`);
  const scheme = tls === undefined ? 'http' : 'https';
  const dir = mkdtempSync(path.join(tmpdir(), `bench-${kind}-`));
  const names = Array.from({ length: members }, (_, i) => `m${i}`);
  const peer = (i: number): string => `http://127.0.0.1:${basePort + 10 * i + 1}`;
  const client = (i: number): string => `${scheme}://127.0.0.1:${basePort + 10 * i}`;
  const initialCluster = names.map((n, i) => `${n}=${peer(i)}`).join(',');
  const flagsOf = (i: number): string[] => [
    '--name', names[i] ?? '', '--data-dir', path.join(dir, names[i] ?? ''),
    '--listen-client-urls', client(i), '--advertise-client-urls', client(i),
    '--listen-peer-urls', peer(i), '--initial-advertise-peer-urls', peer(i),
    '--initial-cluster', initialCluster, '--initial-cluster-state', 'new', '--initial-cluster-token', `bench-${kind}`,
    ...(tls?.flags ?? []),
  ];
  const began = performance.now();
  const spawned = names.map((name, i) => spawnReady(kind, name, flagsOf(i)));
  const children = spawned.map((s) => s.child);
  const stop = async (): Promise<void> => {
    await Promise.all(children.map((c) => stopChild(c, 'SIGTERM')));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(spawned.map((s) => s.ready));
  } catch (error) {
    await stop();
    throw error;
  }
  const startMs = performance.now() - began;
  return {
    kind,
    endpoints: names.map((_, i) => client(i).slice(`${scheme}://`.length)),
    pids: () => children.map((c) => c.pid ?? 0),
    startMs,
    killAndRestart: async (i) => {
      const old = children[i];
      if (old === undefined) throw new Error(`no member ${i}`);
      await stopChild(old, 'SIGKILL');
      const restarted = performance.now();
      const again = spawnReady(kind, names[i] ?? '', flagsOf(i));
      children[i] = again.child;
      await again.ready;
      return performance.now() - restarted;
    },
    stop,
  };
}

/** CPU seconds (user + system) a process has used so far, from /proc. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14, 15)
  return ticks / 100; // USER_HZ is 100 on Linux
}
