// The `grpc-proxy start` subcommand's flags, as etcd 3.4's cobra command reads them
// (etcdmain/grpc_proxy.go), with etcd's defaults and its argument checks. Honoured: the
// endpoints, the listen address, TLS towards the members (--cert/--key/--cacert,
// --insecure-skip-tls-verify) and towards the proxy's clients (--cert-file, --key-file,
// --trusted-ca-file, --client-crl-file, --auto-tls, --listen-cipher-suites), the message
// size limits, --max-concurrent-streams and --metrics-addr. Features that change what
// a client sees and that Tern's proxy does not have (DNS discovery, self-registration
// under --resolver-prefix, --namespace, the leasing and ordering layers) are refused with
// a message, never ignored; the rest (--enable-pprof, --debug) are accepted and logged.

import { cobraBool, parseCobraFlags } from '../config/cobraFlags.js';
import { opensslCiphers } from '../tls/cipherSuites.js';

export interface ProxyClientTls {
  readonly certFile: string;
  readonly keyFile: string;
  readonly caFile: string;
  readonly skipVerify: boolean;
}

export interface ProxyServingTls {
  readonly certFile: string;
  readonly keyFile: string;
  readonly trustedCaFile: string;
  readonly crlFile: string;
  readonly autoTls: boolean;
  /** node:tls `ciphers` from --listen-cipher-suites; undefined = Node's defaults. */
  readonly ciphers: string | undefined;
}

export interface GrpcProxyCommand {
  /** host:port of each member, the URL scheme stripped. */
  readonly endpoints: readonly string[];
  readonly listenHost: string;
  readonly listenPort: number;
  /** null: the members are dialled in plaintext. */
  readonly clientTls: ProxyClientTls | null;
  readonly servingTls: ProxyServingTls;
  readonly dataDir: string;
  readonly maxSendBytes: number;
  readonly maxRecvBytes: number;
  readonly maxConcurrentStreams: number;
  /** host:port for /metrics and /health over HTTP; null: none. */
  readonly metricsAddr: { readonly host: string; readonly port: number } | null;
  /** Accepted flags that change nothing here, for one log line each. */
  readonly accepted: readonly string[];
}

const VALUE_FLAGS = [
  'listen-addr', 'discovery-srv', 'discovery-srv-name', 'metrics-addr', 'endpoints', 'advertise-client-url',
  'resolver-prefix', 'resolver-ttl', 'namespace', 'data-dir', 'max-send-bytes', 'max-recv-bytes', 'cert', 'key',
  'cacert', 'cert-file', 'key-file', 'trusted-ca-file', 'listen-cipher-suites', 'client-crl-file',
  'experimental-leasing-prefix', 'max-concurrent-streams',
];
const BOOL_FLAGS = ['insecure-discovery', 'enable-pprof', 'insecure-skip-tls-verify', 'auto-tls', 'experimental-serializable-ordering', 'debug'];

/** etcd's defaultGRPCMaxCallSendMsgSize (1.5 MiB) and math.MaxInt32. */
const DEFAULT_MAX_SEND_BYTES = 1.5 * 1024 * 1024;
const MAX_INT32 = 2 ** 31 - 1;
const MAX_UINT32 = 2 ** 32 - 1;

/** The command, or the error text to print (exit 1). */
export function parseGrpcProxyCommand(argv: readonly string[]): GrpcProxyCommand | string {
  const parsed = parseCobraFlags(argv, { command: 'etcd grpc-proxy', values: new Set(VALUE_FLAGS), bools: new Set(BOOL_FLAGS) });
  if (!parsed.ok) return parsed.error;
  const { values } = parsed;
  if (!parsed.started) return 'usage: grpc-proxy start [--endpoints=…] [--listen-addr=…] …';
  const text = (name: string, fallback = ''): string => values.get(name) ?? fallback;

  // etcd's checkArgs, in its order and words.
  const resolverPrefix = text('resolver-prefix');
  const resolverTtl = intOf(text('resolver-ttl', '0'));
  if (resolverTtl === null) return `Error: invalid argument "${text('resolver-ttl')}" for "--resolver-ttl" flag: strconv.ParseInt: parsing "${text('resolver-ttl')}": invalid syntax`;
  if (resolverPrefix !== '' && resolverTtl < 1) return `invalid resolver-ttl ${resolverTtl}`;
  if (resolverPrefix === '' && resolverTtl > 0) return `invalid resolver-prefix "${resolverPrefix}"`;

  const refusals: [boolean, string][] = [
    [text('discovery-srv') !== '', '--discovery-srv: Tern\'s grpc-proxy does not do DNS discovery; give --endpoints'],
    [resolverPrefix !== '', '--resolver-prefix: Tern\'s grpc-proxy does not register itself in the cluster'],
    [text('namespace') !== '', '--namespace: Tern\'s grpc-proxy does not prefix keys'],
    [text('experimental-leasing-prefix') !== '', '--experimental-leasing-prefix: Tern\'s grpc-proxy has no leasing layer'],
    [cobraBool(values, 'experimental-serializable-ordering'), '--experimental-serializable-ordering: Tern\'s grpc-proxy has no ordering layer'],
  ];
  for (const [refused, why] of refusals) if (refused) return why;

  const given = text('endpoints', '127.0.0.1:2379').split(',').map((e) => e.trim()).filter((e) => e !== '');
  const endpoints = given.map(stripScheme);
  if (endpoints.length === 0) return 'no endpoints found';
  const listen = splitAddress(text('listen-addr', '127.0.0.1:23790'));
  if (listen === null) return `listen tcp ${text('listen-addr')}: address ${text('listen-addr')}: missing port in address`;

  const limits = { send: intOf(text('max-send-bytes', String(DEFAULT_MAX_SEND_BYTES))), recv: intOf(text('max-recv-bytes', String(MAX_INT32))), streams: intOf(text('max-concurrent-streams', String(MAX_UINT32))) };
  if (limits.send === null || limits.send > MAX_INT32) return `Error: invalid argument "${text('max-send-bytes')}" for "--max-send-bytes" flag`;
  if (limits.recv === null || limits.recv > MAX_INT32) return `Error: invalid argument "${text('max-recv-bytes')}" for "--max-recv-bytes" flag`;
  if (limits.streams === null || limits.streams < 0 || limits.streams > MAX_UINT32) return `Error: invalid argument "${text('max-concurrent-streams')}" for "--max-concurrent-streams" flag`;

  const suites = text('listen-cipher-suites').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const ciphers = opensslCiphers(suites);
  if (!ciphers.ok) return ciphers.error;

  let metricsAddr: GrpcProxyCommand['metricsAddr'] = null;
  const metrics = text('metrics-addr');
  if (metrics !== '') {
    const url = parseUrl(metrics);
    if (url === null || url.protocol !== 'http:') return `--metrics-addr ${metrics}: Tern's grpc-proxy serves metrics over http:// only`;
    const address = splitAddress(url.host);
    if (address === null) return `--metrics-addr ${metrics}: no port`;
    metricsAddr = address;
  }

  const clientTlsGiven = text('cert') !== '' || text('key') !== '' || text('cacert') !== '';
  const skipVerify = cobraBool(values, 'insecure-skip-tls-verify');
  // etcd: TLS to the members when any of the three files is given, or when told not to verify.
  // An https:// endpoint without files: TLS with the system's roots, as clientv3 dials it.
  const secureScheme = given.some((e) => /^https:\/\//i.test(e));
  const clientTls = clientTlsGiven || skipVerify || secureScheme ? { certFile: text('cert'), keyFile: text('key'), caFile: text('cacert'), skipVerify } : null;
  const accepted = ['enable-pprof', 'debug', 'insecure-discovery'].filter((name) => cobraBool(values, name))
    .concat(['advertise-client-url', 'discovery-srv-name'].filter((name) => values.has(name)));
  return {
    endpoints, listenHost: listen.host, listenPort: listen.port, clientTls,
    servingTls: {
      certFile: text('cert-file'), keyFile: text('key-file'), trustedCaFile: text('trusted-ca-file'),
      crlFile: text('client-crl-file'), autoTls: cobraBool(values, 'auto-tls'), ciphers: ciphers.ciphers,
    },
    dataDir: text('data-dir', 'default.proxy'),
    maxSendBytes: limits.send, maxRecvBytes: limits.recv, maxConcurrentStreams: limits.streams,
    metricsAddr, accepted,
  };
}

function stripScheme(endpoint: string): string {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(endpoint) ? (parseUrl(endpoint)?.host ?? endpoint) : endpoint;
}

function parseUrl(text: string): URL | null {
  try {
    return new URL(text);
  } catch {
    return null;
  }
}

function splitAddress(address: string): { host: string; port: number } | null {
  const at = address.lastIndexOf(':');
  if (at < 0) return null;
  const port = Number(address.slice(at + 1));
  if (address.slice(at + 1) === '' || !Number.isInteger(port) || port < 0 || port > 65535) return null;
  return { host: address.slice(0, at).replace(/^\[|\]$/g, ''), port };
}

function intOf(text: string): number | null {
  return /^-?\d+$/.test(text) ? Number(text) : null;
}
