// What the viewer replays: a run's options, as the simulator's command line takes them,
// plus a fault script, the actions a person clicked ("crash member 2 after event 812").
// A spec without a script is exactly the CLI's run; a spec with one is a fork, which
// replays just as exactly because every action happens at a fixed event index.
//
// A spec travels in the URL's hash, in the CLI's own words:
//
//   #seed=17&nodes=5&time-ms=10000&faults=swarm&workload=kv&bug=appendWithoutTruncate&fork=812:crash:2,900:cut:1-3,990:restart:2
//
// Pure: no DOM, no node: APIs (the page and the Node tests share it).

import { AUTH_BUG_NAMES, BUG_NAMES, ETCD_BUG_NAMES, LIMITS, plantedBugs, reproduceCommand } from '../args.js';
import type { BugName } from '../args.js';
import { parseSeed } from '../prng.js';
import type { FaultMode, RunOptions, TrafficProfile, WorkloadMode } from '../runOptions.js';
import { DEFAULT_LIVENESS_TIMEOUT_MS, TRAFFIC_PROFILES } from '../runOptions.js';

/** Done to one member (diskfull: its disk refuses writes for DISK_FULL_MS; rot: a bit of its durable log flips). */
export const MEMBER_ACTIONS = ['crash', 'restart', 'pause', 'resume', 'diskfull', 'rot'] as const;
/** Done to the link between two members, both directions (clog: for CLOG_MS). */
export const LINK_ACTIONS = ['cut', 'heal', 'clog'] as const;
/** A KV client's request to a member: `put` with `key=value`, `read` (linearizable) with `key` or `key..end`. */
export const CLIENT_ACTIONS = ['put', 'read'] as const;
export const FORK_ACTIONS = [...MEMBER_ACTIONS, ...LINK_ACTIONS, ...CLIENT_ACTIONS] as const;
export type ForkActionKind = (typeof FORK_ACTIONS)[number];
export type LinkActionKind = (typeof LINK_ACTIONS)[number];
export type ClientActionKind = (typeof CLIENT_ACTIONS)[number];

/** How long a clicked clog holds a link's messages, and a clicked disk-full lasts (the nemesis draws its own). */
export const CLOG_MS = 1000;
export const DISK_FULL_MS = 1000;

/** Keys and values a client action may carry: URL-safe, no separators of the script (`,` `:` `=`). */
const KEY_PATTERN = /^[A-Za-z0-9_./-]{1,32}$/;
const VALUE_PATTERN = /^[A-Za-z0-9_./-]{0,64}$/;

/**
 * One clicked action, done once `eventIndex` events have run: to member `node`, for a
 * link action to the link between `node` and `peer` (0 otherwise), for a client action
 * a request sent to member `node` with `arg` (`key=value` for a put, `key` or `key..end`
 * for a read; '' otherwise).
 */
export interface ForkAction {
  readonly eventIndex: number;
  readonly action: ForkActionKind;
  readonly node: number;
  readonly peer: number;
  readonly arg?: string;
}

export function isLinkAction(action: ForkActionKind): action is LinkActionKind {
  return action === 'cut' || action === 'heal' || action === 'clog';
}

export function isClientAction(action: ForkActionKind): action is ClientActionKind {
  return action === 'put' || action === 'read';
}

/** A client action's argument, read: null when malformed. */
export function clientArg(action: ClientActionKind, arg: string): { readonly key: string; readonly value: string; readonly rangeEnd: string } | null {
  if (action === 'put') {
    const eq = arg.indexOf('=');
    if (eq < 0) return null;
    const key = arg.slice(0, eq);
    const value = arg.slice(eq + 1);
    return KEY_PATTERN.test(key) && VALUE_PATTERN.test(value) ? { key, value, rangeEnd: '' } : null;
  }
  const dots = arg.indexOf('..');
  const key = dots < 0 ? arg : arg.slice(0, dots);
  const rangeEnd = dots < 0 ? '' : arg.slice(dots + 2);
  if (!KEY_PATTERN.test(key) || (dots >= 0 && !KEY_PATTERN.test(rangeEnd))) return null;
  return { key, value: '', rangeEnd };
}

/** `812:crash:2`, `900:cut:1-3` or `950:put:2:k1=hello`. */
export function formatAction(a: ForkAction): string {
  const target = `${a.eventIndex}:${a.action}:${a.node}${isLinkAction(a.action) ? `-${a.peer}` : ''}`;
  return isClientAction(a.action) ? `${target}:${a.arg ?? ''}` : target;
}

export interface RunSpec {
  readonly seed: number;
  readonly nodes: number;
  readonly timeMs: number;
  readonly faults: FaultMode;
  readonly workload: WorkloadMode;
  readonly bugs: readonly BugName[];
  readonly livenessMs: number;
  readonly auth: boolean;
  /** The membership nemesis (the CLI's --membership / --no-membership); absent: drawn from the seed. */
  readonly membership?: boolean;
  /** The KV clients' traffic (the CLI's --profile); absent: the default mix. */
  readonly profile?: TrafficProfile;
  /** False: the checker's Raft rule checks are off (the run goes on to what a broken rule leads to; Figure 8's tour). */
  readonly ruleChecks: boolean;
  /** True: the run goes on past the first violation (the CLI's --keep-going). */
  readonly keepGoing: boolean;
  /** Sorted by eventIndex (stable: two actions at one index keep their order). */
  readonly script: readonly ForkAction[];
}

/** A script may hold at most this many actions (each is a click). */
export const SCRIPT_ACTIONS_MAX = 1000;

/** The command line's defaults: a hash with only a seed opens the run `sim --seed S` makes. */
export const DEFAULT_SPEC: RunSpec = {
  seed: 0, nodes: 3, timeMs: 10_000, faults: 'swarm', workload: 'kv', bugs: [],
  livenessMs: DEFAULT_LIVENESS_TIMEOUT_MS, auth: false, ruleChecks: true, keepGoing: false, script: [],
};

const ALL_BUGS: readonly BugName[] = [...BUG_NAMES, ...AUTH_BUG_NAMES, ...ETCD_BUG_NAMES];

export function runOptionsOf(spec: RunSpec): RunOptions {
  return {
    seed: spec.seed, nodes: spec.nodes, timeMs: spec.timeMs, faults: spec.faults, bugs: plantedBugs(spec.bugs),
    livenessTimeoutMs: spec.livenessMs, workload: spec.workload, auth: spec.auth, ruleChecks: spec.ruleChecks, keepGoing: spec.keepGoing,
    ...(spec.membership === undefined ? {} : { membership: spec.membership }),
    ...(spec.profile === undefined ? {} : { profile: spec.profile }),
  };
}

/** The CLI command that runs the same seed (without the fork's script, which only the viewer plays). */
export function commandOf(spec: RunSpec): string {
  return reproduceCommand(spec);
}

/** The spec with `action` added at its index, after every action already there (a fork of a fork). */
export function withAction(spec: RunSpec, action: ForkAction): RunSpec {
  const kept = spec.script.filter((a) => a.eventIndex <= action.eventIndex);
  return { ...spec, script: [...kept, action] };
}

/** The URL hash (with its '#') that reopens the spec, at event `at` if given. Defaults are left out except the seed and size. */
export function formatHash(spec: RunSpec, at?: number): string {
  const parts = [`seed=${spec.seed}`, `nodes=${spec.nodes}`];
  if (spec.timeMs !== DEFAULT_SPEC.timeMs) parts.push(`time-ms=${spec.timeMs}`);
  if (spec.faults !== DEFAULT_SPEC.faults) parts.push(`faults=${spec.faults}`);
  if (spec.workload !== DEFAULT_SPEC.workload) parts.push(`workload=${spec.workload}`);
  if (spec.auth) parts.push('auth=1');
  if (spec.membership !== undefined) parts.push(`membership=${spec.membership ? 1 : 0}`);
  if (spec.profile !== undefined && spec.profile !== 'default') parts.push(`profile=${spec.profile}`);
  if (!spec.ruleChecks) parts.push('rule-checks=0');
  if (spec.keepGoing) parts.push('keep-going=1');
  for (const bug of spec.bugs) parts.push(`bug=${bug}`);
  if (spec.livenessMs !== DEFAULT_SPEC.livenessMs) parts.push(`liveness-ms=${spec.livenessMs}`);
  if (spec.script.length > 0) {
    parts.push(`fork=${spec.script.map(formatAction).join(',')}`);
  }
  if (at !== undefined) parts.push(`at=${at}`);
  return '#' + parts.join('&');
}

/**
 * A parsed hash: the spec, and the event index the page showed (`at=`, not part of the
 * run: reloading the page comes back to the same moment).
 */
export type ParsedSpec = { readonly ok: true; readonly spec: RunSpec; readonly at: number | null } | { readonly ok: false; readonly error: string };

/** A spec under construction while its hash is read. */
interface Draft {
  seed: number | null;
  nodes: number;
  timeMs: number;
  faults: FaultMode;
  workload: WorkloadMode;
  bugs: BugName[];
  livenessMs: number;
  auth: boolean;
  membership: boolean | null;
  profile: TrafficProfile;
  ruleChecks: boolean;
  keepGoing: boolean;
  script: ForkAction[];
  at: number | null;
}

function integer(text: string, name: string, bounds: { readonly min: number; readonly max: number }): number | string {
  if (!/^[0-9]{1,16}$/.test(text)) return `${name} must be an integer, got '${text}'`;
  const value = Number(text);
  if (value < bounds.min || value > bounds.max) return `${name} must be between ${bounds.min} and ${bounds.max}, got ${text}`;
  return value;
}

function readScript(draft: Draft, text: string): string | null {
  const items = text === '' ? [] : text.split(',');
  if (items.length > SCRIPT_ACTIONS_MAX) return `fork holds more than ${SCRIPT_ACTIONS_MAX} actions`;
  for (const item of items) {
    const match = /^([0-9]{1,12}):([a-z]+):([0-9])(?:-([0-9]))?(?::(.*))?$/.exec(item);
    const action = FORK_ACTIONS.find((name) => name === match?.[2]);
    if (match === null || action === undefined || isLinkAction(action) !== (match[4] !== undefined)
      || isClientAction(action) !== (match[5] !== undefined)) {
      return `fork action must look like 812:crash:2 (${MEMBER_ACTIONS.join('|')}), 900:cut:1-3 (${LINK_ACTIONS.join('|')}) ` +
        `or 950:put:2:k1=v, 960:read:2:k1, 970:read:2:k0..k9 (${CLIENT_ACTIONS.join('|')}), got '${item}'`;
    }
    const eventIndex = Number(match[1]);
    const node = Number(match[3]);
    const peer = match[4] === undefined ? 0 : Number(match[4]);
    if (peer === node) return `a link joins two members, got '${item}'`;
    const arg = match[5];
    if (isClientAction(action) && clientArg(action, arg ?? '') === null) {
      return `a ${action} takes ${action === 'put' ? 'key=value' : 'key or key..end'} (letters, digits, _ . / -; keys 1-32, values 0-64), got '${item}'`;
    }
    const last = draft.script[draft.script.length - 1];
    if (last !== undefined && eventIndex < last.eventIndex) return `fork actions must be in event order, got ${eventIndex} after ${last.eventIndex}`;
    draft.script.push({ eventIndex, action, node, peer, ...(arg === undefined ? {} : { arg }) });
  }
  return null;
}

/** Reads one `name=value` pair into the draft; an error text, or null. */
function readPair(draft: Draft, name: string, value: string): string | null {
  const set = (parsed: number | string, put: (n: number) => void): string | null => {
    if (typeof parsed === 'string') return parsed;
    put(parsed);
    return null;
  };
  switch (name) {
    case 'seed': {
      const seed = parseSeed(value);
      if (seed === null) return `seed must be a decimal integer below 2^53 or a 40-hex-digit git hash, got '${value}'`;
      draft.seed = seed;
      return null;
    }
    case 'nodes': return set(integer(value, 'nodes', { min: 1, max: LIMITS.nodesMax }), (n) => { draft.nodes = n; });
    case 'time-ms': return set(integer(value, 'time-ms', { min: 1, max: LIMITS.timeMsMax }), (n) => { draft.timeMs = n; });
    case 'liveness-ms': return set(integer(value, 'liveness-ms', { min: 1, max: LIMITS.timeMsMax }), (n) => { draft.livenessMs = n; });
    case 'faults':
      if (value !== 'none' && value !== 'swarm') return `faults must be 'none' or 'swarm', got '${value}'`;
      draft.faults = value;
      return null;
    case 'workload':
      if (value !== 'none' && value !== 'kv') return `workload must be 'kv' or 'none', got '${value}'`;
      draft.workload = value;
      return null;
    case 'auth':
      draft.auth = value === '1' || value === 'true';
      return null;
    case 'membership':
      if (value !== '1' && value !== 'true' && value !== '0' && value !== 'false') return `membership is 1 or 0, got '${value}'`;
      draft.membership = value === '1' || value === 'true';
      return null;
    case 'profile': {
      const profile = TRAFFIC_PROFILES.find((p) => p === value);
      if (profile === undefined) return `profile must be one of ${TRAFFIC_PROFILES.join(', ')}, got '${value}'`;
      draft.profile = profile;
      return null;
    }
    case 'rule-checks':
      draft.ruleChecks = !(value === '0' || value === 'false');
      return null;
    case 'keep-going':
      draft.keepGoing = value === '1' || value === 'true';
      return null;
    case 'bug': {
      for (const text of value.split(',')) {
        const bug = ALL_BUGS.find((b) => b === text);
        if (bug === undefined) return `bug must be one of ${ALL_BUGS.join(', ')}, got '${text}'`;
        if (!draft.bugs.includes(bug)) draft.bugs.push(bug);
      }
      return null;
    }
    case 'fork': return readScript(draft, value);
    case 'at': return set(integer(value, 'at', { min: 0, max: Number.MAX_SAFE_INTEGER }), (n) => { draft.at = n; });
    default: return `unknown field '${name}' (seed, nodes, time-ms, faults, workload, auth, membership, profile, bug, liveness-ms, rule-checks, keep-going, fork, at)`;
  }
}

/** Reads a URL hash (with or without its '#'); every bad field gets a clear message. */
export function parseHash(hash: string): ParsedSpec {
  const text = hash.startsWith('#') ? hash.slice(1) : hash;
  const draft: Draft = { ...DEFAULT_SPEC, membership: null, profile: 'default', seed: null, bugs: [], script: [], at: null };
  for (const pair of text.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decodeURIComponent(eq < 0 ? pair : pair.slice(0, eq));
    const value = decodeURIComponent(eq < 0 ? '' : pair.slice(eq + 1));
    const error = readPair(draft, name, value);
    if (error !== null) return { ok: false, error };
  }
  if (draft.seed === null) return { ok: false, error: 'the hash needs a seed, e.g. #seed=17&nodes=5' };
  if (draft.auth && draft.workload !== 'kv') return { ok: false, error: 'auth needs workload=kv' };
  if (draft.membership === true && draft.workload !== 'kv') return { ok: false, error: 'membership needs workload=kv' };
  if (draft.profile !== 'default' && (draft.workload !== 'kv' || draft.auth)) return { ok: false, error: 'profile needs workload=kv without auth' };
  if ((draft.auth || draft.workload !== 'kv') && draft.script.some((a) => isClientAction(a.action))) {
    return { ok: false, error: 'put and read actions need the KV clients (workload=kv, no auth)' };
  }
  const outside = (id: number): boolean => id < 1 || id > draft.nodes;
  const badNode = draft.script.find((a) => outside(a.node) || (isLinkAction(a.action) && outside(a.peer)));
  if (badNode !== undefined) {
    const which = outside(badNode.node) ? badNode.node : badNode.peer;
    return { ok: false, error: `fork action on member ${which}, but the run has ${draft.nodes}` };
  }
  const { at, seed, membership, profile, ...rest } = draft;
  return { ok: true, spec: { ...rest, seed, ...(membership === null ? {} : { membership }), ...(profile === 'default' ? {} : { profile }) }, at };
}

/** The spec of a seed with the CLI's defaults and these overrides. */
export function specOf(overrides: Partial<RunSpec> & { readonly seed: number }): RunSpec {
  return { ...DEFAULT_SPEC, ...overrides };
}
