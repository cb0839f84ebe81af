// Determinism is a tested property (DESIGN.md §3): one seed, one run, on every
// execution — in one process and across processes.
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runSimulation } from '../../sim/run.js';
import type { RunResult } from '../../sim/run.js';

const CLI = path.join(process.cwd(), 'build/sim/cli.js');

/** The parts of a result that must not depend on the machine or the moment. */
function verdict(result: RunResult): unknown {
  const { wall_ms: _wall, events_per_s: _rate, stack: _stack, ...rest } = result;
  return rest;
}

test('the same seed gives the same run twice in one process', (t) => {
  for (const seed of [1, 2, 3]) {
    const a = runSimulation({ seed, nodes: 5, timeMs: 3000, faults: 'swarm' });
    const b = runSimulation({ seed, nodes: 5, timeMs: 3000, faults: 'swarm' });
    t.is(a.trace_hash, b.trace_hash, `seed ${seed}`);
    t.deepEqual(verdict(a), verdict(b), `seed ${seed}`);
    t.true(a.events > 1000);
  }
  const other = runSimulation({ seed: 4, nodes: 5, timeMs: 3000, faults: 'swarm' });
  const first = runSimulation({ seed: 1, nodes: 5, timeMs: 3000, faults: 'swarm' });
  t.not(other.trace_hash, first.trace_hash);
});

test('the same seed gives the same trace hash across processes', (t) => {
  const run = (): RunResult => {
    const out = execFileSync(process.execPath, [CLI, '--seed', '7', '--nodes', '3', '--time-ms', '2000', '--workload', 'none', '--json'], {
      encoding: 'utf8',
    });
    const last = out.trim().split('\n').pop() ?? '';
    return JSON.parse(last) as RunResult;
  };
  const a = run();
  const b = run();
  const here = runSimulation({ seed: 7, nodes: 3, timeMs: 2000, faults: 'swarm' });
  t.is(a.trace_hash, b.trace_hash);
  t.is(a.trace_hash, here.trace_hash);
  t.is(a.events, here.events);
  for (const key of ['seed', 'options', 'trace_hash', 'events', 'sim_ms', 'wall_ms', 'events_per_s', 'committed',
    'elections', 'violations', 'liveness'] as const) {
    t.true(key in a, `--json result has ${key}`);
  }
});

test('--trace writes one JSON line per event and ends with the result', (t) => {
  const file = path.join(tmpdir(), `tern-sim-trace-${process.pid}.jsonl`);
  try {
    const out = execFileSync(process.execPath, [CLI, '--seed', '3', '--time-ms', '500', '--json', '--trace', file], { encoding: 'utf8' });
    const result = JSON.parse(out.trim().split('\n').pop() ?? '') as RunResult;
    const lines = readFileSync(file, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    const events = lines.filter((line) => typeof line['seq'] === 'number' && (line['seq']) >= 0);
    t.is(events.length, result.events);
    t.like(lines[lines.length - 1], { kind: 'result', trace_hash: result.trace_hash });
    t.true(lines.some((line) => line['kind'] === 'deliver'));
  } finally {
    rmSync(file, { force: true });
  }
});
