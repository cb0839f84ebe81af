// The Go load generator (net/bench/go/src/ternbench, on Debian's clientv3): builds it
// into build/gobench/ on demand and runs it, returning its --json line. Built here, not
// at install, because Go is an optional tool: without it the Go bench is skipped.

import { execFile, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

// This file runs from build/net/bin/loadgen/: the checkout is four levels up.
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));
const GOPATH_OWN = path.join(ROOT, 'net/bench/go');
const SOURCE = path.join(GOPATH_OWN, 'src/ternbench/main.go');
/** Debian's golang-etcd-server-dev puts clientv3 and its dependencies here (GOPATH layout). */
const DEBIAN_GOCODE = '/usr/share/gocode';
export const GO_BENCH_BINARY = path.join(ROOT, 'build/gobench/ternbench');

/** Why the generator cannot be built here, or null if it can. */
export function goBenchUnavailable(): string | null {
  try {
    execFileSync('go', ['version'], { stdio: 'ignore' });
  } catch {
    return '`go` is not on PATH (apt-get install golang-go golang-etcd-server-dev)';
  }
  if (!existsSync(path.join(DEBIAN_GOCODE, 'src/go.etcd.io/etcd/clientv3'))) {
    return `clientv3 is not under ${DEBIAN_GOCODE} (apt-get install golang-etcd-server-dev)`;
  }
  return null;
}

function goEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GO111MODULE: 'off', GOPATH: `${DEBIAN_GOCODE}:${GOPATH_OWN}`, GOFLAGS: '' };
  // go refuses to run with neither a cache dir nor a HOME to put one in (CI sandboxes).
  if (env['GOCACHE'] === undefined && env['HOME'] === undefined) env['GOCACHE'] = path.join(tmpdir(), 'tern-go-build-cache');
  return env;
}

/** Builds the generator unless the binary is newer than its source (offline; ~15 s cold, well under 1 s warm). */
export async function buildGoBench(): Promise<string> {
  if (existsSync(GO_BENCH_BINARY) && statSync(GO_BENCH_BINARY).mtimeMs > statSync(SOURCE).mtimeMs) return GO_BENCH_BINARY;
  mkdirSync(path.dirname(GO_BENCH_BINARY), { recursive: true });
  await new Promise<void>((resolve, reject) => {
    execFile('go', ['build', '-o', GO_BENCH_BINARY, 'ternbench'], { env: goEnv(), cwd: ROOT, timeout: 300_000 }, (error, _stdout, stderr) => {
      if (error === null) resolve();
      else reject(new Error(`go build ternbench failed: ${stderr || error.message}`));
    });
  });
  return GO_BENCH_BINARY;
}

/** The generator's --json line (fields as ternbench's `result`). */
export interface GoBenchResult {
  readonly mode: string;
  readonly ops: number;
  readonly errors: number;
  readonly errorSample: string;
  readonly seconds: number;
  readonly opsPerSecond: number;
  readonly p50Ms: number;
  readonly p90Ms: number;
  readonly p99Ms: number;
  readonly clientCores: number;
  /** watch-latency only (0 otherwise). */
  readonly puts: number;
  readonly events: number;
}

function numberField(o: Record<string, unknown>, name: string): number {
  const v = o[name];
  if (v === undefined) return 0; // Go's omitempty drops zeros
  if (typeof v !== 'number') throw new Error(`ternbench: ${name} is not a number: ${JSON.stringify(v)}`);
  return v;
}

/** Parses the last line of ternbench's output (its --json line). */
export function parseGoBench(stdout: string): GoBenchResult {
  const last = stdout.trimEnd().split('\n').at(-1) ?? '';
  const parsed: unknown = JSON.parse(last);
  if (typeof parsed !== 'object' || parsed === null) throw new Error(`ternbench printed no JSON line: ${last}`);
  const o = parsed as Record<string, unknown>;
  return {
    mode: String(o['mode']),
    errorSample: typeof o['errorSample'] === 'string' ? o['errorSample'] : '',
    ops: numberField(o, 'ops'), errors: numberField(o, 'errors'), seconds: numberField(o, 'seconds'),
    opsPerSecond: numberField(o, 'opsPerSecond'), p50Ms: numberField(o, 'p50Ms'), p90Ms: numberField(o, 'p90Ms'),
    p99Ms: numberField(o, 'p99Ms'), clientCores: numberField(o, 'clientCores'), puts: numberField(o, 'puts'),
    events: numberField(o, 'events'),
  };
}

/** Runs the built generator with `args` (it adds --json) and returns its result; rejects on a failed run. */
export function runGoBench(binary: string, args: readonly string[], timeoutMs = 600_000): Promise<GoBenchResult & { readonly text: string }> {
  return new Promise((resolve, reject) => {
    execFile(binary, [...args, '--json'], { timeout: timeoutMs, maxBuffer: 16 << 20 }, (error, stdout, stderr) => {
      if (error !== null) {
        reject(new Error(`ternbench ${args.join(' ')} failed: ${stderr || error.message}\n${stdout}`));
        return;
      }
      try {
        resolve({ ...parseGoBench(stdout), text: stdout });
      } catch (parseError) {
        reject(parseError instanceof Error ? parseError : new Error(String(parseError)));
      }
    });
  });
}
