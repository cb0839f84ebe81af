// The CI slice of the KV workload: a few seeds with EtcdServer members, KV clients and
// watch clients under swarm faults. Each run must be safe and live, its history
// linearizable (or `unknown` when the checker's budget runs out: never illegal), and
// every watch stream must keep etcd's guarantees. The Raft-only slice (swarm-ci) stays
// separate: the KV runs are several times slower.
import test from 'ava';
import { reproduceCommand } from '../../sim/args.js';
import type { RunResult } from '../../sim/run.js';
import { passed, runSimulation } from '../../sim/run.js';

const SEEDS = [1, 2, 3, 4, 5, 6, 7, 8];
const NODES = 5;
const TIME_MS = 5000;

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
});
