// etcd's command-line flags, with etcd's defaults and error texts, interpreted into the
// member's settings. Which flags exist, their types and what Tern does with each is
// net/config/flagTable.ts; how the values are gathered (command line, ETCD_* variables,
// --config-file) is flagSources.ts and configFile.ts.
//
// Two kinds of refusal, as in etcd: a value that does not parse is a usage error
// (etcd prints `invalid value "x" for flag -name: …` and exits 2; from an ETCD_*
// variable it is `… for ETCD_NAME: …` and exit 1); flags that parse but do not fit
// together (a --name missing from --initial-cluster) are a configuration error (etcd
// logs it and exits 1). A flag whose semantics Tern lacks (--enable-v2=true, --proxy=on…)
// is refused with exit 1, naming the flag and why.

import { parseGoDurationMs } from './duration.js';
import { parseGoUint } from './goUint.js';
import { hostPort, unixSocketPath } from './urls.js';
import { parseGoInteger } from './goValues.js';
import { inertNotices, refusedFlag } from './dispositions.js';
import { parseArgs, type ValueSource } from './flagSources.js';
import { missingCertificate, parseGoBool, tlsFlagsFrom, type TlsFlags } from '../tls/tlsFlags.js';
import { authFlagsFrom, type AuthFlags } from '../auth/authFlags.js';
import { logSettingsFrom, type LogSettings } from '../log/logConfig.js';

export interface InitialMember {
  readonly name: string;
  readonly peerUrls: readonly string[];
}

export type AutoCompactionMode = 'periodic' | 'revision';

/** Server-to-client pings (--grpc-keepalive-interval/-timeout); null: etcd sets none (either is 0). */
export interface GrpcKeepalive {
  readonly intervalMs: number;
  readonly timeoutMs: number;
}

export interface Flags {
  readonly name: string;
  readonly dataDir: string;
  /** --wal-dir: where the LMDB environment (Raft log and MVCC records) lives; '' = <data-dir>/member/wal. */
  readonly walDir: string;
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
  /** --initial-election-tick-advance (default true): a starting member fast-forwards its election clock. */
  readonly initialElectionTickAdvance: boolean;
  /** --pre-vote; Tern's default is true (etcd 3.4's is false): see docs/flags.md. */
  readonly preVote: boolean;
  /** Applied entries between snapshots (etcd's --snapshot-count). */
  readonly snapshotCount: number;
  /**
   * etcd's --backend-batch-interval in ms (0 or less: 100): the longest the MVCC batches
   * and commit index wait for the next Raft log write before a commit of their own
   * (storage/deferredWrites.ts).
   */
  readonly backendBatchIntervalMs: number;
  /** etcd's --backend-batch-limit (0 or less: 10000): the most such batches that wait. */
  readonly backendBatchLimit: number;
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
  /** etcd's --max-txn-ops: the most operations in each of a txn's compare, success and failure lists. */
  readonly maxTxnOps: number;
  readonly grpcKeepalive: GrpcKeepalive | null;
  /** --experimental-watch-progress-notify-interval in ms (at least 100, as etcd adjusts it). */
  readonly watchProgressNotifyIntervalMs: number;
  /**
   * etcd's --max-concurrent-streams: the HTTP/2 streams (calls) one client connection may
   * have open at once; default 2^32-1, unlimited. Clients queue the calls beyond it.
   */
  readonly maxConcurrentStreams: number;
  /** The client and peer sides' TLS flags (net/tls/tlsFlags.ts). */
  readonly tls: TlsFlags;
  /** --auth-token, --auth-token-ttl, --bcrypt-cost (net/auth/authFlags.ts); key files are read at start. */
  readonly auth: AuthFlags;
  /**
   * etcd's --experimental-initial-corrupt-check (etcd's e2e suite passes it to every member):
   * a restarted member compares its HashKV with its peers' before serving (net/member/corruptCheck.ts).
   */
  readonly initialCorruptCheck: boolean;
  /** etcd's --experimental-corrupt-check-time in ms: the leader's periodic check; 0 off. */
  readonly corruptCheckTimeMs: number;
  /** etcd's --strict-reconfig-check (default true): membership changes must keep a quorum of started voters. */
  readonly strictReconfigCheck: boolean;
  /** etcd's --force-new-cluster: restart as a cluster of this member alone, keeping the data (net/member/forceNewCluster.ts). */
  readonly forceNewCluster: boolean;
  /** --logger, --log-level, --log-outputs, --debug (net/log/logConfig.ts). */
  readonly logging: LogSettings;
  /** One line per inert flag that was set ("… accepted; no effect in Tern: <why>"). */
  readonly notices: readonly string[];
}

export type FlagsResult =
  | { readonly ok: true; readonly flags: Flags }
  | {
    readonly ok: false;
    readonly error: string;
    readonly exitCode: 1 | 2;
    /** One of etcd's checks of the flags' values (it prints "error verifying flags, …"). */
    readonly verify?: boolean;
    /** etcd panics here (an unknown --log-level): "panic: …", exit 2. */
    readonly panic?: boolean;
  };

const DEFAULT_NAME = 'default';
const DEFAULT_PEER_URL = 'http://localhost:2380';
/** etcd's maxElectionMs (embed/config.go). */
const MAX_ELECTION_MS = 50_000;
/** etcd's minWatchProgressInterval (v3rpc/watch.go). */
const MIN_WATCH_PROGRESS_MS = 100;
const DEFAULT_WATCH_PROGRESS_MS = 10 * 60 * 1000;

/** A refusal on its way out of the parser. */
class FlagError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2, readonly how: { readonly verify?: boolean; readonly panic?: boolean } = {}) {
    super(message);
  }
}

const verifyError = (message: string): FlagError => new FlagError(message, 1, { verify: true });

/** The gathered values and where each came from (a refusal names the flag, the variable or the file key). */
class Values {
  constructor(readonly map: ReadonlyMap<string, string>, private readonly sources: ReadonlyMap<string, ValueSource>) {}

  get(flag: string): string | undefined {
    return this.map.get(flag);
  }

  /** A value that does not parse, in the words etcd uses for where it came from. */
  refuse(flag: string, raw: string, why: string): FlagError {
    switch (this.sources.get(flag) ?? 'flag') {
      case 'flag': return new FlagError(`invalid value "${raw}" for flag -${flag}: ${why}`, 2);
      case 'env': return verifyError(`invalid value "${raw}" for ETCD_${flag.toUpperCase().replaceAll('-', '_')}: ${why}`);
      case 'file': return new FlagError(`unexpected error setting up ${flag}: ${why}`, 1);
    }
  }
}

/** The command line alone (no ETCD_* variables, no config file): what the tests call. */
export function parseFlags(argv: readonly string[]): FlagsResult {
  const parsed = parseArgs(argv);
  if (parsed.kind === 'help') return { ok: false, error: 'flag: help requested', exitCode: 2 };
  if (parsed.kind === 'usage-error') return { ok: false, error: parsed.message, exitCode: 2 };
  const { values, stray } = parsed.commandLine;
  if (stray !== null) return { ok: false, error: `'${stray}' is not a valid flag`, exitCode: 1, verify: true };
  return flagsFromValues(values, new Map([...values.keys()].map((k) => [k, 'flag'])));
}

/** Gathered values (the command line with the variables, or a config file) as the member's settings. */
export function flagsFromValues(values: ReadonlyMap<string, string>, sources: ReadonlyMap<string, ValueSource>): FlagsResult {
  try {
    return { ok: true, flags: interpret(new Values(values, sources)) };
  } catch (error) {
    if (error instanceof FlagError) return { ok: false, error: error.message, exitCode: error.exitCode, ...error.how };
    throw error;
  }
}

function interpret(values: Values): Flags {
  const refused = refusedFlag(values.map);
  if (refused !== null) throw new FlagError(refused, 1);
  const logging = logSettingsFrom(values.map);
  if (!logging.ok) throw logging.panic ? new FlagError(logging.error, 2, { panic: true }) : verifyError(logging.error);
  const name = values.get('name') ?? DEFAULT_NAME;
  const { heartbeatMs, electionMs } = raftTiming(values);
  const listenClientUrls = urlList(values, 'listen-client-urls', 'http://localhost:2379');
  const initialAdvertisePeerUrls = urlList(values, 'initial-advertise-peer-urls', DEFAULT_PEER_URL);
  const initialCluster = clusterFor(name, values.get('initial-cluster'), initialAdvertisePeerUrls);
  const mode = values.get('auto-compaction-mode') ?? 'periodic';
  if (mode !== 'periodic' && mode !== 'revision') {
    throw verifyError(`unknown auto-compaction-mode "${mode}"`);
  }
  const state = values.get('initial-cluster-state') ?? 'new';
  if (state !== 'new' && state !== 'existing') throw values.refuse('initial-cluster-state', state, 'invalid value');
  checkLeaseCheckpointFlags(values);
  return {
    name,
    dataDir: values.get('data-dir') ?? `${name}.tern`,
    walDir: values.get('wal-dir') ?? '',
    listenClientUrls,
    advertiseClientUrls: urlList(values, 'advertise-client-urls', 'http://localhost:2379'),
    listenPeerUrls: urlList(values, 'listen-peer-urls', DEFAULT_PEER_URL),
    initialAdvertisePeerUrls,
    initialCluster,
    initialClusterState: state,
    initialClusterToken: values.get('initial-cluster-token') ?? 'etcd-cluster',
    heartbeatMs,
    electionMs,
    initialElectionTickAdvance: goBool(values, 'initial-election-tick-advance', true),
    preVote: goBool(values, 'pre-vote', true),
    snapshotCount: unsigned(values, 'snapshot-count', 100_000),
    ...backendBatching(values),
    quotaBackendBytes: signed(values, 'quota-backend-bytes', 0),
    autoCompactionMode: mode,
    autoCompactionRetention: retention(mode, values.get('auto-compaction-retention') ?? '0'),
    listenMetricsUrls: urlList(values, 'listen-metrics-urls', ''),
    maxRequestBytes: positive(values, 'max-request-bytes', 1_572_864),
    maxTxnOps: unsigned(values, 'max-txn-ops', 128),
    grpcKeepalive: keepalive(values),
    watchProgressNotifyIntervalMs: watchProgressInterval(values),
    maxConcurrentStreams: goUint32(values, 'max-concurrent-streams', MAX_UINT32),
    tls: tlsFor(values, listenClientUrls, urlList(values, 'listen-peer-urls', DEFAULT_PEER_URL)),
    auth: authFor(values),
    initialCorruptCheck: goBool(values, 'experimental-initial-corrupt-check', false),
    corruptCheckTimeMs: Math.max(0, duration(values, 'experimental-corrupt-check-time', 0)),
    strictReconfigCheck: goBool(values, 'strict-reconfig-check', true),
    forceNewCluster: goBool(values, 'force-new-cluster', false),
    logging: logging.settings,
    notices: inertNotices(values.map),
  };
}

/** --heartbeat-interval and --election-timeout, with etcd's checks (embed Config.Validate). */
function raftTiming(values: Values): { heartbeatMs: number; electionMs: number } {
  const heartbeatMs = unsigned(values, 'heartbeat-interval', 100);
  const electionMs = unsigned(values, 'election-timeout', 1000);
  if (heartbeatMs <= 0) throw verifyError(`--heartbeat-interval must be >0 (set to ${heartbeatMs}ms)`);
  if (electionMs <= 0) throw verifyError(`--election-timeout must be >0 (set to ${electionMs}ms)`);
  if (electionMs < 5 * heartbeatMs) {
    throw verifyError(`--election-timeout[${electionMs}ms] should be at least as 5 times as --heartbeat-interval[${heartbeatMs}ms]`);
  }
  if (electionMs > MAX_ELECTION_MS) {
    throw verifyError(`--election-timeout[${electionMs}ms] is too long, and should be set less than ${MAX_ELECTION_MS}ms`);
  }
  return { heartbeatMs, electionMs };
}

function checkLeaseCheckpointFlags(values: Values): void {
  if (goBool(values, 'experimental-enable-lease-checkpoint-persist', false) && !goBool(values, 'experimental-enable-lease-checkpoint', false)) {
    throw verifyError('setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint');
  }
}

/** etcd's backend defaults (mvcc/backend/backend.go) stand for 0 and less, as there. */
function backendBatching(values: Values): { backendBatchIntervalMs: number; backendBatchLimit: number } {
  const intervalMs = duration(values, 'backend-batch-interval', 0);
  const limit = signed(values, 'backend-batch-limit', 0);
  return { backendBatchIntervalMs: intervalMs > 0 ? intervalMs : 100, backendBatchLimit: limit > 0 ? limit : 10_000 };
}

/** etcd sets server keepalive parameters only when both the interval and the timeout are positive. */
function keepalive(values: Values): GrpcKeepalive | null {
  const intervalMs = duration(values, 'grpc-keepalive-interval', 2 * 3_600_000);
  const timeoutMs = duration(values, 'grpc-keepalive-timeout', 20_000);
  return intervalMs > 0 && timeoutMs > 0 ? { intervalMs, timeoutMs } : null;
}

/** 0 or less keeps the default; a positive value under 100 ms becomes 100 ms (etcd's minimum). */
function watchProgressInterval(values: Values): number {
  const ms = duration(values, 'experimental-watch-progress-notify-interval', DEFAULT_WATCH_PROGRESS_MS);
  return ms <= 0 ? DEFAULT_WATCH_PROGRESS_MS : Math.max(MIN_WATCH_PROGRESS_MS, ms);
}

function duration(values: Values, flag: string, fallbackMs: number): number {
  const raw = values.get(flag);
  if (raw === undefined) return fallbackMs;
  const ms = parseGoDurationMs(raw);
  if (ms === null) throw values.refuse(flag, raw, 'parse error');
  return ms;
}

function authFor(values: Values): AuthFlags {
  const parsed = authFlagsFrom(values.map);
  if (!parsed.ok) throw new FlagError(parsed.error, parsed.exitCode);
  return parsed.flags;
}

/** The TLS flags, refused as etcd refuses them (a https URL with no certificate to serve it, too). */
function tlsFor(values: Values, clientUrls: readonly string[], peerUrls: readonly string[]): TlsFlags {
  const parsed = tlsFlagsFrom(values.map);
  if (!parsed.ok) throw new FlagError(parsed.error, parsed.exitCode);
  const missing = missingCertificate(parsed.flags.client, clientUrls, 'client') ?? missingCertificate(parsed.flags.peer, peerUrls, 'peer');
  if (missing !== null) throw new FlagError(missing, 1);
  return parsed.flags;
}

/** A Go bool flag: `fallback` when absent; Go's strconv.ParseBool spellings, else etcd's usage error. */
function goBool(values: Values, flag: string, fallback: boolean): boolean {
  const raw = values.get(flag);
  const parsed = raw === undefined ? fallback : parseGoBool(raw);
  if (parsed === null) throw new FlagError(`invalid boolean value "${raw ?? ''}" for -${flag}: parse error`, 2);
  return parsed;
}

const MAX_UINT32 = 4_294_967_295;

/** etcd's uint32 flags (pkg/flags.Uint32Value): Go's ParseUint(s, 0, 32), whose error etcd prints whole. */
function goUint32(values: Values, flag: string, fallback: number): number {
  const raw = values.get(flag);
  if (raw === undefined) return fallback;
  const parsed = parseGoUint(raw);
  if (!parsed.ok) throw values.refuse(flag, raw, parsed.error);
  return parsed.value;
}

/** A positive integer flag. */
function positive(values: Values, flag: string, fallback: number): number {
  const n = unsigned(values, flag, fallback);
  if (n === 0) throw values.refuse(flag, values.get(flag) ?? '', 'must be positive');
  return n;
}

/** A non-negative integer flag (etcd's uint/uint64 flags: Go's base-0 syntax, "parse error" on junk). */
function unsigned(values: Values, flag: string, fallback: number): number {
  return integer(values, flag, fallback, false);
}

/** An int64 flag (Go's base-0 syntax; "parse error" on junk). */
function signed(values: Values, flag: string, fallback: number): number {
  return integer(values, flag, fallback, true);
}

function integer(values: Values, flag: string, fallback: number, allowSign: boolean): number {
  const raw = values.get(flag);
  if (raw === undefined) return fallback;
  const parsed = parseGoInteger(raw, allowSign);
  if (typeof parsed !== 'bigint') throw values.refuse(flag, raw, parsed);
  const n = Number(parsed);
  if (!Number.isSafeInteger(n)) throw values.refuse(flag, raw, 'value out of range');
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

/** A comma-separated URL flag: http(s)://host:port URLs, and unix(s):// ones where UNIX_BY_FLAG allows them. */
function urlList(values: Values, flag: string, fallback: string, unixAllowed: UnixAllowed = UNIX_BY_FLAG.get(flag) ?? 'none'): string[] {
  const raw = values.get(flag) ?? fallback;
  const urls = raw.split(',').filter((u) => u !== '');
  for (const url of urls) {
    const why = urlProblem(url, unixAllowed);
    if (why !== null) throw values.refuse(flag, raw, why);
  }
  return urls;
}

/** Which unix socket URLs a URL flag takes: clients both forms, peers plain unix:// (the peer TLS acceptor is TCP-only). */
type UnixAllowed = 'none' | 'plain' | 'both';
const UNIX_BY_FLAG: ReadonlyMap<string, UnixAllowed> = new Map([
  ['listen-client-urls', 'both'], ['advertise-client-urls', 'both'],
  ['listen-peer-urls', 'plain'], ['initial-advertise-peer-urls', 'plain'],
]);

function urlProblem(url: string, unixAllowed: UnixAllowed): string | null {
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === undefined || !['http', 'https', 'unix', 'unixs'].includes(scheme)) {
    return `URL scheme must be http, https, unix, or unixs: ${url}`;
  }
  if (scheme === 'unix' || scheme === 'unixs') {
    if (unixAllowed === 'none' || (unixAllowed === 'plain' && scheme === 'unixs')) {
      return `"${url}": Tern serves unixs:// on --listen-client-urls only, and unix:// on the client and peer URLs`;
    }
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
    const why = eq < 0 ? `URL scheme must be http, https, unix, or unixs: ` : urlProblem(url, 'plain');
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
