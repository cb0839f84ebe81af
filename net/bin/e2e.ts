// `npm run e2e`: etcd 3.4.23's own e2e suite (Debian's golang-etcd-server-dev) against Tern
// and, for the comparison, against real etcd. The suite execs `<bin-dir>/etcd` with etcd's
// flags and drives it with the real etcdctl; Tern's bin dir holds a launcher of Tern
// instead. One test per process, each under a time limit, in a network namespace of its
// own when `unshare -n` works; a table of outcomes per test and the counts at the end.
//
//   npm run e2e -- [--filter 'TestCtlV3(Auth|User|Role)'] [--budget 600] [--limit 90]
//                  [--against tern,etcd] [--jobs 1] [--suite /tmp/e2e.test]
//
// --budget: seconds of wall time after which no further test starts (the rest: "not run").
// --limit: seconds one test may take (the suite's -test.timeout; a backstop kills past it).
// --suite: the compiled suite; built there from Debian's source first if missing.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildSuite, listTests, missingEtcd, missingToolchain, onPath } from './e2e/suite.js';
import { killMarked, RUN_MARKER } from './e2e/strays.js';
import { isolationWorks, runSuiteTest, type TestResult } from './e2e/runTest.js';
import { formatTable } from './e2e/table.js';
import { makeBinDir, makeWorkDir, type Target } from './e2e/workspace.js';

interface Options {
  readonly filter: string;
  readonly budgetSeconds: number;
  readonly limitSeconds: number;
  readonly targets: readonly Target[];
  readonly jobs: number;
  readonly suite: string;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

function positiveArg(name: string, fallback: number): number {
  const n = Number(arg(name, String(fallback)));
  if (!Number.isInteger(n) || n <= 0) fail(`--${name} needs a positive integer`);
  return n;
}

function fail(why: string): never {
  process.stderr.write(`e2e: ${why}\n`);
  return process.exit(1);
}

function options(): Options {
  const targets = arg('against', 'tern,etcd').split(',').filter((t) => t !== '');
  const unknown = targets.find((t) => t !== 'tern' && t !== 'etcd');
  if (unknown !== undefined || targets.length === 0) fail(`--against takes tern, etcd or both, got "${arg('against', '')}"`);
  return {
    filter: arg('filter', 'TestCtlV3(Auth|User|Role)'),
    budgetSeconds: positiveArg('budget', 600),
    limitSeconds: positiveArg('limit', 90),
    targets: targets as Target[],
    jobs: positiveArg('jobs', 1),
    suite: arg('suite', '/tmp/e2e.test'),
  };
}

async function suiteBinary(file: string): Promise<string> {
  if (existsSync(file)) return file;
  const missing = missingToolchain();
  if (missing !== null) fail(`${file} is missing and cannot be built: ${missing}`);
  process.stderr.write(`e2e: building etcd's e2e suite into ${file} (minutes when Go's build cache is cold)\n`);
  await buildSuite(file);
  return file;
}

interface Task { readonly test: string; readonly target: Target }

async function main(): Promise<void> {
  const opts = options();
  const noEtcd = missingEtcd();
  if (noEtcd !== null) fail(noEtcd);
  const binary = await suiteBinary(opts.suite);
  const tests = await listTests(binary, opts.filter);
  if (tests.length === 0) fail(`no test of the suite matches ${opts.filter}`);
  const isolate = isolationWorks();
  const jobs = isolate ? opts.jobs : 1;
  const root = mkdtempSync(path.join(tmpdir(), 'tern-e2e-'));
  const tools = { etcd: onPath('etcd') ?? 'etcd', etcdctl: onPath('etcdctl') ?? 'etcdctl' };
  const binDirs = new Map(opts.targets.map((t) => [t, makeBinDir(root, t, tools)]));
  mkdirSync(path.join(root, 'logs'));
  const runMarker = randomBytes(8).toString('hex');
  process.env[RUN_MARKER] = runMarker;
  process.on('SIGINT', () => { killMarked(RUN_MARKER, runMarker); process.exit(130); });
  process.stderr.write(`e2e: ${tests.length} tests × ${opts.targets.join(', ')}, ${isolate ? 'each in its own network namespace' : 'unshare -n unavailable: one at a time on the host network'}, ${jobs} at a time\n`);

  const results = new Map<string, Map<Target, TestResult>>();
  const queue: Task[] = tests.flatMap((test) => opts.targets.map((target) => ({ test, target })));
  const deadline = Date.now() + opts.budgetSeconds * 1000;
  let next = 0;
  const worker = async (): Promise<void> => {
    for (let task = queue[next++]; task !== undefined && Date.now() < deadline; task = queue[next++]) {
      const cwd = makeWorkDir(root, `${task.target}-${task.test}`);
      const result = await runSuiteTest({
        binary, binDir: binDirs.get(task.target) ?? '', cwd, name: task.test, limitSeconds: opts.limitSeconds, isolate,
        logFile: path.join(root, 'logs', `${task.target}-${task.test}.log`),
      });
      rmSync(path.dirname(path.dirname(cwd)), { recursive: true, force: true });
      results.set(task.test, (results.get(task.test) ?? new Map<Target, TestResult>()).set(task.target, result));
      const strays = result.strays > 0 ? ` (${result.strays} stray processes killed)` : '';
      process.stderr.write(`${task.target.padEnd(4)} ${task.test} ${result.outcome} ${result.seconds.toFixed(1)}s${strays}\n`);
    }
  };
  await Promise.all(Array.from({ length: jobs }, worker));
  process.stdout.write(`${formatTable(tests, opts.targets, results)}\n`);
  process.stdout.write(`logs: ${path.join(root, 'logs')}\n`);
}

main().catch((error: unknown) => { fail(error instanceof Error ? error.message : String(error)); });
