// etcd's command-line flags (the subset Tern serves so far), with etcd's defaults.
// Accepts both `--flag value` and `--flag=value`, as etcd does.

export interface Flags {
  readonly name: string;
  readonly dataDir: string;
  readonly listenClientUrls: readonly string[];
  readonly advertiseClientUrls: readonly string[];
  readonly initialAdvertisePeerUrls: readonly string[];
  readonly initialClusterToken: string;
  readonly heartbeatMs: number;
  readonly electionMs: number;
  /** Extra URLs serving /metrics and /health over HTTP (etcd's --listen-metrics-urls); none by default. */
  readonly listenMetricsUrls: readonly string[];
  /** etcd's --max-request-bytes: the largest request that may become a Raft proposal. */
  readonly maxRequestBytes: number;
}

export type FlagsResult = { readonly ok: true; readonly flags: Flags } | { readonly ok: false; readonly error: string };

const KNOWN = new Set([
  'name', 'data-dir', 'listen-client-urls', 'advertise-client-urls', 'initial-advertise-peer-urls',
  'initial-cluster-token', 'heartbeat-interval', 'election-timeout', 'listen-metrics-urls', 'max-request-bytes',
]);

export function parseFlags(argv: readonly string[]): FlagsResult {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (!arg.startsWith('--')) return { ok: false, error: `unexpected argument "${arg}"` };
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    if (!KNOWN.has(name)) return { ok: false, error: `unknown flag --${name}` };
    const value = eq < 0 ? argv[++i] : arg.slice(eq + 1);
    if (value === undefined) return { ok: false, error: `flag --${name} needs a value` };
    values.set(name, value);
  }
  const name = values.get('name') ?? 'default';
  const urls = (flag: string, fallback: string): string[] => (values.get(flag) ?? fallback).split(',').filter((u) => u !== '');
  const millis = (flag: string, fallback: number): number | string => {
    const raw = values.get(flag);
    if (raw === undefined) return fallback;
    const n = Number(raw);
    return Number.isInteger(n) && n > 0 ? n : `--${flag} must be a positive integer (milliseconds), got "${raw}"`;
  };
  const heartbeatMs = millis('heartbeat-interval', 100);
  const electionMs = millis('election-timeout', 1000);
  if (typeof heartbeatMs === 'string') return { ok: false, error: heartbeatMs };
  if (typeof electionMs === 'string') return { ok: false, error: electionMs };
  if (electionMs < 5 * heartbeatMs) {
    return { ok: false, error: `--election-timeout[${electionMs}ms] should be at least as 5 times as --heartbeat-interval[${heartbeatMs}ms]` };
  }
  const listenClientUrls = urls('listen-client-urls', 'http://localhost:2379');
  for (const url of listenClientUrls) {
    if (hostPort(url) === null) return { ok: false, error: `--listen-client-urls: "${url}" is not an http://host:port URL` };
  }
  const listenMetricsUrls = urls('listen-metrics-urls', '');
  for (const url of listenMetricsUrls) {
    if (hostPort(url) === null) return { ok: false, error: `--listen-metrics-urls: "${url}" is not an http://host:port URL` };
  }
  const maxRequestBytes = Number(values.get('max-request-bytes') ?? 1572864);
  if (!Number.isInteger(maxRequestBytes) || maxRequestBytes <= 0) {
    return { ok: false, error: `--max-request-bytes must be a positive integer, got "${values.get('max-request-bytes') ?? ''}"` };
  }
  return {
    ok: true,
    flags: {
      name,
      dataDir: values.get('data-dir') ?? `${name}.tern`,
      listenClientUrls,
      advertiseClientUrls: urls('advertise-client-urls', 'http://localhost:2379'),
      initialAdvertisePeerUrls: urls('initial-advertise-peer-urls', 'http://localhost:2380'),
      initialClusterToken: values.get('initial-cluster-token') ?? 'etcd-cluster',
      heartbeatMs,
      electionMs,
      listenMetricsUrls,
      maxRequestBytes,
    },
  };
}

/** "http://127.0.0.1:2379" → "127.0.0.1:2379" (what grpc-js binds); null if not such a URL. */
export function hostPort(url: string): string | null {
  try {
    const u = new URL(url);
    if (u.protocol !== 'http:' || u.port === '') return null;
    return `${u.hostname}:${u.port}`;
  } catch {
    return null;
  }
}
