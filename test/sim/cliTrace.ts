// The simulator's CLI as the reference for the viewer's tests: runs the real command
// with --trace and folds its trace into the trace hash after every event, exactly as
// the scheduler folds it, so a test can ask "what is the CLI's hash at event i?".
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { EVENT_KINDS, FNV_INITIAL, fnvWord } from '../../sim/scheduler.js';
import type { RunSpec } from '../../sim/replay/runSpec.js';
import { commandOf } from '../../sim/replay/runSpec.js';

const CLI = path.join(process.cwd(), 'build/sim/cli.js');

interface TraceLine {
  readonly seq: number;
  readonly t_us: number;
  readonly kind: string;
  readonly node: number;
  readonly a?: number;
  readonly b?: number;
}

/** Runs the real CLI with --trace; the trace file's text and the trace_hash it printed. */
function runCli(spec: RunSpec): { readonly text: string; readonly printed: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'tern-replay-'));
  try {
    const file = path.join(dir, 'trace.jsonl');
    const args = commandOf(spec).replace('npm run --silent sim -- ', '').split(' ');
    const run = spawnSync(process.execPath, [CLI, ...args, '--json', '--trace', file], { encoding: 'utf8' });
    if (run.status !== 0 && run.status !== 1) throw new Error(`sim exited ${String(run.status)}: ${run.stderr}`);
    const printed = (JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as { trace_hash: string }).trace_hash;
    return { text: readFileSync(file, 'utf8'), printed };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The text of the trace file the CLI writes for `spec` (--trace). */
export function cliTraceText(spec: RunSpec): string {
  return runCli(spec).text;
}

/**
 * Runs the real CLI with --trace and folds its trace into the hash after each event,
 * exactly as the scheduler folds it (notes count toward the event that follows them).
 * Returns the hash at every index and the trace_hash the CLI printed.
 */
export function cliHashes(spec: RunSpec): { readonly byIndex: string[]; readonly printed: string } {
  const { text: traceText, printed } = runCli(spec);
  const byIndex: string[] = [];
  let hash = FNV_INITIAL;
  const hex = (h: number): string => h.toString(16).padStart(8, '0');
  byIndex.push(hex(hash));
  for (const text of traceText.split('\n')) {
    if (text === '') continue;
    const line = JSON.parse(text) as TraceLine;
    if (line.kind === 'result') continue;
    const code = EVENT_KINDS.indexOf(line.kind as (typeof EVENT_KINDS)[number]);
    if (line.seq < 0) {
      hash = fnvWord(fnvWord(hash, code | 0x100), line.node);
      continue;
    }
    hash = fnvWord(fnvWord(fnvWord(fnvWord(fnvWord(hash, line.t_us % 0x1_0000_0000), code), line.node), line.a ?? 0), line.b ?? 0);
    byIndex.push(hex(hash));
  }
  return { byIndex, printed };
}

