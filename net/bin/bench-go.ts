// `npm run bench:server`: real etcd 3.4 and Tern side by side on loopback, driven by
// ternbench, our Go load generator on Debian's clientv3 (net/bench/go/; it costs the
// client what etcd's own benchmark tool costs, where the Node generator of
// `npm run bench:server:node` caps the server at 5–8k ops/s). It prints one table of
// the targets of issue #17: case | etcd | Tern | Tern ÷ etcd.
//
// Interleaved in one run: for each member count and case, etcd then Tern, --runs times,
// each on a fresh cluster with fresh data dirs; a cell is the median of its runs, the
// ratio the median of each run's Tern ÷ the etcd run just before it. Command
// lines are etcd benchmark's (perf-anchor.md §4), so the etcd column can be read against
// the official tool's figures there. The totals are half of perf-anchor.md's (30,000 puts,
// 20,000 ranges) so that the whole run stays within a few minutes at Tern's rates.
//
//   npm run bench:server [-- --members 1,3 --runs 1 --cases put256,put1,range-l,watch,ceiling --quick --base-port 23800 --verbose]
//
// --quick divides every total by 10 (a smoke run). --verbose prints each run's JSON line.
// The ceiling case runs put c=256 against servers that do no work (loadgen/nullServer.ts):
// what grpc-js and bare node:http2 allow on this machine, beside etcd.
// Then the JSON gateway's put and range (the Node HTTP client; --no-gateway leaves them out).
// Without Go (golang-go, golang-etcd-server-dev) it says so and exits 0.

import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { buildGoBench, goBenchUnavailable, runGoBench, type GoBenchResult } from './loadgen/goBench.js';
import { cpuSeconds, startCluster, type NullServerKind, type RunningCluster, type ServerKind } from './loadgen/servers.js';

interface Case {
  readonly name: string;
  /** The row's label in the table. */
  readonly label: (members: number) => string;
  readonly members: readonly number[];
  /** ternbench's arguments (without --endpoints), given the total. */
  readonly args: (total: number) => string[];
  readonly total: number;
  /** What the cell shows: ops/s (higher is better) or a latency in ms (lower is better). */
  readonly metric: 'ops/s' | 'p50 ms' | 'p99 ms';
  readonly target: string;
  /** Put `foo` before measuring (the key ranges read). */
  readonly putFoo?: boolean;
}

const PUT = ['put', '--val-size', '256', '--key-space-size', '10000'];
const CASES: readonly Case[] = [
  { name: 'put256', label: (m) => `put c=256, ${m} member${m > 1 ? 's' : ''} (ops/s)`, members: [1, 3], total: 30_000,
    args: (t) => [...PUT, '--clients', '256', '--conns', '8', '--total', String(t)], metric: 'ops/s', target: '≥ 1.0' },
  { name: 'put1', label: () => 'put c=1, 1 member (p50 ms)', members: [1], total: 2000,
    args: (t) => [...PUT, '--clients', '1', '--conns', '1', '--total', String(t)], metric: 'p50 ms', target: '≤ 1.0' },
  { name: 'range-l', label: (m) => `linearizable range c=64, ${m} member${m > 1 ? 's' : ''} (ops/s)`, members: [1, 3], total: 20_000,
    args: (t) => ['range', 'foo', '--consistency', 'l', '--clients', '64', '--conns', '8', '--total', String(t)], metric: 'ops/s', target: '≥ 1.0', putFoo: true },
  // etcd's watch-latency: from each put's acknowledgement to each watcher's event.
  { name: 'watch', label: (m) => `watch 100 watchers, put→event p99, ${m} member${m > 1 ? 's' : ''} (ms)`, members: [1, 3], total: 2000,
    args: (t) => ['watch-latency', '--watchers', '100', '--conns', '4', '--put-total', String(t), '--put-rate', '500', '--key-size', '8', '--val-size', '256'],
    metric: 'p99 ms', target: '≤ 1.0' },
];

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

function etcdctl(endpoints: readonly string[], args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('etcdctl', ['--endpoints', endpoints.join(','), ...args], { env: { ...process.env, ETCDCTL_API: '3' }, timeout: 30_000 }, (error, stdout, stderr) => {
      if (error === null) resolve(stdout);
      else reject(new Error(`etcdctl ${args.join(' ')}: ${stderr || error.message}`));
    });
  });
}

/**
 * The endpoints with the leader's first, as perf-anchor.md's runs had them: connection i
 * dials endpoint i mod n, so a one-connection case talks to the leader. Keeps the order
 * if the status cannot be read.
 */
async function leaderFirst(endpoints: readonly string[]): Promise<readonly string[]> {
  if (endpoints.length < 2) return endpoints;
  try {
    const parsed: unknown = JSON.parse(await etcdctl(endpoints, ['endpoint', 'status', '-w', 'json']));
    if (!Array.isArray(parsed)) return endpoints;
    const leaderAt = parsed.findIndex((e: unknown) => {
      const s = (e as { Status?: { header?: { member_id?: unknown }; leader?: unknown } }).Status;
      return s !== undefined && s.leader !== undefined && s.header?.member_id === s.leader;
    });
    if (leaderAt < 0) return endpoints;
    const leader = endpoints[leaderAt] ?? '';
    return [leader, ...endpoints.filter((e) => e !== leader)];
  } catch {
    return endpoints;
  }
}

interface Measured {
  readonly result: GoBenchResult;
  readonly serverUsPerOp: number;
}

async function measure(binary: string, kind: ServerKind | NullServerKind, members: number, c: Case, total: number, port: number): Promise<Measured> {
  const cluster: RunningCluster = await startCluster(kind, members, port);
  try {
    const endpoints = await leaderFirst(cluster.endpoints);
    if (c.putFoo === true) await etcdctl(endpoints.slice(0, 1), ['put', 'foo', 'bar']);
    const cpuBefore = cluster.pids().reduce((s, p) => s + cpuSeconds(p), 0);
    const result = await runGoBench(binary, [...c.args(total), '--endpoints', endpoints.join(',')]);
    const cpu = cluster.pids().reduce((s, p) => s + cpuSeconds(p), 0) - cpuBefore;
    return { result, serverUsPerOp: result.ops === 0 ? 0 : (cpu * 1e6) / result.ops };
  } finally {
    await cluster.stop();
  }
}

/** Whether 127.0.0.1:port can be bound now. */
function bindable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => { resolve(false); });
    server.listen(port, '127.0.0.1', () => { server.close(() => { resolve(true); }); });
  });
}

/**
 * The next base port after `after` (steps of 100) whose cluster ports (base + 10·i and
 * base + 10·i + 1) are free now: other programs on a shared machine hold ports too.
 */
async function nextBasePort(after: number, members: number): Promise<number> {
  for (let base = after + 100; base < 65_000; base += 100) {
    const ports = Array.from({ length: members }, (_, i) => [base + 10 * i, base + 10 * i + 1]).flat();
    if ((await Promise.all(ports.map(bindable))).every(Boolean)) return base;
  }
  throw new Error(`no free ports above ${after}`);
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] ?? 0 : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
}

function valueOf(c: Case, r: GoBenchResult): number {
  return c.metric === 'ops/s' ? r.opsPerSecond : c.metric === 'p50 ms' ? r.p50Ms : r.p99Ms;
}

async function main(): Promise<void> {
  const unavailable = goBenchUnavailable();
  if (unavailable !== null) {
    process.stdout.write(`bench:server: skipped, the Go load generator cannot be built: ${unavailable}\n`);
    return;
  }
  const members = new Set(arg('members', '1,3').split(',').map(Number));
  const runs = Number(arg('runs', '1'));
  if (!Number.isInteger(runs) || runs < 1 || runs > 20) throw new Error(`--runs wants 1..20, got ${arg('runs', '')}`);
  const wanted = new Set(arg('cases', [...CASES.map((c) => c.name), 'ceiling'].join(',')).split(','));
  const divisor = flag('quick') ? 10 : 1;
  let port = Number(arg('base-port', '23800'));
  if (!Number.isInteger(port) || port < 1024 || port > 60_000) throw new Error(`--base-port wants a port in 1024..60000, got ${arg('base-port', '')}`);
  const binary = await buildGoBench();
  const rows: string[] = [];
  for (const m of [...members].sort((a, b) => a - b)) {
    for (const c of CASES.filter((x) => wanted.has(x.name) && x.members.includes(m))) {
      const total = Math.max(1, Math.round(c.total / divisor));
      const cells: Record<ServerKind, Measured[]> = { etcd: [], tern: [] };
      for (let run = 0; run < runs; run++) {
        for (const kind of ['etcd', 'tern'] as const) {
          port = await nextBasePort(port, m);
          const measured = await measure(binary, kind, m, c, total, port);
          cells[kind].push(measured);
          const r = measured.result;
          process.stderr.write(`${kind} ${c.label(m)} run ${run + 1}: ${fmt(valueOf(c, r), c.metric === 'ops/s' ? 0 : 2)} (${fmt(r.opsPerSecond)} ops/s, p50 ${fmt(r.p50Ms, 2)} ms, p99 ${fmt(r.p99Ms, 2)} ms, ${r.errors} errors)\n`);
          if (flag('verbose')) process.stderr.write(`${JSON.stringify(r)}\n`);
        }
      }
      const etcd = median(cells.etcd.map((x) => valueOf(c, x.result)));
      const tern = median(cells.tern.map((x) => valueOf(c, x.result)));
      const cpu = (k: ServerKind): string => fmt(median(cells[k].map((x) => x.serverUsPerOp)));
      const errors = [...cells.etcd, ...cells.tern].reduce((s, x) => s + x.result.errors, 0);
      const sample = [...cells.etcd, ...cells.tern].map((x) => x.result.errorSample).find((s) => s !== '') ?? '';
      const digits = c.metric === 'ops/s' ? 0 : 2;
      // Each Tern run beside the etcd run just before it: the box's speed wanders between
      // runs (etcd's own put c=256 measured 19,204 then 9,946), and a pair shares its moment.
      const ratios = cells.tern.flatMap((x, i) => {
        const paired = cells.etcd[i];
        const e = paired === undefined ? 0 : valueOf(c, paired.result);
        return e === 0 ? [] : [valueOf(c, x.result) / e];
      });
      const ratio = ratios.length === 0 ? '–' : fmt(median(ratios), 2) + (ratios.length > 1 ? ` (${ratios.map((r) => fmt(r, 2)).join(', ')})` : '');
      rows.push(`| ${c.label(m)} | ${fmt(etcd, digits)} | ${fmt(tern, digits)} | ${ratio} | ${c.target} | ${cpu('etcd')} / ${cpu('tern')} |`
        + (errors > 0 ? ` errors: ${errors} (${sample})` : ''));
    }
  }
  process.stdout.write(`\nternbench (Go, clientv3 3.4) against etcd ${await etcdVersion()} and Tern; median of ${runs} run${runs > 1 ? 's' : ''}${divisor > 1 ? ', --quick (totals ÷ 10)' : ''}\n\n`);
  process.stdout.write('| case | etcd | Tern | Tern ÷ etcd (median of paired runs) | target | server µs CPU/op, etcd / Tern |\n|---|---|---|---|---|---|\n');
  for (const row of rows) process.stdout.write(`${row}\n`);
  if (wanted.has('ceiling')) await ceilingRows(binary, port, runs, divisor);
  if (!flag('no-gateway')) await gatewayRows(await gatewayBasePort(port), divisor > 1 ? 2 : 5);
}

/**
 * The transport's ceiling: put c=256 on one member against a process that answers every
 * Put with fixed bytes and does nothing else (loadgen/nullServer.ts), on grpc-js (Tern's
 * transport) and on bare node:http2, beside etcd doing the real work, interleaved.
 * Where grpc-js alone is below etcd, no Tern on grpc-js meets the put c=256 target.
 */
async function ceilingRows(binary: string, after: number, runs: number, divisor: number): Promise<void> {
  const put = CASES.find((c) => c.name === 'put256');
  if (put === undefined) throw new Error('no put256 case');
  const total = Math.max(1, Math.round(put.total / divisor));
  const kinds = ['etcd', 'grpc-js-null', 'http2-null'] as const;
  const cells: Record<(typeof kinds)[number], Measured[]> = { 'etcd': [], 'grpc-js-null': [], 'http2-null': [] };
  let port = after;
  for (let run = 0; run < runs; run++) {
    for (const kind of kinds) {
      port = await nextBasePort(port, 1);
      const measured = await measure(binary, kind, 1, put, total, port);
      cells[kind].push(measured);
      process.stderr.write(`${kind} put c=256, 1 member, run ${run + 1}: ${fmt(measured.result.opsPerSecond)} ops/s, ${measured.result.errors} errors\n`);
    }
  }
  const ops = (kind: (typeof kinds)[number]): number => median(cells[kind].map((x) => x.result.opsPerSecond));
  const cpu = (kind: (typeof kinds)[number]): string => fmt(median(cells[kind].map((x) => x.serverUsPerOp)));
  const etcd = ops('etcd');
  const ratio = (kind: (typeof kinds)[number]): string => (etcd === 0 ? '–' : fmt(ops(kind) / etcd, 2));
  process.stdout.write('\nThe transport\'s ceiling: put c=256, one member, against a process that answers every Put with fixed bytes\n'
    + `and does nothing else (net/bin/loadgen/nullServer.ts); median of ${runs} run${runs > 1 ? 's' : ''}\n\n`
    + '| server | puts/s | ÷ etcd | server µs CPU/op |\n|---|---|---|---|\n'
    + `| etcd ${await etcdVersion()}, doing the work | ${fmt(etcd)} | 1.00 | ${cpu('etcd')} |\n`
    + `| grpc-js, no work (Tern's transport for all but KV and Watch) | ${fmt(ops('grpc-js-null'))} | ${ratio('grpc-js-null')} | ${cpu('grpc-js-null')} |\n`
    + `| node:http2, no work (what net/grpcDirect serves KV and Watch on) | ${fmt(ops('http2-null'))} | ${ratio('http2-null')} | ${cpu('http2-null')} |\n`);
}

/**
 * A base port for bench-server.ts's one-member clusters: it starts each at base + 100 k
 * (k = 1..4 here: two cases, etcd then Tern), on that port and the next. All free now.
 */
async function gatewayBasePort(after: number): Promise<number> {
  for (let base = after + 100; base < 64_000; base += 500) {
    const ports = [1, 2, 3, 4].flatMap((k) => [base + 100 * k, base + 100 * k + 1]);
    if ((await Promise.all(ports.map(bindable))).every(Boolean)) return base;
  }
  throw new Error(`no free ports above ${after}`);
}

/**
 * The JSON gateway (issue #16): ternbench speaks gRPC only, so the gateway's put and
 * range come from the Node HTTP/1.1 generator of `bench:server:node`, one member, etcd
 * then Tern, printed under the Go table.
 */
function gatewayRows(port: number, seconds: number): Promise<void> {
  process.stdout.write('\nThe JSON gateway (Node HTTP/1.1 client, 16 connections; `npm run bench:server:node` for more):\n\n');
  const nodeBench = fileURLToPath(new URL('./bench-server.js', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [nodeBench, '--members', '1', '--cases', 'gw-put16,gw-range16',
      '--seconds', String(seconds), '--base-port', String(port)], { stdio: ['ignore', 'inherit', 'inherit'] });
    child.once('error', reject);
    child.once('exit', (code) => { if (code === 0) resolve(); else reject(new Error(`the gateway bench exited ${String(code)}`)); });
  });
}

function etcdVersion(): Promise<string> {
  return new Promise((resolve) => {
    execFile('etcd', ['--version'], { timeout: 10_000 }, (error, stdout) => {
      resolve(error === null ? (/etcd Version: (\S+)/.exec(stdout)?.[1] ?? '?') : '?');
    });
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`bench:server: ${error instanceof Error ? error.stack ?? error.message : String(error)}\n`);
  process.exit(1);
});
