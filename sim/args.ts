// The simulator's command line (users and CI rely on these names):
//
//   sim --seed S | --seeds A..B [--nodes N] [--time-ms T] [--faults none|swarm]
//       [--json] [--trace FILE] [--bug NAME]... [--liveness-ms T]
//
// Parsing is separate from running so that every bad input gets a clear message
// (and exit code 2) and is unit-tested.

import type { PlantedBugs } from '../core/raft/rawNode.js';
import { parseSeed } from './prng.js';
import type { FaultMode, WorkloadMode } from './runOptions.js';
import { DEFAULT_LIVENESS_TIMEOUT_MS } from './runOptions.js';

export const BUG_NAMES = ['voteWithoutPersist', 'commitOldTermByCounting', 'appendWithoutTruncate'] as const;
export type BugName = (typeof BUG_NAMES)[number];

export const LIMITS = {
  nodesMax: 9,
  timeMsMax: 3_600_000,
  seedsMax: 1_000_000,
} as const;

export interface CliOptions {
  /** The first and last seed (equal for a single run). */
  readonly seedFirst: number;
  readonly seedLast: number;
  readonly range: boolean;
  readonly nodes: number;
  readonly timeMs: number;
  readonly faults: FaultMode;
  readonly workload: WorkloadMode;
  /** Where to write the KV history (JSON lines, docs/history-format.md); single seed only. */
  readonly history: string | null;
  /** Where to write the watch streams (JSON lines, one stream a line); single seed, kv only. */
  readonly watches: string | null;
  readonly json: boolean;
  readonly trace: string | null;
  readonly bugs: readonly BugName[];
  readonly livenessMs: number;
  readonly help: boolean;
}

export type Parsed = { readonly ok: true; readonly options: CliOptions } | { readonly ok: false; readonly error: string };

export const USAGE = `usage: npm run --silent sim -- (--seed S | --seeds A..B) [options]
  --seed S          one run; S is a decimal integer < 2^53 or a 40-hex-digit git hash
  --seeds A..B      runs seeds A to B inclusive, then prints a summary
  --nodes N         cluster size, 1..${LIMITS.nodesMax} (default 3)
  --time-ms T       simulated milliseconds of the fault phase, 1..${LIMITS.timeMsMax} (default 10000)
  --faults MODE     none | swarm (default swarm: the seed draws which faults are on)
  --workload W      kv | none (default kv: EtcdServers, KV and watch clients; none: Raft proposals only)
  --history FILE    write the KV clients' history as JSON lines (single seed, --workload kv)
  --watches FILE    write the watch streams as JSON lines, one stream a line (single seed, --workload kv)
  --json            print the result as one JSON object (the last line)
  --trace FILE      write the event trace as JSON lines (single seed only)
  --bug NAME        plant a bug in the core (${BUG_NAMES.join(', ')}); repeatable
  --liveness-ms T   bound on the liveness phase (default ${DEFAULT_LIVENESS_TIMEOUT_MS})`;

function integer(text: string, name: string, min: number, max: number): number | string {
  if (!/^[0-9]+$/.test(text)) return `${name} must be an integer, got '${text}'`;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    return `${name} must be between ${min} and ${max}, got ${text}`;
  }
  return value;
}

export function parseArgs(argv: readonly string[]): Parsed {
  let seedFirst: number | null = null;
  let seedLast: number | null = null;
  let range = false;
  let nodes = 3;
  let timeMs = 10_000;
  let faults: FaultMode = 'swarm';
  let workload: WorkloadMode = 'kv';
  let history: string | null = null;
  let watches: string | null = null;
  let json = false;
  let trace: string | null = null;
  let livenessMs = DEFAULT_LIVENESS_TIMEOUT_MS;
  let help = false;
  const bugs: BugName[] = [];
  const fail = (error: string): Parsed => ({ ok: false, error });

  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] ?? '';
    const takesValue = ['--seed', '--seeds', '--nodes', '--time-ms', '--faults', '--trace', '--bug', '--liveness-ms', '--workload', '--history', '--watches'].includes(flag);
    const value = argv[i + 1];
    if (takesValue) {
      if (value === undefined || value.startsWith('--')) return fail(`${flag} needs a value`);
      i++;
    }
    switch (flag) {
      case '--seed': {
        if (seedFirst !== null) return fail('give one of --seed or --seeds, once');
        const seed = parseSeed(value ?? '');
        if (seed === null) return fail(`--seed must be a decimal integer below 2^53 or a 40-hex-digit git hash, got '${value ?? ''}'`);
        seedFirst = seed;
        seedLast = seed;
        break;
      }
      case '--seeds': {
        if (seedFirst !== null) return fail('give one of --seed or --seeds, once');
        const match = /^([0-9]+)\.\.([0-9]+)$/.exec(value ?? '');
        if (match === null) return fail(`--seeds must look like A..B (e.g. 1..100), got '${value ?? ''}'`);
        const first = parseSeed(match[1] ?? '');
        const last = parseSeed(match[2] ?? '');
        if (first === null || last === null) return fail(`--seeds bounds must be integers below 2^53, got '${value ?? ''}'`);
        if (last < first) return fail(`--seeds range is empty: ${first} > ${last}`);
        if (last - first + 1 > LIMITS.seedsMax) return fail(`--seeds covers more than ${LIMITS.seedsMax} seeds`);
        seedFirst = first;
        seedLast = last;
        range = true;
        break;
      }
      case '--nodes': {
        const n = integer(value ?? '', '--nodes', 1, LIMITS.nodesMax);
        if (typeof n === 'string') return fail(n);
        nodes = n;
        break;
      }
      case '--time-ms': {
        const t = integer(value ?? '', '--time-ms', 1, LIMITS.timeMsMax);
        if (typeof t === 'string') return fail(t);
        timeMs = t;
        break;
      }
      case '--liveness-ms': {
        const t = integer(value ?? '', '--liveness-ms', 1, LIMITS.timeMsMax);
        if (typeof t === 'string') return fail(t);
        livenessMs = t;
        break;
      }
      case '--faults':
        if (value !== 'none' && value !== 'swarm') return fail(`--faults must be 'none' or 'swarm', got '${value ?? ''}'`);
        faults = value;
        break;
      case '--trace':
        trace = value ?? null;
        break;
      case '--workload':
        if (value !== 'none' && value !== 'kv') return fail(`--workload must be 'none' or 'kv', got '${value ?? ''}'`);
        workload = value;
        break;
      case '--history':
        history = value ?? null;
        break;
      case '--watches':
        watches = value ?? null;
        break;
      case '--bug': {
        const bug = BUG_NAMES.find((name) => name === value);
        if (bug === undefined) return fail(`--bug must be one of ${BUG_NAMES.join(', ')}, got '${value ?? ''}'`);
        if (!bugs.includes(bug)) bugs.push(bug);
        break;
      }
      case '--json':
        json = true;
        break;
      case '--help':
      case '-h':
        help = true;
        break;
      default:
        return fail(`unknown option '${flag}'`);
    }
  }
  if (help) {
    return { ok: true, options: { seedFirst: 0, seedLast: 0, range: false, nodes, timeMs, faults, workload, history, watches, json, trace, bugs, livenessMs, help } };
  }
  if (seedFirst === null || seedLast === null) return fail('give --seed S or --seeds A..B');
  if (trace !== null && range) return fail('--trace writes one run: use it with --seed, not --seeds');
  if (history !== null && range) return fail('--history writes one run: use it with --seed, not --seeds');
  if (history !== null && workload !== 'kv') return fail('--history needs --workload kv');
  if (watches !== null && range) return fail('--watches writes one run: use it with --seed, not --seeds');
  if (watches !== null && workload !== 'kv') return fail('--watches needs --workload kv');
  return { ok: true, options: { seedFirst, seedLast, range, nodes, timeMs, faults, workload, history, watches, json, trace, bugs, livenessMs, help } };
}

export function plantedBugs(bugs: readonly BugName[]): PlantedBugs {
  return {
    voteWithoutPersist: bugs.includes('voteWithoutPersist'),
    commitOldTermByCounting: bugs.includes('commitOldTermByCounting'),
    appendWithoutTruncate: bugs.includes('appendWithoutTruncate'),
  };
}

/** The one command that reproduces a seed's run. */
export function reproduceCommand(options: {
  readonly seed: number; readonly nodes: number; readonly timeMs: number; readonly faults: FaultMode;
  readonly bugs: readonly string[]; readonly livenessMs?: number; readonly workload?: WorkloadMode;
}): string {
  const parts = ['npm run --silent sim --', '--seed', String(options.seed), '--nodes', String(options.nodes),
    '--time-ms', String(options.timeMs), '--faults', options.faults];
  // kv is the command line's default; runSimulation's (and so an absent one here) is none.
  const workload = options.workload ?? 'none';
  if (workload !== 'kv') parts.push('--workload', workload);
  for (const bug of options.bugs) parts.push('--bug', bug);
  if (options.livenessMs !== undefined && options.livenessMs !== DEFAULT_LIVENESS_TIMEOUT_MS) {
    parts.push('--liveness-ms', String(options.livenessMs));
  }
  return parts.join(' ');
}
