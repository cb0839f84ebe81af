// `sim --seeds A..B --jobs N` (sim/sweep.ts): seeds in worker threads give the same
// per-seed results and the same summary as one thread, in seed order; the progress
// line's text (sim/progress.ts).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { formatDuration, progressBar, progressText, timeLeft } from '../../sim/progress.js';

const CLI = path.join(process.cwd(), 'build/sim/cli.js');
/** What depends on the machine's speed, not on the run. */
const TIMING = new Set(['wall_ms', 'events_per_s', 'check_ms', 'sim_s_per_wall_s']);

function withoutTiming(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutTiming);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => !TIMING.has(k)).map(([k, v]) => [k, withoutTiming(v)]));
}

function sweep(jobs: number): unknown[] {
  const run = spawnSync(process.execPath, [CLI, '--seeds', '1..7', '--time-ms', '3000', '--jobs', String(jobs), '--json'], { encoding: 'utf8' });
  if (run.status !== 0 && run.status !== 1) throw new Error(`sim exited ${String(run.status)}: ${run.stderr}`);
  return run.stdout.trim().split('\n').map((line) => withoutTiming(JSON.parse(line)));
}

test('three worker threads give what one thread gives, seed by seed and in the summary', (t) => {
  const one = sweep(1);
  const three = sweep(3);
  t.is(one.length, 8, 'seven results and the summary');
  t.deepEqual(three, one);
  t.deepEqual(one.slice(0, 7).map((r) => (r as { seed: number }).seed), [1, 2, 3, 4, 5, 6, 7], 'in seed order');
});

test('--jobs is bounded, and needs a number', (t) => {
  for (const bad of ['0', '65', 'many']) {
    const run = spawnSync(process.execPath, [CLI, '--seeds', '1..2', '--jobs', bad], { encoding: 'utf8' });
    t.is(run.status, 2, bad);
    t.regex(run.stderr, /--jobs must be/);
  }
});

test('the progress line: seeds, failures, time spent and left at the rate so far', (t) => {
  t.is(formatDuration(65_400), '1m05s');
  t.is(formatDuration(4_000), '4s');
  t.is(timeLeft({ done: 0, total: 10, failing: 0, elapsedMs: 5000 }), '?');
  t.is(progressText({ done: 25, total: 100, failing: 2, elapsedMs: 60_000 }), '25/100 seeds, 2 failing, 1m00s spent, 3m00s left');
  t.is(progressBar({ done: 5, total: 10, failing: 0, elapsedMs: 1000 }, 10), '[#####.....] 5/10 seeds, 0 failing, 1s spent, 1s left');
});
