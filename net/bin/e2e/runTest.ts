// Runs one test of etcd's e2e suite in a process of its own, against the servers in one
// bin dir: in a network namespace of its own when `unshare -n` works (the suite's fixed
// ports, 20000 and up, then clash with nothing else on the machine, and tests can run
// side by side), under a time limit, with every process it started killed afterwards.

import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { verdictOf, type Verdict } from './outcome.js';
import { killMarked, TEST_MARKER } from './strays.js';
import { MEMBER_LOG_VARIABLE } from './workspace.js';

export interface TestRequest {
  readonly binary: string;
  readonly binDir: string;
  /** The working directory (workspace.ts makeWorkDir). */
  readonly cwd: string;
  readonly name: string;
  readonly limitSeconds: number;
  /** Run inside `unshare -n` with loopback up (isolationWorks()). */
  readonly isolate: boolean;
  /** Where the test's whole output is written (and Tern's members' output, to `<logFile>.members`). */
  readonly logFile: string;
}

export interface TestResult extends Verdict {
  readonly name: string;
  readonly seconds: number;
  /** Processes still carrying the run's marker after the test process ended. */
  readonly strays: number;
}

/** The suite's words when a member did not print its ready lines (the reason is then in the member's output). */
const NOT_STARTED = /could not start etcd process cluster|Failed to start etcd cluster/;

/** The last line a member wrote before exiting. */
function lastMemberLine(file: string): string {
  if (!existsSync(file)) return '(nothing)';
  const lines = readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '' && !l.startsWith('exec etcd '));
  return lines.pop() ?? '(nothing)';
}

/** Go's own -test.timeout goes first (it prints the stack); this is the backstop past it. */
const BACKSTOP_MS = 15_000;

/** The command that brings loopback up in a new network namespace and runs the rest of its arguments. */
const ISOLATE = ['unshare', '-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh'];

/** Whether `unshare -n` with loopback up works here (it needs root or user namespaces). */
export function isolationWorks(): boolean {
  try {
    execFileSync(ISOLATE[0] ?? 'unshare', [...ISOLATE.slice(1), 'true'], { stdio: 'ignore', timeout: 10_000 });
    return true;
  } catch {
    return false;
  }
}

export function runSuiteTest(request: TestRequest): Promise<TestResult> {
  const marker = randomBytes(8).toString('hex');
  const suiteArgs = [
    '-bin-dir', request.binDir, '-cert-dir', path.resolve(request.cwd, '../../integration/fixtures'),
    '-test.run', `^${request.name}$`, '-test.v', '-test.timeout', `${request.limitSeconds}s`,
  ];
  const argv = request.isolate ? [...ISOLATE, request.binary, ...suiteArgs] : [request.binary, ...suiteArgs];
  const started = Date.now();
  const child = spawn(argv[0] ?? request.binary, argv.slice(1), {
    cwd: request.cwd,
    env: { ...process.env, [TEST_MARKER]: marker, [MEMBER_LOG_VARIABLE]: `${request.logFile}.members` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  child.stderr.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  let killed = false;
  const backstop = setTimeout(() => {
    killed = true;
    killMarked(TEST_MARKER, marker);
  }, request.limitSeconds * 1000 + BACKSTOP_MS);
  // Strays are killed on exit, before waiting for the pipes to close: one that inherited them would hold them open.
  let strays = 0;
  child.once('exit', () => {
    clearTimeout(backstop);
    strays = killMarked(TEST_MARKER, marker);
  });
  return new Promise((resolve) => {
    child.once('close', () => {
      writeFileSync(request.logFile, output);
      const verdict = verdictOf(request.name, output, killed);
      const reason = NOT_STARTED.test(verdict.reason) ? `${verdict.reason}; the member said: ${lastMemberLine(`${request.logFile}.members`)}` : verdict.reason;
      resolve({ name: request.name, seconds: (Date.now() - started) / 1000, strays, ...verdict, reason });
    });
  });
}
