// etcd's command-line flags (the subset Tern serves), with etcd's defaults and error
// texts. Accepts both `--flag value` and `--flag=value`, as etcd does.
//
// Two kinds of refusal, as in etcd: a value that does not parse is a usage error
// (etcd prints `invalid value "x" for flag -name: …` and exits 2); flags that parse
// but do not fit together (a --name missing from --initial-cluster) are a
// configuration error (etcd logs it and exits 1).

import { parseGoDurationMs } from './duration.js';
import { hostPort, unixSocketPath } from './urls.js';
import { missingCertificate, parseGoBool, tlsFlagsFrom, TLS_BOOL_FLAGS, TLS_VALUE_FLAGS, type TlsFlags } from '../tls/tlsFlags.js';
import { AUTH_VALUE_FLAGS, authFlagsFrom, type AuthFlags } from '../auth/authFlags.js';

export interface InitialMember {
  readonly name: string;
  readonly peerUrls: readonly string[];
}

export type AutoCompactionMode = 'periodic' | 'revision';

export interface Flags {
  readonly name: string;
  readonly dataDir: string;
  readonly listenClientUrls: readonly string[];
  readonly advertiseClientUrls: readonly string[];
  readonly listenPeerUrls: readonly string[];
  readonly initialAdvertisePeerUrls: readonly string[];
  /** Members in the order --initial-cluster names them (a name's URLs grouped). */
  readonly initialCluster: readonly InitialMember[];
  readonly initialClusterState: 'new' | 'existing';
  readonly initialClusterToken: string;
  readonly heartbeatMs: number;
  readonly electionMs: number;
  /** Applied entries between snapshots (etcd's --snapshot-count). */
  readonly snapshotCount: number;
  /** 0 = etcd's default quota (2 GiB); negative: no quota (etcd's int64 flag). */
  readonly quotaBackendBytes: number;
  readonly autoCompactionMode: AutoCompactionMode;
  /**
   * 0 = off. Periodic mode: the retention window in ms (a bare integer means hours, as in
   * etcd). Revision mode: the number of revisions to keep.
   */
  readonly autoCompactionRetention: number;
  /** Extra URLs serving /metrics and /health over HTTP (etcd's --listen-metrics-urls); none by default. */
  readonly listenMetricsUrls: readonly string[];
  /** etcd's --max-request-bytes: the largest request that may become a Raft proposal. */
  readonly maxRequestBytes: number;
  /** The client and peer sides' TLS flags (net/tls/tlsFlags.ts). */
  readonly tls: TlsFlags;
  /** --auth-token, --auth-token-ttl, --bcrypt-cost (net/auth/authFlags.ts); key files are read at start. */
  readonly auth: AuthFlags;
  /**
   * etcd's --experimental-initial-corrupt-check (etcd's e2e suite passes it to every member):
   * accepted so such command lines start; Tern runs no corruption check yet.
   */
  readonly initialCorruptCheck: boolean;
  /** etcd's --strict-reconfig-check (default true): membership changes must keep a quorum of started voters. */
  readonly strictReconfigCheck: boolean;
}

export type FlagsResult =
  | { readonly ok: true; readonly flags: Flags }
  | { readonly ok: false; readonly error: string; readonly exitCode: 1 | 2 };

/** Bool flags outside TLS. */
const OTHER_BOOL_FLAGS = ['experimental-initial-corrupt-check', 'strict-reconfig-check'] as const;

const KNOWN = new Set([
  'name', 'data-dir', 'listen-client-urls', 'advertise-client-urls', 'listen-peer-urls', 'initial-advertise-peer-urls',
  'initial-cluster', 'initial-cluster-state', 'initial-cluster-token', 'heartbeat-interval', 'election-timeout',
  'snapshot-count', 'quota-backend-bytes', 'auto-compaction-mode', 'auto-compaction-retention', 'listen-metrics-urls',
  'max-request-bytes', ...TLS_VALUE_FLAGS, ...TLS_BOOL_FLAGS, ...AUTH_VALUE_FLAGS, ...OTHER_BOOL_FLAGS,
]);

/** Go bool flags: a bare `--flag` means true and takes no value. */
const BOOLEAN: ReadonlySet<string> = new Set([...TLS_BOOL_FLAGS, ...OTHER_BOOL_FLAGS]);

const DEFAULT_NAME = 'default';
const DEFAULT_PEER_URL = 'http://localhost:2380';

/** A refusal on its way out of the parser. */
class FlagError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2) {
    super(message);
  }
}

const usage = (flag: string, raw: string, why: string): FlagError => new FlagError(`invalid value "${raw}" for flag -${flag}: ${why}`, 2);

export function parseFlags(argv: readonly string[]): FlagsResult {
  try {
    return { ok: true, flags: interpret(collect(argv)) };
  } catch (error) {
    if (error instanceof FlagError) return { ok: false, error: error.message, exitCode: error.exitCode };
    throw error;
  }
}

function collect(argv: readonly string[]): Map<string, string> {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) throw new FlagError(`unexpected argument "${arg}"`, 2);
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (!KNOWN.has(name)) throw new FlagError(`unknown flag --${name}`, 2);
    const value = eq >= 0 ? arg.slice(eq + 1) : BOOLEAN.has(name) ? 'true' : argv[++i];
    if (value === undefined) throw new FlagError(`flag --${name} needs a value`, 2);
    values.set(name, value);
  }
  return values;
}

function interpret(values: Map<string, string>): Flags {
  const name = values.get('name') ?? DEFAULT_NAME;
  const millis = (flag: string, fallback: number): number => {
    const raw = values.get(flag);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n <= 0) throw new FlagError(`--${flag} must be a positive integer (milliseconds), got "${raw}"`, 2);
    return n;
  };
  const heartbeatMs = millis('heartbeat-interval', 100);
  const electionMs = millis('election-timeout', 1000);
  if (electionMs < 5 * heartbeatMs) {
    throw new FlagError(`--election-timeout[${electionMs}ms] should be at least as 5 times as --heartbeat-interval[${heartbeatMs}ms]`, 2);
  }
  const listenClientUrls = urlList(values, 'listen-client-urls', 'http://localhost:2379');
  const initialAdvertisePeerUrls = urlList(values, 'initial-advertise-peer-urls', DEFAULT_PEER_URL);
  const initialCluster = clusterFor(name, values.get('initial-cluster'), initialAdvertisePeerUrls);
  const mode = values.get('auto-compaction-mode') ?? 'periodic';
  if (mode !== 'periodic' && mode !== 'revision') {
    throw new FlagError(`unknown auto-compaction-mode "${mode}". See 'etcd --help'.`, 1);
  }
  const state = values.get('initial-cluster-state') ?? 'new';
  if (state !== 'new' && state !== 'existing') throw usage('initial-cluster-state', state, 'invalid value');
  return {
    name,
    dataDir: values.get('data-dir') ?? `${name}.tern`,
    listenClientUrls,
    advertiseClientUrls: urlList(values, 'advertise-client-urls', 'http://localhost:2379'),
    listenPeerUrls: urlList(values, 'listen-peer-urls', DEFAULT_PEER_URL, false),
    initialAdvertisePeerUrls,
    initialCluster,
    initialClusterState: state,
    initialClusterToken: values.get('initial-cluster-token') ?? 'etcd-cluster',
    heartbeatMs,
    electionMs,
    snapshotCount: unsigned(values, 'snapshot-count', 100_000),
    quotaBackendBytes: signed(values, 'quota-backend-bytes', 0),
    autoCompactionMode: mode,
    autoCompactionRetention: retention(mode, values.get('auto-compaction-retention') ?? '0'),
    listenMetricsUrls: urlList(values, 'listen-metrics-urls', ''),
    maxRequestBytes: positive(values, 'max-request-bytes', 1_572_864),
    tls: tlsFor(values, listenClientUrls, urlList(values, 'listen-peer-urls', DEFAULT_PEER_URL)),
    auth: authFor(values),
    initialCorruptCheck: goBool(values, 'experimental-initial-corrupt-check', false),
    strictReconfigCheck: goBool(values, 'strict-reconfig-check', true),
  };
}

function authFor(values: Map<string, string>): AuthFlags {
  const parsed = authFlagsFrom(values);
  if (!parsed.ok) throw new FlagError(parsed.error, parsed.exitCode);
  return parsed.flags;
}

/** The TLS flags, refused as etcd refuses them (a https URL with no certificate to serve it, too). */
function tlsFor(values: Map<string, string>, clientUrls: readonly string[], peerUrls: readonly string[]): TlsFlags {
  const parsed = tlsFlagsFrom(values);
  if (!parsed.ok) throw new FlagError(parsed.error, parsed.exitCode);
  const missing = missingCertificate(parsed.flags.client, clientUrls, 'client') ?? missingCertificate(parsed.flags.peer, peerUrls, 'peer');
  if (missing !== null) throw new FlagError(missing, 1);
  return parsed.flags;
}

/** A Go bool flag: `fallback` when absent; Go's strconv.ParseBool spellings, else etcd's usage error. */
function goBool(values: Map<string, string>, flag: string, fallback: boolean): boolean {
  const raw = values.get(flag);
  const parsed = raw === undefined ? fallback : parseGoBool(raw);
  if (parsed === null) throw new FlagError(`invalid boolean value "${raw ?? ''}" for -${flag}: parse error`, 2);
  return parsed;
}

/** A positive integer flag. */
function positive(values: Map<string, string>, flag: string, fallback: number): number {
  const n = unsigned(values, flag, fallback);
  if (n === 0) throw usage(flag, values.get(flag) ?? '', 'must be positive');
  return n;
}

/** A non-negative integer flag (etcd's uint64/int64 flags: Go's "parse error" on junk). */
function unsigned(values: Map<string, string>, flag: string, fallback: number): number {
  const raw = values.get(flag);
  if (raw === undefined) return fallback;
  const n = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw usage(flag, raw, 'parse error');
  return n;
}

/** An int64 flag (Go's "parse error" on junk). */
function signed(values: Map<string, string>, flag: string, fallback: number): number {
  const raw = values.get(flag);
  if (raw === undefined) return fallback;
  const n = /^[-+]?\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(n)) throw usage(flag, raw, 'parse error');
  return n;
}

/** etcd: a bare integer is hours (periodic) or a revision count; otherwise a Go duration. */
function retention(mode: AutoCompactionMode, raw: string): number {
  if (/^\d+$/.test(raw)) return mode === 'periodic' ? Number(raw) * 3_600_000 : Number(raw);
  const ms = mode === 'periodic' ? parseGoDurationMs(raw) : null;
  if (ms === null || ms < 0) {
    throw new FlagError(`error parsing CompactionRetention: time: invalid duration "${raw}"`, 1);
  }
  return ms;
}

/** A comma-separated URL flag; every URL must be http://host:port (Tern serves plain http). */
function urlList(values: Map<string, string>, flag: string, fallback: string, unixAllowed = flag === 'listen-client-urls' || flag === 'advertise-client-urls'): string[] {
  const raw = values.get(flag) ?? fallback;
  const urls = raw.split(',').filter((u) => u !== '');
  for (const url of urls) {
    const why = urlProblem(url, unixAllowed);
    if (why !== null) throw usage(flag, raw, why);
  }
  return urls;
}

function urlProblem(url: string, unixAllowed: boolean): string | null {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined || !['http', 'https', 'unix', 'unixs'].includes(scheme)) {
    return `URL scheme must be http, https, unix, or unixs: ${url}`;
  }
  if (scheme === 'unix' || scheme === 'unixs') {
    if (!unixAllowed) return `"${url}": Tern serves unix sockets on --listen-client-urls only`;
    return unixSocketPath(url) === null ? `"${url}" names no socket file` : null;
  }
  return hostPort(url) === null ? `"${url}" is not an http(s)://host:port URL` : null;
}

/**
 * --initial-cluster, checked against --name and --initial-advertise-peer-urls as etcd
 * checks it. etcd's quirk: with a non-default --name and the default --initial-cluster,
 * the cluster is this member alone under its name.
 */
function clusterFor(name: string, raw: string | undefined, advertised: readonly string[]): InitialMember[] {
  const given = raw ?? `${DEFAULT_NAME}=${DEFAULT_PEER_URL}`;
  const fromName = (n: string): string => advertised.map((u) => `${n}=${u}`).join(',');
  const effective = name !== DEFAULT_NAME && given === fromName(DEFAULT_NAME) ? fromName(name) : given;
  const members = new Map<string, string[]>();
  const seen = new Set<string>();
  for (const pair of effective.split(',').filter((p) => p !== '')) {
    const eq = pair.indexOf('=');
    const [member, url] = eq < 0 ? ['', pair] : [pair.slice(0, eq), pair.slice(eq + 1)];
    const why = eq < 0 ? `URL scheme must be http, https, unix, or unixs: ` : urlProblem(url, false);
    if (why !== null) throw new FlagError(`error setting up initial cluster: ${why}`, 1);
    if (seen.has(url)) throw new FlagError(`error setting up initial cluster: peer URL ${url} is listed twice in --initial-cluster=${effective}`, 1);
    seen.add(url);
    members.set(member, [...(members.get(member) ?? []), url]);
  }
  const mine = members.get(name);
  if (mine === undefined) throw new FlagError(`couldn't find local name "${name}" in the initial cluster configuration`, 1);
  const [a, b] = [[...mine].sort().join(','), [...advertised].sort().join(',')];
  if (a !== b) {
    throw new FlagError(`--initial-cluster has ${name}=${mine.join(',')} but missing from `
      + `--initial-advertise-peer-urls=${advertised.join(',')} (resolved urls: "${b}" != "${a}")`, 1);
  }
  return [...members].map(([n, peerUrls]) => ({ name: n, peerUrls }));
}
