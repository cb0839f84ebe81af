// Shared by the real-cluster tests: run `npm run jepsen`'s entry as a user would (a child
// process), and find every member pid it started from the members' logs.

import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ExecutionContext } from 'ava';

const CLI = path.join(process.cwd(), 'build/jepsen-like/real/cli.js');

export interface CliRun {
  readonly child: ChildProcess;
  readonly dir: string;
  readonly stdout: () => string;
  readonly stderr: () => string;
  readonly exited: Promise<number | null>;
}

/** Starts the tool with `args` and `--out` a fresh directory, stopped and removed at teardown. */
export function startCli(t: ExecutionContext, args: readonly string[]): CliRun {
  const dir = path.join(mkdtempSync(path.join(tmpdir(), 'jepsen-real-')), 'out');
  // Its own process group, as a shell gives a command: a Ctrl-C goes to the whole group.
  const child = spawn(process.execPath, [CLI, ...args, '--out', dir], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => { out += c.toString(); });
  child.stderr.on('data', (c: Buffer) => { err += c.toString(); });
  const exited = new Promise<number | null>((resolve) => { child.once('exit', (code) => { resolve(code); }); });
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      child.kill('SIGTERM'); // the second one kills every member at once
      await exited;
    }
    for (const pid of memberPids(dir)) killQuietly(pid);
    rmSync(path.dirname(dir), { recursive: true, force: true });
  });
  return { child, dir, stdout: () => out, stderr: () => err, exited };
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // gone already
  }
}

/** The first group of every match of `pattern` (global) in the members' logs under `dir`. */
function fromMemberLogs(dir: string, pattern: RegExp): string[] {
  const logs = path.join(dir, 'logs');
  let files: string[];
  try {
    files = readdirSync(logs);
  } catch {
    return [];
  }
  return files.flatMap((f) => [...readFileSync(path.join(logs, f), 'utf8').matchAll(pattern)].map((m) => m[1] ?? ''));
}

/** Every member process the run started (each start writes its pid into the member's log). */
export function memberPids(dir: string): number[] {
  return fromMemberLogs(dir, /started pid (\d+)/g).map(Number);
}

/** How each member process ended, from the members' logs ("exited SIGKILL", "exited 0", ...). */
export function memberExits(dir: string): string[] {
  return fromMemberLogs(dir, / exited (\S+)/g);
}

export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export interface SummaryJson {
  readonly result: string;
  readonly ops: { readonly total: number; readonly ok: number; readonly unknown: number };
  readonly acknowledgedWrites: number;
  readonly faults: Readonly<Record<string, number>>;
  readonly peerConnections: { readonly identified: number; readonly unidentified: number };
  readonly verdicts: {
    readonly linearizable: { readonly verdict: string };
    readonly lostWrites: { readonly checked: number; readonly lost: readonly unknown[] };
    readonly revisionMonotonic: { readonly ok: boolean };
    readonly hashKv: { readonly ok: boolean | null; readonly hashes: Readonly<Record<string, string>> };
    readonly lease?: { readonly ok: boolean; readonly leases: number; readonly outlived: readonly unknown[]; readonly early: readonly unknown[] };
    readonly lock?: { readonly ok: boolean; readonly attempts: number; readonly acquisitions: number };
    readonly watch?: { readonly ok: boolean | null; readonly streams: number; readonly events: number; readonly violations: readonly { readonly property: string; readonly message: string }[] };
  };
  /** The closing MemberList (runs with the member nemesis). */
  readonly members?: readonly { readonly name: string; readonly id: string; readonly isLearner: boolean }[] | null;
}

export function readSummary(dir: string): SummaryJson {
  return JSON.parse(readFileSync(path.join(dir, 'summary.json'), 'utf8')) as SummaryJson;
}
