// The CI slice of the KV workload: a few seeds with EtcdServer members, KV clients and
// watch clients under swarm faults. Each run must be safe and live, its history
// linearizable (or `unknown` when the checker's budget runs out: never illegal), and
// every watch stream must keep etcd's guarantees. The Raft-only slice (swarm-ci) stays
// separate: the KV runs are several times slower.
//
// An empty history is trivially linearizable and a run without watch events keeps every
// watch guarantee, so the sweep also asserts that the clients did work: each seed has
// at least a floor of answered (ok) ops, and all seeds together well above another.
import test from 'ava';
import { reproduceCommand } from '../../sim/args.js';
import type { RunResult } from '../../sim/run.js';
import { passed, runSimulation } from '../../sim/run.js';

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
const NODES = 5;
const TIME_MS = 5000;
/**
 * On main (December) these seeds answered 29 to 337 ok ops each, 1,044 in all: the
 * floors sit well below, so that only a workload that (nearly) stopped issuing or
 * completing ops trips them, not a change in what a seed happens to draw.
 */
const OK_OPS_PER_SEED_MIN = 10;
const OK_OPS_TOTAL_MIN = 400;

/** Why the results show too little work to mean anything; [] when they show enough. */
function tooLittleWork(results: readonly Pick<RunResult, 'seed' | 'ops_ok'>[]): string[] {
  const problems = results.filter((r) => (r.ops_ok ?? 0) < OK_OPS_PER_SEED_MIN)
    .map((r) => `seed ${r.seed}: ${r.ops_ok ?? 0} ok ops, fewer than ${OK_OPS_PER_SEED_MIN}`);
  const total = results.reduce((sum, r) => sum + (r.ops_ok ?? 0), 0);
  if (total < OK_OPS_TOTAL_MIN) problems.push(`${total} ok ops over ${results.length} seeds, fewer than ${OK_OPS_TOTAL_MIN}`);
  return problems;
}

test(`kv seeds ${SEEDS.join(',')}: safe, live, linearizable ok or unknown, watches ok`, (t) => {
  const results: RunResult[] = SEEDS.map((seed) => runSimulation({
    seed, nodes: NODES, timeMs: TIME_MS, faults: 'swarm', workload: 'kv', checkTimeoutMs: 10_000,
  }));
  const failing = results.filter((r) => !passed(r) || r.linearizable === 'illegal' || r.watch !== 'ok').map((r) =>
    `seed ${r.seed}: linearizable ${r.linearizable ?? '-'}, watch ${r.watch ?? '-'}, ` +
    `${r.violations[0] === undefined ? `liveness ${r.liveness}` : `${r.violations[0].kind}: ${r.violations[0].detail}`}\n` +
    `  reproduce: ${reproduceCommand({ seed: r.seed, nodes: NODES, timeMs: TIME_MS, faults: 'swarm', bugs: [], workload: 'kv' })}`);
  t.log(results.map((r) => `seed ${r.seed}: ${r.ops_ok ?? 0} ok / ${r.ops_unknown ?? 0} unknown ops, ` +
    `${r.linearizable ?? '-'}, watch ${r.watch ?? '-'} (${r.kv?.watch_events ?? 0} events)`).join('\n'));
  t.deepEqual(failing, [], failing.join('\n'));
  t.true(results.filter((r) => r.linearizable === 'ok').length >= SEEDS.length / 2, 'most seeds must be decided ok');
  const idle = tooLittleWork(results);
  t.deepEqual(idle, [], idle.join('\n'));
});

test('the work floor fails a sweep whose clients issued nothing, or whose one seed stalled', (t) => {
  // A real run without KV clients: passed and live, but no op was ever issued.
  const bare = runSimulation({ seed: 1, nodes: NODES, timeMs: 500, faults: 'swarm', workload: 'none' });
  t.true(passed(bare));
  t.is(tooLittleWork(SEEDS.map((seed) => ({ ...bare, seed }))).length, SEEDS.length + 1, 'every seed and the total');
  const busy = SEEDS.map((seed) => ({ seed, ops_ok: 1000 }));
  t.deepEqual(tooLittleWork(busy), []);
  t.deepEqual(tooLittleWork([...busy, { seed: 9, ops_ok: OK_OPS_PER_SEED_MIN - 1 }]),
    [`seed 9: ${OK_OPS_PER_SEED_MIN - 1} ok ops, fewer than ${OK_OPS_PER_SEED_MIN}`]);
  t.deepEqual(tooLittleWork(SEEDS.map((seed) => ({ seed, ops_ok: OK_OPS_PER_SEED_MIN }))),
    [`${OK_OPS_PER_SEED_MIN * SEEDS.length} ok ops over ${SEEDS.length} seeds, fewer than ${OK_OPS_TOTAL_MIN}`]);
});
