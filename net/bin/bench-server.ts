// `npm run bench:server:node`: real etcd and Tern side by side on loopback, driven by the
// same load generator (ours: worker threads over grpc-js) in one run. Each case runs
// against etcd, then Tern, on a fresh cluster of each; the table prints ops/s, p50/p99
// and server CPU per operation, and Tern ÷ etcd.
//
// A second table gives the time from exec to "ready to serve client requests": a fresh
// cluster's start, and a SIGKILLed member's restart on its data dir (median of 5).
//
//   npm run bench:server:node [-- --members 1,3 --seconds 5 --base-port 23800 --cases put1,put16,put256,put16-tls,put16-auth,authenticate,range-l,range-s,watch,gw-put16,gw-range16,start]
//
// put16-tls: the same puts over mutual TLS on the client port, for both servers.
// put16-auth: the same puts with auth on, by a user with a range permission, token in
// every request; authenticate: Authenticate calls (bcrypt cost 10 on the member).
// In put16-auth the server CPU per op includes each connection's one Authenticate (8
// bcrypt comparisons); its ops/s and latencies do not (tokens are fetched before the clock starts).
//
// gw-put16, gw-range16: the JSON gateway (docs/gateway.md) on the same client port: 16
// closed-loop HTTP/1.1 keep-alive clients, one connection each, POSTing /v3/kv/put, or
// /v3/kv/range (linearizable) over the same 1000 prefilled keys as range-l
// (loadgen/gatewayLoad.ts). JSON over HTTP/1.1 costs the client more than gRPC does, so
// these cases spread the clients over 2 worker threads and their row ends with the load
// generator's CPU (cores busy while the clock ran): near 2, or near the machine's cores
// less the server's share, the client may be what limits ops/s.

import { runLoad, type LoadOptions, type LoadResult } from './loadgen/run.js';
import { makeBenchPki } from './loadgen/benchPki.js';
import { BENCH_USER, enableBenchAuth } from './loadgen/authSetup.js';
import { cpuSeconds, startCluster, type ServerKind } from './loadgen/servers.js';

interface Case {
  readonly name: string;
  readonly load: Omit<LoadOptions, 'endpoints' | 'durationMs'>;
  /** Keys to write before measuring (ranges read existing keys). */
  readonly prefill: boolean;
  /** Serve and dial the client port over mutual TLS. */
  readonly tls?: boolean;
  /** Auth on (authSetup.ts); each connection authenticates once and sends its token. */
  readonly auth?: boolean;
  /** End the row with the load generator's own CPU (cases whose client is expensive). */
  readonly showClientCpu?: boolean;
}

const CASES: readonly Case[] = [
  { name: 'put1', load: { mode: 'put', clients: 1, conns: 1, workers: 1, total: 1e9 }, prefill: false },
  { name: 'put16', load: { mode: 'put', clients: 16, conns: 8, workers: 1, total: 1e9 }, prefill: false },
  { name: 'put16-tls', load: { mode: 'put', clients: 16, conns: 8, workers: 1, total: 1e9 }, prefill: false, tls: true },
  { name: 'put16-auth', load: { mode: 'put', clients: 16, conns: 8, workers: 1, total: 1e9 }, prefill: false, auth: true },
  // Authenticate: a bcrypt comparison (cost 10) on the member per call, then a Raft round for the token.
  { name: 'authenticate', load: { mode: 'authenticate', clients: 16, conns: 8, workers: 1, total: 1e9 }, prefill: false, auth: true },
  { name: 'put256', load: { mode: 'put', clients: 256, conns: 8, workers: 1, total: 1e9 }, prefill: false },
  { name: 'range-l', load: { mode: 'range-l', clients: 64, conns: 8, workers: 1, total: 1e9, keySpace: 1000 }, prefill: true },
  { name: 'range-s', load: { mode: 'range-s', clients: 64, conns: 8, workers: 1, total: 1e9, keySpace: 1000 }, prefill: true },
  // 100 watchers on 4 streams, 2000 puts at 500/s: an op is one event delivered to one watcher.
  { name: 'watch', load: { mode: 'watch', clients: 100, conns: 4, workers: 1, total: 2000, rate: 500 }, prefill: false },
  // The gateway: HTTP/1.1 has one request in flight per connection, so conns = clients.
  { name: 'gw-put16', load: { mode: 'gw-put', clients: 16, conns: 16, workers: 2, total: 1e9 }, prefill: false, showClientCpu: true },
  { name: 'gw-range16', load: { mode: 'gw-range', clients: 16, conns: 16, workers: 2, total: 1e9, keySpace: 1000 }, prefill: true, showClientCpu: true },
];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

interface Measured extends LoadResult {
  readonly serverUsPerOp: number;
}

async function measure(kind: ServerKind, members: number, c: Case, seconds: number, port: number): Promise<Measured> {
  const pki = c.tls === true ? await makeBenchPki() : null;
  const cluster = await startCluster(kind, members, port, pki?.server);
  try {
    if (c.auth === true) await enableBenchAuth(cluster.endpoints[0] ?? '');
    if (c.prefill) {
      await runLoad({ mode: 'put', endpoints: cluster.endpoints, clients: 16, conns: 4, workers: 1, total: c.load.keySpace ?? 1000,
        durationMs: 60_000, keySpace: c.load.keySpace ?? 1000, sequentialKeys: true });
    }
    const cpuBefore = cluster.pids().reduce((s, p) => s + cpuSeconds(p), 0);
    const result = await runLoad({
      ...c.load, endpoints: cluster.endpoints, durationMs: seconds * 1000,
      ...(pki === null ? {} : { tls: pki.client }), ...(c.auth === true ? { auth: BENCH_USER } : {}),
    });
    const cpu = cluster.pids().reduce((s, p) => s + cpuSeconds(p), 0) - cpuBefore;
    return { ...result, serverUsPerOp: result.ops === 0 ? 0 : (cpu * 1e6) / result.ops };
  } finally {
    await cluster.stop();
    pki?.remove();
  }
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

const RESTARTS = 5;

interface StartTimes { readonly startMs: number; readonly restartMsMedian: number }

/** A fresh cluster's start, then RESTARTS kill-and-restarts of its last member (each after a pause). */
async function startTimes(kind: ServerKind, members: number, port: number): Promise<StartTimes> {
  const cluster = await startCluster(kind, members, port);
  try {
    const restarts: number[] = [];
    for (let n = 0; n < RESTARTS; n++) {
      await new Promise((done) => setTimeout(done, 1000));
      restarts.push(await cluster.killAndRestart(members - 1));
    }
    restarts.sort((a, b) => a - b);
    return { startMs: cluster.startMs, restartMsMedian: restarts[Math.floor(restarts.length / 2)] ?? 0 };
  } finally {
    await cluster.stop();
  }
}

async function printStartTimes(members: readonly number[], port: number): Promise<void> {
  process.stdout.write('\n| members | etcd start ms | etcd restart ms (median) | Tern start ms | Tern restart ms (median) |\n|---|---|---|---|---|\n');
  for (const m of members) {
    const etcd = await startTimes('etcd', m, port += 100);
    const tern = await startTimes('tern', m, port += 100);
    process.stdout.write(`| ${m} | ${fmt(etcd.startMs)} | ${fmt(etcd.restartMsMedian)} | ${fmt(tern.startMs)} | ${fmt(tern.restartMsMedian)} |\n`);
  }
}


async function main(): Promise<void> {
  const members = arg('members', '1,3').split(',').map(Number);
  const seconds = Number(arg('seconds', '5'));
  const wanted = new Set(arg('cases', [...CASES.map((c) => c.name), 'start'].join(',')).split(','));
  const loadCases = CASES.filter((x) => wanted.has(x.name));
  if (loadCases.length > 0) {
    process.stdout.write('| members | case | etcd ops/s | p50 | p99 | µs CPU/op | Tern ops/s | p50 | p99 | µs CPU/op | Tern ÷ etcd |\n');
    process.stdout.write('|---|---|---|---|---|---|---|---|---|---|---|\n');
  }
  let port = Number(arg('base-port', '23800'));
  if (!Number.isInteger(port) || port < 1024 || port > 60_000) throw new Error(`--base-port wants a port in 1024..60000, got ${arg('base-port', '')}`);
  for (const m of members) {
    for (const c of loadCases) {
      const etcd = await measure('etcd', m, c, seconds, port += 100);
      const tern = await measure('tern', m, c, seconds, port += 100);
      const errors = etcd.errors + tern.errors > 0 ? ` (errors: etcd ${etcd.errors}, Tern ${tern.errors}: ${[...etcd.errorSamples, ...tern.errorSamples][0] ?? ''})` : '';
      const clientCpu = c.showClientCpu === true
        ? ` (client CPU, cores: etcd run ${fmt(etcd.clientCores, 2)}, Tern run ${fmt(tern.clientCores, 2)}; ${c.load.workers} workers)` : '';
      process.stdout.write(`| ${m} | ${c.name} | ${fmt(etcd.opsPerSecond)} | ${fmt(etcd.p50Ms, 2)} | ${fmt(etcd.p99Ms, 2)} | ${fmt(etcd.serverUsPerOp)} `
        + `| ${fmt(tern.opsPerSecond)} | ${fmt(tern.p50Ms, 2)} | ${fmt(tern.p99Ms, 2)} | ${fmt(tern.serverUsPerOp)} `
        + `| ${fmt(tern.opsPerSecond / etcd.opsPerSecond, 2)}${clientCpu}${errors} |\n`);
    }
  }
  if (wanted.has('start')) await printStartTimes(members, port);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:server: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
