// The CI slice of the swarm: 50 seeds, 5 members, 10 simulated seconds each, under
// each seed's drawn faults. Every run must be safe (no violation) and live (progress
// after healing). A failure prints the command that reproduces it. A vacuity guard
// checks that across the slice every fault class really struck.
import test from 'ava';
import { reproduceCommand } from '../../sim/args.js';
import type { Injected, RunResult } from '../../sim/run.js';
import { passed, runSimulation } from '../../sim/run.js';

const FIRST = 1;
const LAST = 50;
const NODES = 5;
const TIME_MS = 10_000;

const results: RunResult[] = [];

test.before(() => {
  for (let seed = FIRST; seed <= LAST; seed++) {
    results.push(runSimulation({ seed, nodes: NODES, timeMs: TIME_MS, faults: 'swarm' }));
  }
});

test(`swarm seeds ${FIRST}..${LAST}: zero violations, zero stuck`, (t) => {
  const failing = results.filter((result) => !passed(result)).map((result) => {
    const why = result.violations[0] === undefined
      ? `liveness ${result.liveness}`
      : `${result.violations[0].kind}: ${result.violations[0].detail}`;
    return `seed ${result.seed}: ${why}\n  reproduce: ${reproduceCommand({ seed: result.seed, nodes: NODES, timeMs: TIME_MS, faults: 'swarm', bugs: [] })}`;
  });
  t.log(`${results.length} seeds, ${results.reduce((sum, r) => sum + r.events, 0)} events`);
  t.deepEqual(failing, [], failing.join('\n'));
});

test('every fault class struck somewhere in the slice (the swarm is not vacuous)', (t) => {
  const totals = new Map<keyof Injected, number>();
  for (const result of results) {
    for (const [name, count] of Object.entries(result.injected) as [keyof Injected, number][]) {
      totals.set(name, (totals.get(name) ?? 0) + count);
    }
  }
  t.log([...totals].map(([name, count]) => `${name} ${count}`).join(', '));
  for (const [name, count] of totals) t.true(count > 0, `${name} never happened in seeds ${FIRST}..${LAST}`);
  t.true(results.some((r) => r.reads_served > 0), 'no ReadIndex read was served');
  t.true(results.every((r) => r.committed > 0), 'a run committed nothing');
});

test('with faults off, every seed is live and safe', (t) => {
  for (let seed = 1; seed <= 5; seed++) {
    const result = runSimulation({ seed, nodes: 3, timeMs: 3000, faults: 'none' });
    t.true(passed(result), `seed ${seed}: ${JSON.stringify(result.violations)} ${result.liveness}`);
    t.true(result.committed > 0);
    t.is(result.crashes, 0);
  }
});
