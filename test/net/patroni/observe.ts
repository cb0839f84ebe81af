// What the Patroni test looks at: PostgreSQL through psql, Patroni through patronictl.

import { execFile } from 'node:child_process';
import path from 'node:path';
import { PG_BIN, SUPERUSER_PASSWORD, configPath, type NodeSpec } from './node.js';

interface Ran { readonly code: number; readonly stdout: string; readonly stderr: string }

/** Bounded: a probe against a postgres that is restarting must not hang the sampler. */
const PROBE_TIMEOUT_MS = 20_000;

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: PROBE_TIMEOUT_MS, env }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1, stdout, stderr });
    });
  });
}

/** One SQL text run by psql over TCP as the superuser; stdout unaligned, tuples only. */
export function psql(spec: NodeSpec, sql: string): Promise<Ran> {
  return run(path.join(PG_BIN, 'psql'), ['-X', '-h', '127.0.0.1', '-p', String(spec.pgPort), '-U', 'postgres', '-d', 'postgres', '-Atc', sql, '-v', 'ON_ERROR_STOP=1'], {
    ...process.env, PGPASSWORD: SUPERUSER_PASSWORD, PGCONNECT_TIMEOUT: '3',
  });
}

/** 'primary', 'replica', or 'down' (no answer: stopped, restarting, refusing). */
export type PgRole = 'primary' | 'replica' | 'down';

export async function pgRole(spec: NodeSpec): Promise<PgRole> {
  const out = await psql(spec, 'SELECT pg_is_in_recovery()');
  if (out.code !== 0) return 'down';
  const answer = out.stdout.trim();
  return answer === 'f' ? 'primary' : answer === 't' ? 'replica' : 'down';
}

export interface ListedMember {
  readonly Member: string;
  readonly Role: string;
  readonly State: string;
  readonly TL?: number;
}

/** `patronictl list -f json` (null when it fails: the DCS unreachable, for one). */
export async function patronictlList(spec: NodeSpec): Promise<ListedMember[] | null> {
  const out = await patronictl(spec, ['list', '-f', 'json']);
  if (out.code !== 0) return null;
  try {
    return JSON.parse(out.stdout) as ListedMember[];
  } catch {
    return null;
  }
}

export function patronictl(spec: NodeSpec, args: readonly string[]): Promise<Ran> {
  return run('/usr/bin/patronictl', ['-c', configPath(spec), ...args], { ...process.env, HOME: spec.dir });
}

/**
 * One Leader and one Replica, both running. (Patroni 3.0.2's list says "running" for a
 * replica whether or not it streams: `streamsTo` asks the primary.)
 */
export function healthyPair(list: readonly ListedMember[] | null): { leader: string; replica: string } | null {
  if (list?.length !== 2) return null;
  const leaders = list.filter((m) => m.Role === 'Leader' && m.State === 'running');
  const replicas = list.filter((m) => m.Role === 'Replica' && m.State === 'running');
  const [leader] = leaders;
  const [replica] = replicas;
  if (leaders.length !== 1 || replicas.length !== 1 || leader === undefined || replica === undefined) return null;
  return { leader: leader.Member, replica: replica.Member };
}

/** The primary's pg_stat_replication has `replica` (Patroni's application_name) streaming. */
export async function streamsTo(primary: NodeSpec, replica: string): Promise<boolean> {
  const out = await psql(primary, "SELECT application_name FROM pg_stat_replication WHERE state = 'streaming'");
  return out.code === 0 && out.stdout.split('\n').includes(replica);
}

/** Polls `probe` until it returns a value other than null or `timeoutMs` passes (then null). */
export async function pollUntil<T>(probe: () => Promise<T | null>, timeoutMs: number, intervalMs = 250): Promise<T | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() >= deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
