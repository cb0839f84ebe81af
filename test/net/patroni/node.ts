// One Patroni node (Debian patroni 3.0.2 with PostgreSQL 15) for test/net/patroni.test.ts:
// its configuration, its process, and the cleanup of the postgres it leaves behind.
// Patroni refuses to run as root, so under root it runs as user postgres (setpriv execs,
// so the pid we hold is Patroni's own and a signal reaches it, not a wrapper).

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';

export const PG_BIN = '/usr/lib/postgresql/15/bin';
export const SUPERUSER_PASSWORD = 'tern-super';

/** Short DCS timings so the scenarios take seconds: Patroni's leader key lives `ttl` s, renewed every `loop_wait` s. */
export const DCS = { ttl: 10, loop_wait: 2, retry_timeout: 5 } as const;

export interface NodeSpec {
  readonly scope: string;
  readonly name: string;
  /** Root of this node's files (config, data dir, socket dir, log). */
  readonly dir: string;
  readonly restPort: number;
  readonly pgPort: number;
  /** host:port of every Tern member. */
  readonly dcsHosts: readonly string[];
}

/** Why Patroni cannot run here, or null when it can. */
export function missingPatroni(): string | null {
  for (const file of ['/usr/bin/patroni', '/usr/bin/patronictl', `${PG_BIN}/initdb`, `${PG_BIN}/postgres`, `${PG_BIN}/psql`]) {
    if (!existsSync(file)) return `${file} is missing (apt-get install patroni python3-etcd postgresql-15)`;
  }
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import patroni, etcd, psycopg2'], { encoding: 'utf8', timeout: 60_000 });
  if (probe.status !== 0) return `Patroni's Python modules do not import: ${probe.stderr.trim().split('\n').pop() ?? String(probe.error)}`;
  if (isRoot() && spawnSync('id', ['-u', 'postgres']).status !== 0) return 'running as root and there is no postgres user to run Patroni as';
  return null;
}

function isRoot(): boolean {
  return process.getuid?.() === 0;
}

/** The command prefix that runs a program as the user Patroni accepts. */
function asPostgres(command: string, args: readonly string[]): [string, string[]] {
  if (!isRoot()) return [command, [...args]];
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', command, ...args]];
}

/** Gives the test's files to user postgres (under root), so postgres can create its data dir there. */
export function ownByPostgres(dir: string): void {
  if (!isRoot()) return;
  const result = spawnSync('chown', ['-R', 'postgres:postgres', dir], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`chown ${dir}: ${result.stderr}`);
}

export function configPath(spec: NodeSpec): string {
  return path.join(spec.dir, 'patroni.yml');
}

export function dataDir(spec: NodeSpec): string {
  return path.join(spec.dir, 'data');
}

/** The YAML file, written as JSON (YAML's subset): what §5.4 of real-clients.md ran against etcd. */
export function writeConfig(spec: NodeSpec): void {
  mkdirSync(spec.dir, { recursive: true });
  const rest = `127.0.0.1:${spec.restPort}`;
  const pg = `127.0.0.1:${spec.pgPort}`;
  const config = {
    scope: spec.scope,
    name: spec.name,
    log: { level: 'INFO' },
    restapi: { listen: rest, connect_address: rest },
    etcd3: { hosts: spec.dcsHosts },
    bootstrap: {
      dcs: { ...DCS, maximum_lag_on_failover: 1048576, postgresql: { use_pg_rewind: true, parameters: { wal_log_hints: 'on' } } },
      initdb: [{ encoding: 'UTF8' }, { locale: 'C' }],
    },
    postgresql: {
      listen: pg,
      connect_address: pg,
      data_dir: dataDir(spec),
      bin_dir: PG_BIN,
      pgpass: path.join(spec.dir, 'pgpass'),
      authentication: {
        superuser: { username: 'postgres', password: SUPERUSER_PASSWORD },
        replication: { username: 'replicator', password: 'tern-repl' },
      },
      // Far from Debian's own cluster: its socket and port stay out of the way.
      parameters: { unix_socket_directories: spec.dir, shared_buffers: '16MB', fsync: 'off' },
      pg_hba: [
        'local all all trust',
        'host all all 127.0.0.1/32 md5',
        'host replication replicator 127.0.0.1/32 md5',
      ],
    },
    tags: { nofailover: false, noloadbalance: false, clonefrom: false, nosync: false },
  };
  writeFileSync(configPath(spec), `${JSON.stringify(config, null, 2)}\n`);
}

export interface PatroniProcess {
  readonly spec: NodeSpec;
  readonly child: ChildProcess;
  /** The last part of its log (for a failure message). */
  logTail(): string;
  /** The log's length now: `logSince` reads on from it. */
  logMark(): number;
  /** The log's lines written since `mark` that are not the loop's "no action" (at most 30). */
  logSince(mark: number): string[];
}

export function logPath(spec: NodeSpec): string {
  return path.join(spec.dir, 'patroni.log');
}

/** Starts `patroni <config>`; its output goes to patroni.log in its dir. */
export function startPatroni(spec: NodeSpec): PatroniProcess {
  const log = openSync(logPath(spec), 'a');
  const [command, args] = asPostgres('/usr/bin/patroni', [configPath(spec)]);
  const child = spawn(command, args, { stdio: ['ignore', log, log], env: { ...process.env, HOME: spec.dir, PGPASSFILE: path.join(spec.dir, 'pgpass') } });
  closeSync(log);
  return {
    spec,
    child,
    logTail: () => {
      try {
        return readFileSync(logPath(spec), 'utf8').split('\n').slice(-40).join('\n');
      } catch {
        return '';
      }
    },
    logMark: () => {
      try {
        return statSync(logPath(spec)).size;
      } catch {
        return 0;
      }
    },
    logSince: (mark) => {
      try {
        return readFileSync(logPath(spec)).subarray(mark).toString('utf8').split('\n')
          .filter((line) => /^\d{4}-/.test(line) && !line.includes('INFO: no action')).slice(0, 30);
      } catch {
        return [];
      }
    },
  };
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

function waitExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (exited(child)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => { child.off('exit', onExit); resolve(false); }, timeoutMs);
    const onExit = (): void => { clearTimeout(timer); resolve(true); };
    child.once('exit', onExit);
  });
}

/** Pids of live processes whose command line names `dir` (the postmaster and its children run with `-D <data dir>`). */
export function processesUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv.some((arg) => arg === dir || arg.startsWith(`${dir}/`))) pids.push(Number(entry));
    } catch {
      // The process ended between readdir and read.
    }
  }
  return pids;
}

function postmasterPid(spec: NodeSpec): number | null {
  try {
    const first = readFileSync(path.join(dataDir(spec), 'postmaster.pid'), 'utf8').split('\n')[0];
    const pid = Number(first);
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGTERM to Patroni (it stops its postgres, then exits); SIGKILL if it has not exited
 * within `graceMs`. Then every process still running on this node's data dir (a postmaster
 * Patroni left behind, its backends) is SIGKILLed by pid. Returns what had to be killed.
 */
export async function stopPatroni(node: PatroniProcess, graceMs = 30_000): Promise<string[]> {
  const forced: string[] = [];
  if (!exited(node.child)) {
    node.child.kill('SIGTERM');
    if (!await waitExit(node.child, graceMs)) {
      forced.push(`patroni ${String(node.child.pid)}`);
      node.child.kill('SIGKILL');
      await waitExit(node.child, 10_000);
    }
  }
  forced.push(...await killLeftovers(node.spec));
  return forced;
}

/** SIGKILL by pid of every postgres of this node that outlived its Patroni. */
export async function killLeftovers(spec: NodeSpec): Promise<string[]> {
  const pids = new Set(processesUsing(dataDir(spec)));
  const postmaster = postmasterPid(spec);
  // The pid file can outlive its process (a SIGKILLed postmaster): only a live one that runs postgres counts.
  if (postmaster !== null && alive(postmaster) && readCmd(postmaster).includes('postgres')) pids.add(postmaster);
  // Backends rename themselves ("postgres: pg1: checkpointer"): found as the postmaster's children.
  for (const pid of childrenOf(pids)) pids.add(pid);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  const deadline = Date.now() + 10_000;
  while ([...pids].some(alive) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return [...pids].map((pid) => `postgres ${pid}`);
}

/** Live processes whose parent is one of `parents`. */
function childrenOf(parents: ReadonlySet<number>): number[] {
  if (parents.size === 0) return [];
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // Field 4 of stat, after the parenthesised command (which may contain spaces).
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (parents.has(ppid)) children.push(Number(entry));
    } catch {
      // The process ended between readdir and read.
    }
  }
  return children;
}

function readCmd(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return '';
  }
}
