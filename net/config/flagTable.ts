// Every flag etcd 3.4 defines (etcdmain/config.go), with etcd's default and what Tern
// does with it. One table feeds the parser (which names exist, which are bools, how a
// value must parse), the ETCD_* environment variables, the --config-file keys, --help
// and docs/flags.md, so the five cannot drift apart.
//
// Dispositions:
//   honoured — Tern does what etcd does with it (docs/flags.md says how, and where the
//              default differs);
//   inert    — accepted; its subject is etcd-internal (bbolt, WAL files, Go's profiler…)
//              and has no counterpart in Tern. Setting it logs one line saying so;
//   refused  — a semantics Tern does not have (the v2 API, the v2 proxy, discovery…):
//              accepted only with its default value, otherwise exit 1 naming the flag;
//   legacy   — one of etcd's long-removed flags it still swallows with a warning.

import type { GoType } from './goValues.js';

export type Section =
  | 'Member' | 'Clustering' | 'Security' | 'Auth' | 'Profiling and Monitoring' | 'Logging'
  | 'v2 Proxy' | 'Experimental' | 'Unsafe' | 'Deprecated' | 'Other';

export type Disposition =
  | { readonly kind: 'honoured' }
  | { readonly kind: 'inert'; readonly why: string }
  | { readonly kind: 'refused'; readonly why: string; readonly allowed: readonly string[] }
  | { readonly kind: 'legacy' };

/** How the key is typed in a --config-file (etcd's configYAML, decoded by Go's encoding/json). */
export type FileType = 'string' | 'strings' | 'bool' | 'uint' | 'int' | 'duration' | 'none';

export interface FlagSpec {
  readonly name: string;
  readonly type: GoType;
  /** etcd's default, as its --help shows it ('' for none). */
  readonly etcdDefault: string;
  readonly section: Section;
  /** Tern's own one-line description (for --help). */
  readonly summary: string;
  readonly disposition: Disposition;
  /** Defined by etcd but left out of its --help. */
  readonly hidden?: boolean;
  /** Its type as a config-file key; 'none': not a key of etcd's file. Derived from `type` if absent. */
  readonly file?: FileType;
}

const STRING: GoType = { kind: 'string' };
const BOOL: GoType = { kind: 'bool' };
const UINT: GoType = { kind: 'uint' };
const INT: GoType = { kind: 'int' };
const DURATION: GoType = { kind: 'duration' };
const URLS: GoType = { kind: 'urls' };
const STRINGS: GoType = { kind: 'strings' };
const HONOURED: Disposition = { kind: 'honoured' };
const inert = (why: string): Disposition => ({ kind: 'inert', why });
const refused = (why: string, ...allowed: string[]): Disposition => ({ kind: 'refused', why, allowed });

type Row = readonly [name: string, type: GoType, etcdDefault: string, summary: string, disposition: Disposition, extra?: Partial<FlagSpec>];

const rows = (section: Section, list: readonly Row[]): FlagSpec[] =>
  list.map(([name, type, etcdDefault, summary, disposition, extra]) => ({ name, type, etcdDefault, section, summary, disposition, ...extra }));

const NO_FILE = { file: 'none' } as const;
const NO_V2_PROXY = 'only used by the v2 proxy (--proxy), which Tern does not run';

const MEMBER = rows('Member', [
  ['name', STRING, 'default', 'This member\'s name (in --initial-cluster and member list).', HONOURED],
  ['data-dir', STRING, '${name}.etcd', 'Directory for the member\'s data (Tern\'s default: ${name}.tern).', HONOURED],
  ['wal-dir', STRING, '', 'Directory for the LMDB environment holding the Raft log and MVCC records (default: <data-dir>/member/wal).', HONOURED],
  ['snapshot-count', UINT, '100000', 'Applied entries between Raft snapshots.', HONOURED],
  ['heartbeat-interval', UINT, '100', 'Raft tick and heartbeat interval, ms.', HONOURED],
  ['election-timeout', UINT, '1000', 'Raft election timeout, ms (at least 5 heartbeats).', HONOURED],
  ['initial-election-tick-advance', BOOL, 'true', 'Fast-forward the election clock at start, so a new cluster elects sooner.', HONOURED],
  ['listen-peer-urls', URLS, 'http://localhost:2380', 'URLs to serve peers on.', HONOURED],
  ['listen-client-urls', URLS, 'http://localhost:2379', 'URLs to serve clients on (gRPC and HTTP).', HONOURED],
  ['max-snapshots', UINT, '5', 'Snapshot files to keep.',
    inert('Tern keeps its one current snapshot inside the LMDB environment; there are no snapshot files to retain')],
  ['max-wals', UINT, '5', 'WAL files to keep.',
    inert('Tern\'s Raft log lives in LMDB and is truncated at each snapshot; there are no WAL files to retain')],
  ['quota-backend-bytes', INT, '0', 'Backend size that raises the NOSPACE alarm (0: 2 GiB).', HONOURED],
  ['backend-batch-interval', DURATION, '', 'Longest time before a backend commit (default 100ms).', HONOURED],
  ['backend-batch-limit', INT, '0', 'Most applied entries before a backend commit (default 10000).', HONOURED],
  ['max-txn-ops', UINT, '128', 'Most operations in one transaction (compare, success and failure each).', HONOURED],
  ['max-request-bytes', UINT, '1572864', 'Largest client request, bytes.', HONOURED],
  // A uint32 in etcd (pkg/flags Uint32Value), checked when interpreted (goUint.ts: etcd prints strconv's whole
  // error); etcd's --help shows the default as math.MaxUint32.
  ['max-concurrent-streams', STRING, '4294967295', 'Most concurrent calls (HTTP/2 streams) on one client connection.', HONOURED, { file: 'uint' }],
  ['grpc-keepalive-min-time', DURATION, '5s', 'Shortest client ping interval the server tolerates.',
    inert('grpc-js does not police client ping rates, so clients pinging more often are not sent GOAWAY as etcd does')],
  ['grpc-keepalive-interval', DURATION, '2h', 'Server-to-client ping interval (0: none).', HONOURED],
  ['grpc-keepalive-timeout', DURATION, '20s', 'How long a ping may go unanswered before the connection is closed (0: none).', HONOURED],
]);

const CLUSTERING = rows('Clustering', [
  ['initial-advertise-peer-urls', URLS, 'http://localhost:2380', 'This member\'s peer URLs, as the others reach it.', HONOURED],
  ['initial-cluster', STRING, 'default=http://localhost:2380', 'The members to bootstrap with: name=peerURL,…', HONOURED],
  ['initial-cluster-state', { kind: 'choice', values: ['new', 'existing'] }, 'new', 'new: bootstrap a cluster; existing: join one.', HONOURED],
  ['initial-cluster-token', STRING, 'etcd-cluster', 'Bootstrap token (member and cluster ids depend on it).', HONOURED],
  ['advertise-client-urls', URLS, 'http://localhost:2379', 'This member\'s client URLs, as clients reach it.', HONOURED],
  ['discovery', STRING, '', 'Discovery service URL.', refused('Tern bootstraps from --initial-cluster only; it has no discovery client', '')],
  ['discovery-fallback', { kind: 'choice', values: ['proxy', 'exit'] }, 'proxy', 'What to do when discovery fails.',
    inert('only used with --discovery, which Tern refuses')],
  ['discovery-proxy', STRING, '', 'HTTP proxy for the discovery service.', refused('Tern has no discovery client', '')],
  ['discovery-srv', STRING, '', 'DNS domain whose SRV records list the cluster.', refused('Tern bootstraps from --initial-cluster only; it does not look up DNS SRV records', '')],
  ['discovery-srv-name', STRING, '', 'Suffix of the DNS SRV name.', refused('Tern does not look up DNS SRV records', '')],
  ['strict-reconfig-check', BOOL, 'true', 'Refuse membership changes that would lose quorum.', HONOURED],
  ['pre-vote', BOOL, 'false', 'Run a pre-vote round before an election (Tern\'s default: true).', HONOURED],
  ['auto-compaction-retention', STRING, '0', 'Auto compaction retention (0: off).', HONOURED],
  ['auto-compaction-mode', STRING, 'periodic', 'periodic (a duration, bare numbers are hours) or revision (a count).', HONOURED],
  ['enable-v2', BOOL, 'false', 'Serve the v2 API.', refused('Tern serves the v3 API only', 'false')],
]);

const SECURITY = rows('Security', [
  ['cert-file', STRING, '', 'Client TLS certificate.', HONOURED, NO_FILE],
  ['key-file', STRING, '', 'Client TLS key.', HONOURED, NO_FILE],
  ['client-cert-auth', BOOL, 'false', 'Require client certificates signed by --trusted-ca-file.', HONOURED, NO_FILE],
  ['client-crl-file', STRING, '', 'Revoked client certificates (PEM or DER CRL).', HONOURED, NO_FILE],
  ['client-cert-allowed-hostname', STRING, '', 'Host name a client certificate must be valid for.', HONOURED, NO_FILE],
  ['trusted-ca-file', STRING, '', 'CA bundle for client certificates.', HONOURED, NO_FILE],
  ['auto-tls', BOOL, 'false', 'Serve clients TLS with a generated certificate.', HONOURED, NO_FILE],
  ['peer-cert-file', STRING, '', 'Peer TLS certificate.', HONOURED, NO_FILE],
  ['peer-key-file', STRING, '', 'Peer TLS key.', HONOURED, NO_FILE],
  ['peer-client-cert-auth', BOOL, 'false', 'Require peer certificates signed by --peer-trusted-ca-file.', HONOURED, NO_FILE],
  ['peer-trusted-ca-file', STRING, '', 'CA bundle for peer certificates.', HONOURED, NO_FILE],
  ['peer-cert-allowed-cn', STRING, '', 'Common name a peer certificate must carry.', HONOURED, NO_FILE],
  ['peer-cert-allowed-hostname', STRING, '', 'Host name a peer certificate must be valid for.', HONOURED, NO_FILE],
  ['peer-auto-tls', BOOL, 'false', 'Serve peers TLS with a generated certificate.', HONOURED, NO_FILE],
  ['peer-crl-file', STRING, '', 'Revoked peer certificates.', HONOURED, NO_FILE],
  ['cipher-suites', STRINGS, '', 'TLS cipher suites, Go\'s names, comma-separated.', HONOURED],
  ['cors', STRINGS, '*', 'Origins allowed to make cross-origin requests.',
    refused('Tern\'s HTTP endpoints answer every origin (etcd\'s default: Access-Control-Allow-Origin *) and cannot narrow it', '*', ''), { file: 'string' }],
  ['host-whitelist', STRINGS, '*', 'Host headers accepted on insecure HTTP.',
    refused('Tern does not check Host headers, so only the default (allow all: * or empty) has a meaning', '*', ''), { file: 'string' }],
  ['experimental-peer-skip-client-san-verification', BOOL, 'false', 'Do not check a peer client certificate\'s SANs against its address.',
    inert('Tern checks peer certificates against --peer-cert-allowed-cn/-hostname only, never against the dialing address'), NO_FILE],
]);

const AUTH = rows('Auth', [
  ['auth-token', STRING, 'simple', 'Token type and options: simple, or jwt,pub-key=…,priv-key=…,sign-method=…', HONOURED],
  ['bcrypt-cost', UINT, '10', 'bcrypt cost for password hashes (4–31).', HONOURED],
  ['auth-token-ttl', UINT, '300', 'Seconds an unused simple token lives.', HONOURED],
]);

const MONITORING = rows('Profiling and Monitoring', [
  ['enable-pprof', BOOL, 'false', 'Serve Go\'s profiler under /debug/pprof/.',
    inert('Go\'s runtime profiler; Tern runs on Node (profile it with node --cpu-prof or --inspect)')],
  ['metrics', STRING, 'basic', 'basic, or extensive for gRPC handling-time histograms.',
    inert('Tern exports one metric set whichever level is named')],
  ['listen-metrics-urls', URLS, '', 'Extra URLs serving /metrics and /health.', HONOURED],
]);

const LOGGING = rows('Logging', [
  ['logger', STRING, 'capnslog', 'zap (JSON lines) or capnslog (plain lines).', HONOURED],
  ['log-outputs', STRINGS, 'default', 'Where logs go: default, stderr, stdout, or file paths (zap: several).', HONOURED],
  ['log-level', STRING, 'info', 'debug, info, warn, error, panic or fatal.', HONOURED],
  ['log-output', STRINGS, 'default', 'Deprecated spelling of --log-outputs.', HONOURED, { hidden: true }],
]);

const PROXY = rows('v2 Proxy', [
  ['proxy', { kind: 'choice', values: ['off', 'readonly', 'on'] }, 'off', 'Run as a v2 proxy.', refused('Tern does not run etcd\'s v2 proxy', 'off')],
  ['proxy-failure-wait', UINT, '5000', 'Proxy: ms an endpoint stays failed.', inert(NO_V2_PROXY)],
  ['proxy-refresh-interval', UINT, '30000', 'Proxy: endpoint refresh interval, ms.', inert(NO_V2_PROXY)],
  ['proxy-dial-timeout', UINT, '1000', 'Proxy: dial timeout, ms.', inert(NO_V2_PROXY)],
  ['proxy-write-timeout', UINT, '5000', 'Proxy: write timeout, ms.', inert(NO_V2_PROXY)],
  ['proxy-read-timeout', UINT, '0', 'Proxy: read timeout, ms.', inert(NO_V2_PROXY)],
]);

const EXPERIMENTAL = rows('Experimental', [
  ['experimental-initial-corrupt-check', BOOL, 'false', 'Compare hashes with the peers before serving.', HONOURED],
  ['experimental-corrupt-check-time', DURATION, '0s', 'Interval of the periodic corruption check.', HONOURED],
  ['experimental-enable-v2v3', STRING, '', 'Serve v2 requests from the v3 store under a prefix.', refused('Tern serves the v3 API only', '')],
  ['experimental-backend-bbolt-freelist-type', STRING, 'array', 'bbolt freelist type (array or map).', inert('Tern\'s bbolt backend keeps bbolt\'s array freelist, which is what either type writes to disk')],
  ['experimental-enable-lease-checkpoint', BOOL, 'false', 'Leader checkpoints remaining lease TTLs to the followers.',
    inert('Tern\'s leader always replicates a lease clock (every 0.5 s) and each renewal, so a new leader resumes a lease where it was, not from its full TTL')],
  ['experimental-enable-lease-checkpoint-persist', BOOL, 'false', 'Persist lease checkpoints (needs the flag above).',
    inert('Tern always applies checkpoints through the log, so they persist'), { hidden: true }],
  ['experimental-compaction-batch-limit', INT, '1000', 'Revisions deleted per compaction batch.',
    inert('a knob of etcd\'s bbolt compaction loop; Tern\'s compaction does not run in etcd\'s batches')],
  ['experimental-watch-progress-notify-interval', DURATION, '10m', 'Interval of progress notifications to watchers that asked for them.', HONOURED],
  ['experimental-warning-apply-duration', DURATION, '100ms', 'Apply time above which a request is logged as slow.',
    inert('Tern does not log slow applies')],
]);

const UNSAFE = rows('Unsafe', [
  ['force-new-cluster', BOOL, 'false', 'Restart as a one-member cluster, discarding the others.', HONOURED],
  ['unsafe-no-fsync', BOOL, 'false', 'Skip fsync (data loss on a crash).',
    inert('Tern always syncs its LMDB commits; it never trades durability for speed'), { hidden: true }],
]);

const DEPRECATED = rows('Deprecated', [
  ['debug', BOOL, 'false', 'Debug-level logging (use --log-level=debug).', HONOURED],
  ['log-package-levels', STRING, '', 'capnslog levels per package.', inert('Tern has one log level for all its modules (--log-level)')],
]);

const OTHER = rows('Other', [
  ['config-file', STRING, '', 'YAML file of etcd\'s keys; when given, other flags and ETCD_* variables are ignored.', HONOURED, NO_FILE],
  ['version', BOOL, 'false', 'Print the version and exit.', HONOURED, NO_FILE],
  ['enable-grpc-gateway', BOOL, 'true', 'Serve the JSON gateway under /v3/.',
    inert('Tern serves no JSON gateway; its HTTP port answers /health, /version and /metrics'), { hidden: true }],
]);

/** etcd's ignored flags (etcdmain/config.go `ignored`): accepted, bare, with a warning. */
const LEGACY = [
  'cluster-active-size', 'cluster-remove-delay', 'cluster-sync-interval', 'config', 'force', 'max-result-buffer',
  'max-retry-attempts', 'peer-heartbeat-interval', 'peer-election-timeout', 'retry-interval', 'snapshot', 'v', 'vv',
].map((name): FlagSpec => ({
  name, type: BOOL, etcdDefault: '', section: 'Other', summary: 'Removed in etcd 2; ignored with a warning.',
  disposition: { kind: 'legacy' }, hidden: true, file: 'none',
}));

export const FLAG_TABLE: readonly FlagSpec[] = [
  ...MEMBER, ...CLUSTERING, ...SECURITY, ...AUTH, ...MONITORING, ...LOGGING, ...PROXY, ...EXPERIMENTAL, ...UNSAFE,
  ...DEPRECATED, ...OTHER, ...LEGACY,
];

const BY_NAME: ReadonlyMap<string, FlagSpec> = new Map(FLAG_TABLE.map((spec) => [spec.name, spec]));

export function flagSpec(name: string): FlagSpec | undefined {
  return BY_NAME.get(name);
}

/** The variable etcd reads for a flag: ETCD_ + the name upper-cased, '-' → '_'. */
export function envName(flag: string): string {
  return `ETCD_${flag.toUpperCase().replaceAll('-', '_')}`;
}

/** A flag's type as a config-file key. */
export function fileTypeOf(spec: FlagSpec): FileType {
  if (spec.file !== undefined) return spec.file;
  switch (spec.type.kind) {
    case 'bool': return 'bool';
    case 'uint': return 'uint';
    case 'int': return 'int';
    case 'duration': return 'duration';
    case 'strings': return 'strings';
    case 'string': case 'choice': case 'urls': return 'string';
  }
}
