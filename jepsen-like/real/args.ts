// The command line of `npm run jepsen`.

import { testBugsFrom } from '../../net/member/testBugs.js';
import { parseSeed } from '../../sim/prng.js';
import type { Target } from './cluster.js';
import { NEMESES } from './nemesis.js';

export const WORKLOADS = ['kv', 'lease', 'watch', 'lock', 'kubernetes'] as const;
export type Workload = (typeof WORKLOADS)[number];

export interface RunOptions {
  readonly target: Target;
  readonly nodes: number;
  readonly timeS: number;
  readonly nemesis: readonly string[];
  readonly workloads: readonly Workload[];
  readonly seed: number;
  readonly out: string;
  readonly maxOps: number;
  readonly clientsPerNode: number;
  readonly etcdBin: string;
  readonly checkTimeoutS: number;
  readonly leaseTtlS: number;
  readonly electionSlackMs: number;
  readonly requestTimeoutMs: number;
  readonly minWrites: number;
  /** Test-only: planted bugs for Tern's members (the tool's own test shows it reports them). */
  readonly plantedBugs: readonly string[];
  /** A running cluster's client endpoints (host:port) instead of members the tool starts; empty: start them. */
  readonly endpoints: readonly string[];
}

export const USAGE = `usage: npm run jepsen -- --out DIR [options]
  --target tern|etcd      whose members to start (default tern; etcd: --etcd-bin, default etcd on PATH)
  --endpoints LIST        instead: an already running, empty cluster's client endpoints (host:port,...);
                          only client-side faults (compact, defrag) reach it
  --nodes N               members, 1..7 (default 3)
  --time-s S              how long the workload runs (default 30)
  --nemesis LIST          comma-separated: ${NEMESES.join(', ')} (default none)
                          leader: aim each fault at the current leader (alone: kill,pause,partition)
                          member: remove a member, wipe it, add it back as a learner, promote it
  --workload LIST         comma-separated: ${WORKLOADS.join(', ')} (default kv; watch watches kv's keys, and runs kv)
  --seed N                the schedule's and the workload's seed (default: random, printed)
  --max-ops N             stop the workload after N operations (default 100000)
  --clients-per-node N    kv clients per member (default 2)
  --check-timeout-s S     the linearizability checker's budget (default 60; out of it: unknown)
  --lease-ttl-s S         TTL of the lease workload's leases (default 6)
  --election-slack-ms MS  how long past its TTL a key may live, beyond the leaderless time the
                          tool measured and an election timeout per new leader (default 2000)
  --request-timeout-ms MS each request's deadline (default 1000)
  --min-writes N          go on past --time-s until N writes were acknowledged (at most 10x as long; default 0)
  --planted-bug NAME      test-only, target tern: members run with a planted bug (e.g. ackBeforeDurable:
                          a lone member acknowledges before its write is durable), to see the tool report it`;

/** The defaults, for the reproduce command (it names only what differs). */
const DEFAULTS = { maxOps: 100_000, clientsPerNode: 2, etcdBin: 'etcd', checkTimeoutS: 60, leaseTtlS: 6, electionSlackMs: 2000, requestTimeoutMs: 1000, minWrites: 0 };

const FLAG_OF: Readonly<Record<keyof typeof DEFAULTS, string>> = {
  maxOps: '--max-ops', clientsPerNode: '--clients-per-node', etcdBin: '--etcd-bin', checkTimeoutS: '--check-timeout-s',
  leaseTtlS: '--lease-ttl-s', electionSlackMs: '--election-slack-ms', requestTimeoutMs: '--request-timeout-ms', minWrites: '--min-writes',
};

export class UsageError extends Error {}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

function positive(flag: string, text: string, integer = true): number {
  const n = Number(text);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isSafeInteger(n))) throw new UsageError(`${flag}: not a positive ${integer ? 'integer' : 'number'}: ${text}`);
  return n;
}

function list<T extends string>(flag: string, text: string, allowed: readonly T[]): T[] {
  const items = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const item of items) if (!(allowed as readonly string[]).includes(item)) throw new UsageError(`${flag}: unknown ${item} (one of ${allowed.join(', ')})`);
  return items as T[];
}

const SETTERS: Readonly<Record<string, (o: Mutable<RunOptions>, v: string, flag: string) => void>> = {
  '--target': (o, v, f) => { if (v !== 'tern' && v !== 'etcd') throw new UsageError(`${f}: tern or etcd, not ${v}`); o.target = v; },
  '--nodes': (o, v, f) => { o.nodes = positive(f, v); if (o.nodes > 7) throw new UsageError(`${f}: at most 7`); },
  '--time-s': (o, v, f) => { o.timeS = positive(f, v, false); },
  '--nemesis': (o, v, f) => { o.nemesis = list(f, v, NEMESES).filter((x) => x !== 'none'); },
  '--workload': (o, v, f) => { o.workloads = list(f, v, WORKLOADS); },
  '--seed': (o, v, f) => { const s = parseSeed(v); if (s === null) throw new UsageError(`${f}: not a seed: ${v}`); o.seed = s; },
  '--out': (o, v) => { o.out = v; },
  '--endpoints': (o, v, f) => {
    const endpoints = v.split(',').map((x) => x.trim().replace(/^https?:\/\//, '')).filter((x) => x !== '');
    if (endpoints.length === 0 || endpoints.some((e) => !/^[^\s:/]+:\d+$/.test(e))) throw new UsageError(`${f}: host:port,... not ${v}`);
    o.endpoints = endpoints;
  },
  '--max-ops': (o, v, f) => { o.maxOps = positive(f, v); },
  '--clients-per-node': (o, v, f) => { o.clientsPerNode = positive(f, v); },
  '--etcd-bin': (o, v) => { o.etcdBin = v; },
  '--check-timeout-s': (o, v, f) => { o.checkTimeoutS = positive(f, v, false); },
  '--lease-ttl-s': (o, v, f) => { o.leaseTtlS = positive(f, v); },
  '--election-slack-ms': (o, v, f) => { o.electionSlackMs = positive(f, v); },
  '--request-timeout-ms': (o, v, f) => { o.requestTimeoutMs = positive(f, v); },
  '--min-writes': (o, v, f) => { o.minWrites = positive(f, v); },
  '--planted-bug': (o, v, f) => {
    const known = testBugsFrom(v);
    if ('error' in known) throw new UsageError(`${f}: ${known.error}`);
    o.plantedBugs = [...o.plantedBugs, ...v.split(',').map((x) => x.trim()).filter((x) => x !== '')];
  },
};

export function parseArgs(argv: readonly string[], randomSeed: () => number): RunOptions {
  const options: Mutable<RunOptions> = { target: 'tern', nodes: 3, timeS: 30, nemesis: [], workloads: ['kv'], seed: -1, out: '', plantedBugs: [], endpoints: [], ...DEFAULTS };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') throw new UsageError('');
    const [flag, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    const setter = SETTERS[flag];
    if (setter === undefined) throw new UsageError(`unknown argument ${arg}`);
    const value = inline ?? argv[++i];
    if (value === undefined) throw new UsageError(`${flag} needs a value`);
    setter(options, value, flag);
  }
  if (options.out === '') throw new UsageError('--out DIR is required');
  if (options.workloads.length === 0) throw new UsageError('--workload: at least one');
  if (options.plantedBugs.length > 0 && options.target !== 'tern') throw new UsageError('--planted-bug: only with --target tern');
  if (options.endpoints.length > 0) {
    const processFaults = options.nemesis.filter((n) => n !== 'compact' && n !== 'defrag');
    if (processFaults.length > 0) throw new UsageError(`--endpoints: only client-side faults (compact, defrag) reach a cluster the tool did not start, not ${processFaults.join(', ')}`);
    if (options.plantedBugs.length > 0) throw new UsageError('--planted-bug: not with --endpoints');
    options.nodes = options.endpoints.length;
  }
  if (options.seed < 0) options.seed = randomSeed();
  return options;
}

/** The command that repeats a run. */
export function reproduceCommand(o: RunOptions): string {
  const extra = (Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]).flatMap((k) => (o[k] === DEFAULTS[k] ? [] : [FLAG_OF[k], String(o[k])]));
  const where = o.endpoints.length > 0 ? ['--endpoints', o.endpoints.join(',')] : ['--target', o.target, '--nodes', o.nodes];
  return [
    'npm run jepsen --', ...where, '--time-s', o.timeS, '--nemesis', o.nemesis.length === 0 ? 'none' : o.nemesis.join(','),
    '--workload', o.workloads.join(','), '--seed', o.seed, ...extra, ...o.plantedBugs.flatMap((b) => ['--planted-bug', b]), '--out', o.out,
  ].join(' ');
}
