// The `gateway start` subcommand's flags, as etcd 3.4's cobra command reads them
// (etcdmain/gateway.go): --endpoints (comma-separated, a URL's scheme stripped),
// --listen-addr (127.0.0.1:23790), --retry-delay (1m). DNS discovery is not served.

import { parseCobraFlags } from '../config/cobraFlags.js';
import { parseGoDurationMs } from '../config/duration.js';

export interface GatewayCommand {
  readonly endpoints: readonly string[];
  readonly listenHost: string;
  readonly listenPort: number;
  readonly retryDelayMs: number;
}

const DISCOVERY_FLAGS = new Set(['discovery-srv', 'discovery-srv-name', 'insecure-discovery', 'trusted-ca-file']);

/** The command, or the error text to print (exit 1). */
export function parseGatewayCommand(argv: readonly string[]): GatewayCommand | string {
  const parsed = parseCobraFlags(argv, {
    command: 'etcd gateway',
    values: new Set(['endpoints', 'listen-addr', 'retry-delay', 'discovery-srv', 'discovery-srv-name', 'trusted-ca-file']),
    bools: new Set(['insecure-discovery']),
  });
  if (!parsed.ok) return parsed.error;
  const { started, values } = parsed;
  if (!started) return 'usage: gateway start [--endpoints=…] [--listen-addr=…] [--retry-delay=…]';
  for (const name of DISCOVERY_FLAGS) {
    const value = values.get(name);
    if (value !== undefined && value !== '' && value !== 'false') return `--${name}: Tern's gateway does not do DNS discovery; give --endpoints`;
  }
  const endpoints = (values.get('endpoints') ?? '127.0.0.1:2379').split(',').filter((e) => e !== '')
    .map((e) => (/^[a-z][a-z0-9+.-]*:\/\//i.test(e) ? new URL(e).host : e));
  if (endpoints.length === 0) return 'no endpoints found';
  const listen = values.get('listen-addr') ?? '127.0.0.1:23790';
  const at = listen.lastIndexOf(':');
  const listenPort = Number(listen.slice(at + 1));
  if (at < 0 || !Number.isInteger(listenPort) || listenPort < 0 || listenPort > 65535) return `failed to validate listen address: ${listen}`;
  const retry = parseGoDurationMs(values.get('retry-delay') ?? '1m');
  if (retry === null || retry < 0) return `invalid argument "${values.get('retry-delay') ?? ''}" for "--retry-delay" flag: time: invalid duration`;
  const listenHost = listen.slice(0, at).replace(/^\[|\]$/g, '');
  if (endpoints.includes(`${listenHost}:${String(listenPort)}`)) {
    return `endpoint ${listenHost}:${String(listenPort)} should not be the gateway listen addr (${listen})`;
  }
  return { endpoints, listenHost, listenPort, retryDelayMs: retry };
}
