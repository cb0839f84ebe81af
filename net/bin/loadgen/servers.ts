// Starts a real etcd or a Tern cluster (1 or 3 members) on loopback for the server
// benchmark, with the same etcd flags for both, each member in a temporary data dir.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export type ServerKind = 'etcd' | 'tern';

export interface RunningCluster {
  readonly kind: ServerKind;
  readonly endpoints: readonly string[];
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

const TERN_BIN = fileURLToPath(new URL('../tern.js', import.meta.url));

/** Ports: member i uses base + 10·i (client) and base + 10·i + 1 (peer). */
export async function startCluster(kind: ServerKind, members: number, basePort: number): Promise<RunningCluster> {
  const dir = mkdtempSync(path.join(tmpdir(), `bench-${kind}-`));
  const names = Array.from({ length: members }, (_, i) => `m${i}`);
  const peer = (i: number): string => `http://127.0.0.1:${basePort + 10 * i + 1}`;
  const client = (i: number): string => `http://127.0.0.1:${basePort + 10 * i}`;
  const initialCluster = names.map((n, i) => `${n}=${peer(i)}`).join(',');
  const children: ChildProcess[] = [];
  const ready = names.map((name, i) => {
    const flags = [
      '--name', name, '--data-dir', path.join(dir, name),
      '--listen-client-urls', client(i), '--advertise-client-urls', client(i),
      '--listen-peer-urls', peer(i), '--initial-advertise-peer-urls', peer(i),
      '--initial-cluster', initialCluster, '--initial-cluster-state', 'new', '--initial-cluster-token', `bench-${kind}`,
    ];
    const child = kind === 'etcd'
      ? spawn('etcd', flags, { stdio: ['ignore', 'ignore', 'pipe'] })
      : spawn(process.execPath, [TERN_BIN, ...flags], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.push(child);
    return new Promise<void>((resolve, reject) => {
      let log = '';
      const timer = setTimeout(() => { reject(new Error(`${kind} ${name} not ready after 30 s:\n${log.slice(-2000)}`)); }, 30_000);
      child.stderr.on('data', (chunk: Buffer) => {
        if (log.length < 100_000) log += chunk.toString();
        if (log.includes('ready to serve client requests')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`${kind} ${name} exited ${String(code)}:\n${log.slice(-2000)}`)); });
    });
  });
  const stop = async (): Promise<void> => {
    await Promise.all(children.map((c) => new Promise<void>((resolve) => {
      if (c.exitCode !== null || c.signalCode !== null) {
        resolve();
        return;
      }
      c.once('exit', () => { resolve(); });
      c.kill('SIGTERM');
    })));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(ready);
  } catch (error) {
    await stop();
    throw error;
  }
  for (const c of children) c.removeAllListeners('exit');
  return {
    kind,
    endpoints: names.map((_, i) => client(i).slice('http://'.length)),
    pids: children.map((c) => c.pid ?? 0),
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
