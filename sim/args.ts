// The simulator's command line (users and CI rely on these names):
//
//   sim --seed S | --seeds A..B [--nodes N] [--time-ms T] [--faults none|swarm]
//       [--json] [--trace FILE] [--bug NAME]... [--liveness-ms T] [--auth] [--membership] [--keep-going] [--jobs N]
//
// Parsing is separate from running so that every bad input gets a clear message
// (and exit code 2) and is unit-tested.

import type { PlantedBugs } from '../core/raft/rawNode.js';
import { parseSeed } from './prng.js';
import type { FaultMode, TrafficProfile, WorkloadMode } from './runOptions.js';
import { DEFAULT_LIVENESS_TIMEOUT_MS, TRAFFIC_PROFILES } from './runOptions.js';

/** Bugs planted in Raft: found with any workload. */
export const BUG_NAMES = ['voteWithoutPersist', 'commitOldTermByCounting', 'appendWithoutTruncate'] as const;
/** Bugs planted in the etcd server's auth checks: found with --auth. */
export const AUTH_BUG_NAMES = ['authCheckStaleRevision'] as const;
/**
 * Bugs of etcd's own regression classes (etcd-api.md §2.2), planted in the server, the
 * driver or the watch hub: found with the KV and watch clients (test/sim/etcd-bugs.test.ts).
 */
export const ETCD_BUG_NAMES = [
  'ackBeforeDurable', 'watchBackInTime', 'futureWatchOldEvents', 'progressNotifyAhead', 'slowWatcherDropsEvents', 'compactDropsDeleteEvent',
  'reuseReadIndex', 'leaseTtlResetLost',
] as const;
const ALL_BUG_NAMES = [...BUG_NAMES, ...AUTH_BUG_NAMES, ...ETCD_BUG_NAMES] as const;
export type BugName = (typeof ALL_BUG_NAMES)[number];

/**
 * A sweep's default checker budget per seed. About one seed in twenty is a history the
 * checker cannot decide in 2 s (heavy faults: many writes of unknown outcome), and most of
 * those it cannot decide in 10 s either (seeds 1..300: 9 unknown at 3 s, 7 at 10 s); at
 * 10 s they took half a sweep's time.
 */
export const SWEEP_CHECK_MS = 2_000;

export const LIMITS = {
  nodesMax: 9,
  timeMsMax: 3_600_000,
  seedsMax: 1_000_000,
  jobsMax: 64,
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
  /**
   * The linearizability checker's wall-clock budget per seed; null: 30 s for one seed,
   * SWEEP_CHECK_MS per seed of a sweep (a verdict out of budget is unknown, never ok).
   */
  readonly checkMs: number | null;
  /** The auth workload (authWorkload.ts) instead of the KV and watch clients. */
  readonly auth: boolean;
  /**
   * Membership changes under the faults: members removed, spares added and promoted
   * (membershipNemesis.ts); null: drawn from the seed (one swarm seed in four, world.ts).
   */
  readonly membership: boolean | null;
  /** The KV and watch clients' traffic (kubernetesTraffic.ts for `kubernetes`). */
  readonly profile: TrafficProfile;
  /** Run on past the first violation, so that the end-of-run checks judge the whole history. */
  readonly keepGoing: boolean;
  /**
   * The Raft rule checks (commitRule, persistBeforeSend; safetyChecker.ts). Off, only a
   * rule's consequences are caught: Figure 8's overwrite, not the commit that allows it.
   */
  readonly ruleChecks: boolean;
  /** Worker threads for --seeds (sweep.ts); 0: one per core. */
  readonly jobs: number;
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
  --bug NAME        plant a bug in the core (${ALL_BUG_NAMES.join(', ')}); repeatable
  --auth            the auth workload instead of the KV and watch clients: users, roles and permissions
                    changing under faults, clients with tokens; every answer checked against a model
  --membership      membership changes under the faults: a member (a follower or the leader) removed, a
                    spare added as a learner and promoted, through the members' own Reconfigurer
                    (without this flag: drawn from the seed, in one swarm run of the KV clients in four)
  --no-membership   no membership changes, whatever the seed draws
  --profile P       the KV clients' traffic: default | kubernetes (kube-apiserver's: every write a Txn on
                    mod_revision, paginated lists, counts, compaction through compact_rev_key, every
                    watch on the prefix with prev_kv and progress notifications)
  --keep-going      run on after the first violation (the end-of-run checks, linearizability and the
                    watch validator, then judge the whole history)
  --no-rule-checks  no Raft rule checks (commitRule, persistBeforeSend): only their consequences are caught,
                    e.g. the overwrite of a committed entry that --bug commitOldTermByCounting leads to
  --liveness-ms T   bound on the liveness phase (default ${DEFAULT_LIVENESS_TIMEOUT_MS})
  --check-ms T      the linearizability checker's budget per seed (default 30000 with --seed,
                    ${SWEEP_CHECK_MS} with --seeds); out of budget the verdict is unknown
  --jobs N          with --seeds: run seeds in N worker threads, 1..${LIMITS.jobsMax} (default: one per core);
                    the results and the summary are the same as with --jobs 1`;

/** What the parser has read so far: a CliOptions under construction. */
interface Draft {
  seedFirst: number | null;
  seedLast: number | null;
  range: boolean;
  nodes: number;
  timeMs: number;
  faults: FaultMode;
  workload: WorkloadMode;
  history: string | null;
  watches: string | null;
  json: boolean;
  trace: string | null;
  livenessMs: number;
  checkMs: number | null;
  auth: boolean;
  membership: boolean | null;
  profile: TrafficProfile;
  keepGoing: boolean;
  ruleChecks: boolean;
  jobs: number;
  help: boolean;
  readonly bugs: BugName[];
}

/** Reads a flag's value into the draft; an error text when the value is bad, else null. */
type ReadValue = (draft: Draft, value: string) => string | null;

/** An integer flag's bounds and where its value goes. */
interface IntegerFlag {
  readonly flag: string;
  readonly min: number;
  readonly max: number;
  readonly set: (draft: Draft, value: number) => void;
}

function integerFlag(spec: IntegerFlag): ReadValue {
  return (draft, text) => {
    if (!/^[0-9]+$/.test(text)) return `${spec.flag} must be an integer, got '${text}'`;
    const value = Number(text);
    if (!Number.isSafeInteger(value) || value < spec.min || value > spec.max) {
      return `${spec.flag} must be between ${spec.min} and ${spec.max}, got ${text}`;
    }
    spec.set(draft, value);
    return null;
  };
}

function readSeed(draft: Draft, value: string): string | null {
  if (draft.seedFirst !== null) return 'give one of --seed or --seeds, once';
  const seed = parseSeed(value);
  if (seed === null) return `--seed must be a decimal integer below 2^53 or a 40-hex-digit git hash, got '${value}'`;
  draft.seedFirst = seed;
  draft.seedLast = seed;
  return null;
}

function readSeeds(draft: Draft, value: string): string | null {
  if (draft.seedFirst !== null) return 'give one of --seed or --seeds, once';
  const match = /^([0-9]+)\.\.([0-9]+)$/.exec(value);
  if (match === null) return `--seeds must look like A..B (e.g. 1..100), got '${value}'`;
  const first = parseSeed(match[1] ?? '');
  const last = parseSeed(match[2] ?? '');
  if (first === null || last === null) return `--seeds bounds must be integers below 2^53, got '${value}'`;
  if (last < first) return `--seeds range is empty: ${first} > ${last}`;
  if (last - first + 1 > LIMITS.seedsMax) return `--seeds covers more than ${LIMITS.seedsMax} seeds`;
  draft.seedFirst = first;
  draft.seedLast = last;
  draft.range = true;
  return null;
}

function readBug(draft: Draft, value: string): string | null {
  const bug = ALL_BUG_NAMES.find((name) => name === value);
  if (bug === undefined) return `--bug must be one of ${ALL_BUG_NAMES.join(', ')}, got '${value}'`;
  if (!draft.bugs.includes(bug)) draft.bugs.push(bug);
  return null;
}

/** The flags that take a value (the next argument, which must not start with `--`). A Map: no prototype keys. */
const VALUE_FLAGS = new Map<string, ReadValue>([
  ['--seed', readSeed],
  ['--seeds', readSeeds],
  ['--nodes', integerFlag({ flag: '--nodes', min: 1, max: LIMITS.nodesMax, set: (d, n) => { d.nodes = n; } })],
  ['--time-ms', integerFlag({ flag: '--time-ms', min: 1, max: LIMITS.timeMsMax, set: (d, t) => { d.timeMs = t; } })],
  ['--check-ms', integerFlag({ flag: '--check-ms', min: 1, max: LIMITS.timeMsMax, set: (d, t) => { d.checkMs = t; } })],
  ['--liveness-ms', integerFlag({ flag: '--liveness-ms', min: 1, max: LIMITS.timeMsMax, set: (d, t) => { d.livenessMs = t; } })],
  ['--faults', (d, value) => {
    if (value !== 'none' && value !== 'swarm') return `--faults must be 'none' or 'swarm', got '${value}'`;
    d.faults = value;
    return null;
  }],
  ['--workload', (d, value) => {
    if (value !== 'none' && value !== 'kv') return `--workload must be 'none' or 'kv', got '${value}'`;
    d.workload = value;
    return null;
  }],
  ['--trace', (d, value) => { d.trace = value; return null; }],
  ['--history', (d, value) => { d.history = value; return null; }],
  ['--watches', (d, value) => { d.watches = value; return null; }],
  ['--bug', readBug],
  ['--profile', (d, value) => {
    const profile = TRAFFIC_PROFILES.find((p) => p === value);
    if (profile === undefined) return `--profile must be one of ${TRAFFIC_PROFILES.join(', ')}, got '${value}'`;
    d.profile = profile;
    return null;
  }],
  ['--jobs', integerFlag({ flag: '--jobs', min: 1, max: LIMITS.jobsMax, set: (d, n) => { d.jobs = n; } })],
]);

/** The flags that take no value. */
const SWITCH_FLAGS = new Map<string, (draft: Draft) => void>([
  ['--json', (d) => { d.json = true; }],
  ['--auth', (d) => { d.auth = true; }],
  ['--membership', (d) => { d.membership = true; }],
  ['--no-membership', (d) => { d.membership = false; }],
  ['--keep-going', (d) => { d.keepGoing = true; }],
  ['--no-rule-checks', (d) => { d.ruleChecks = false; }],
  ['--help', (d) => { d.help = true; }],
  ['-h', (d) => { d.help = true; }],
]);

function emptyDraft(): Draft {
  return {
    seedFirst: null, seedLast: null, range: false, nodes: 3, timeMs: 10_000, faults: 'swarm', workload: 'kv',
    history: null, watches: null, json: false, trace: null, livenessMs: DEFAULT_LIVENESS_TIMEOUT_MS, checkMs: null, auth: false, membership: null, profile: 'default', keepGoing: false, ruleChecks: true, jobs: 0, help: false,
    bugs: [],
  };
}

/** Reads every flag into the draft, in order; the first error text, or null. */
function readFlags(argv: readonly string[], draft: Draft): string | null {
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] ?? '';
    const readValue = VALUE_FLAGS.get(flag);
    if (readValue !== undefined) {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) return `${flag} needs a value`;
      i++;
      const error = readValue(draft, value);
      if (error !== null) return error;
      continue;
    }
    const readSwitch = SWITCH_FLAGS.get(flag);
    if (readSwitch === undefined) return `unknown option '${flag}'`;
    readSwitch(draft);
  }
  return null;
}

/** The rules between flags, once all are read. */
function combinationError(draft: Draft): string | null {
  const { range, trace, history, watches, workload, auth, membership, profile } = draft;
  if (profile !== 'default' && (workload !== 'kv' || auth)) return '--profile shapes the KV clients\' traffic: leave --workload at kv, without --auth';
  if (auth && workload !== 'kv') return '--auth needs EtcdServer members: leave --workload at kv';
  if (membership === true && workload !== 'kv') return '--membership needs EtcdServer members: leave --workload at kv';
  if (auth && (history !== null || watches !== null)) return '--auth runs no KV or watch clients: --history and --watches do not apply';
  if (trace !== null && range) return '--trace writes one run: use it with --seed, not --seeds';
  if (history !== null && range) return '--history writes one run: use it with --seed, not --seeds';
  if (history !== null && workload !== 'kv') return '--history needs --workload kv';
  if (watches !== null && range) return '--watches writes one run: use it with --seed, not --seeds';
  if (watches !== null && workload !== 'kv') return '--watches needs --workload kv';
  return null;
}

export function parseArgs(argv: readonly string[]): Parsed {
  const draft = emptyDraft();
  const fail = (error: string): Parsed => ({ ok: false, error });
  const flagError = readFlags(argv, draft);
  if (flagError !== null) return fail(flagError);
  const { seedFirst, seedLast, ...rest } = draft;
  // --help prints the usage whatever else is missing (but not past a bad flag).
  if (draft.help) return { ok: true, options: { ...rest, seedFirst: 0, seedLast: 0, range: false } };
  if (seedFirst === null || seedLast === null) return fail('give --seed S or --seeds A..B');
  const error = combinationError(draft);
  return error === null ? { ok: true, options: { ...rest, seedFirst, seedLast } } : fail(error);
}

export function plantedBugs(bugs: readonly BugName[]): PlantedBugs {
  return {
    voteWithoutPersist: bugs.includes('voteWithoutPersist'),
    commitOldTermByCounting: bugs.includes('commitOldTermByCounting'),
    appendWithoutTruncate: bugs.includes('appendWithoutTruncate'),
    authCheckStaleRevision: bugs.includes('authCheckStaleRevision'),
    ackBeforeDurable: bugs.includes('ackBeforeDurable'),
    watchBackInTime: bugs.includes('watchBackInTime'),
    futureWatchOldEvents: bugs.includes('futureWatchOldEvents'),
    progressNotifyAhead: bugs.includes('progressNotifyAhead'),
    slowWatcherDropsEvents: bugs.includes('slowWatcherDropsEvents'),
    compactDropsDeleteEvent: bugs.includes('compactDropsDeleteEvent'),
    reuseReadIndex: bugs.includes('reuseReadIndex'),
    leaseTtlResetLost: bugs.includes('leaseTtlResetLost'),
  };
}

/** The one command that reproduces a seed's run. */
export function reproduceCommand(options: {
  readonly seed: number; readonly nodes: number; readonly timeMs: number; readonly faults: FaultMode;
  readonly bugs: readonly string[]; readonly livenessMs?: number; readonly workload?: WorkloadMode; readonly auth?: boolean;
  readonly membership?: boolean | null; readonly keepGoing?: boolean; readonly profile?: TrafficProfile;
  readonly ruleChecks?: boolean;
}): string {
  const parts = ['npm run --silent sim --', '--seed', String(options.seed), '--nodes', String(options.nodes),
    '--time-ms', String(options.timeMs), '--faults', options.faults];
  // kv is the command line's default; runSimulation's (and so an absent one here) is none.
  const workload = options.workload ?? 'none';
  if (workload !== 'kv') parts.push('--workload', workload);
  if (options.auth === true) parts.push('--auth');
  if (options.membership === true) parts.push('--membership');
  if (options.membership === false) parts.push('--no-membership');
  if (options.profile !== undefined && options.profile !== 'default') parts.push('--profile', options.profile);
  if (options.keepGoing === true) parts.push('--keep-going');
  if (options.ruleChecks === false) parts.push('--no-rule-checks');
  for (const bug of options.bugs) parts.push('--bug', bug);
  if (options.livenessMs !== undefined && options.livenessMs !== DEFAULT_LIVENESS_TIMEOUT_MS) {
    parts.push('--liveness-ms', String(options.livenessMs));
  }
  return parts.join(' ');
}
