// The KV workload (`--workload kv`): EtcdServer members under the simulator's faults,
// simulated clients whose history is checked by the etcd model (jepsen-like).
import test from 'ava';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { checkEtcdHistory } from '../../jepsen-like/etcd/check.js';
import { parseEtcdHistory } from '../../jepsen-like/etcd/parse.js';
import { parseArgs } from '../../sim/args.js';
import type { RunResult } from '../../sim/run.js';
import { runSimulation } from '../../sim/run.js';

const CLI = path.join(process.cwd(), 'build/sim/cli.js');

function kvRun(seed: number, onHistory?: (text: string) => void): RunResult {
  return runSimulation({
    seed, nodes: 5, timeMs: 5000, faults: 'swarm', workload: 'kv', ...(onHistory === undefined ? {} : { onHistory }),
  });
}

function kvOf(result: RunResult): NonNullable<RunResult['kv']> {
  if (result.kv === undefined) throw new Error(`seed ${result.seed}: no kv result`);
  return result.kv;
}

test('seeds with the KV workload under swarm faults are linearizable, with no Raft violation', (t) => {
  let ok = 0;
  let unknown = 0;
  let failed = 0;
  let stale = 0;
  for (const seed of [1, 2, 3, 4, 5, 6]) {
    const result = kvRun(seed);
    const kv = kvOf(result);
    t.deepEqual(result.violations, [], `seed ${seed}`);
    t.is(result.liveness, 'ok', `seed ${seed}`);
    t.is(kv.linearizable, 'ok', `seed ${seed}: ${kv.check_method}`);
    t.true(kv.ops_ok > 20, `seed ${seed}: only ${kv.ops_ok} ok ops`);
    ok += kv.ops_ok;
    unknown += kv.ops_unknown;
    failed += kv.ops_fail;
    stale += kv.stale_reads;
  }
  // Vacuity: every outcome the recorder maps to occurred somewhere in the slice.
  t.true(unknown > 0 && failed > 0 && stale > 0, `ok ${ok}, unknown ${unknown}, fail ${failed}, stale ${stale}`);
  t.log(`ok ${ok}, unknown ${unknown}, fail ${failed}, stale reads ${stale}`);
});

test('the same seed gives the same KV run (trace hash and history)', (t) => {
  let first = '';
  let second = '';
  const a = kvRun(11, (text) => { first = text; });
  const b = kvRun(11, (text) => { second = text; });
  t.is(a.trace_hash, b.trace_hash);
  t.is(first, second);
  t.deepEqual({ ...kvOf(a), check_ms: 0 }, { ...kvOf(b), check_ms: 0 });
  t.not(kvRun(12).trace_hash, a.trace_hash);
});

test('--workload none (runSimulation\'s default) is the Raft-only run: no kv result, same trace', (t) => {
  const implicit = runSimulation({ seed: 5, nodes: 3, timeMs: 2000, faults: 'swarm' });
  const explicit = runSimulation({ seed: 5, nodes: 3, timeMs: 2000, faults: 'swarm', workload: 'none' });
  t.is(implicit.trace_hash, explicit.trace_hash);
  t.is(implicit.kv, undefined);
  t.not(kvRun(5).trace_hash, implicit.trace_hash);
});

test('the written history re-checks to the same verdict through the checker library', (t) => {
  let text = '';
  const result = kvRun(3, (h) => { text = h; });
  const ops = parseEtcdHistory(text);
  t.true(ops.length > 20);
  t.is(checkEtcdHistory(ops).result.verdict, kvOf(result).linearizable);
  t.is(kvOf(result).linearizable, 'ok');
});

test('the checker is not vacuous: a tampered response in the history is illegal', (t) => {
  let text = '';
  kvRun(4, (h) => { text = h; });
  const lines = text.trim().split('\n');
  // Make one ok put claim a revision one higher than the server gave it.
  const index = lines.findIndex((line) => line.includes('"outcome":"ok"') && line.includes('"type":"put"'));
  t.true(index >= 0);
  const record = JSON.parse(lines[index] ?? '') as { response: { revision: number } };
  record.response.revision += 1;
  lines[index] = JSON.stringify(record);
  t.is(checkEtcdHistory(parseEtcdHistory(lines.join('\n'))).result.verdict, 'illegal');
});

test('the CLI writes the history with --history; the check CLI agrees', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-kv-'));
  try {
    const file = path.join(dir, 'history.jsonl');
    const out = execFileSync(process.execPath, [CLI, '--seed', '2', '--nodes', '3', '--time-ms', '3000', '--workload', 'kv', '--history', file, '--json'], { encoding: 'utf8' });
    const result = JSON.parse(out.trim().split('\n').pop() ?? '') as RunResult;
    t.is(kvOf(result).linearizable, 'ok');
    const text = readFileSync(file, 'utf8');
    t.true(text.split('\n').length > 10);
    const checked = execFileSync(process.execPath, [path.join(process.cwd(), 'build/jepsen-like/cli.js'), '--model', 'etcd', file], { encoding: 'utf8' });
    t.is((JSON.parse(checked.trim()) as { verdict: string }).verdict, 'ok');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--workload and --history are parsed and checked', (t) => {
  const ok = parseArgs(['--seed', '1', '--workload', 'kv', '--history', 'h.jsonl']);
  t.true(ok.ok && ok.options.workload === 'kv' && ok.options.history === 'h.jsonl');
  const implicit = parseArgs(['--seed', '1']);
  t.true(implicit.ok && implicit.options.workload === 'kv', 'kv is the command line\'s default');
  const none = parseArgs(['--seed', '1', '--workload', 'none']);
  t.true(none.ok && none.options.workload === 'none');
  const bad = parseArgs(['--seed', '1', '--workload', 'etcd']);
  t.false(bad.ok);
  const range = parseArgs(['--seeds', '1..3', '--workload', 'kv', '--history', 'h.jsonl']);
  t.false(range.ok);
  const withoutKv = parseArgs(['--seed', '1', '--workload', 'none', '--history', 'h.jsonl']);
  t.false(withoutKv.ok);
  const watches = parseArgs(['--seed', '1', '--watches', 'w.jsonl']);
  t.true(watches.ok && watches.options.watches === 'w.jsonl');
  t.false(parseArgs(['--seeds', '1..2', '--watches', 'w.jsonl']).ok);
  t.false(parseArgs(['--seed', '1', '--workload', 'none', '--watches', 'w.jsonl']).ok);
});
