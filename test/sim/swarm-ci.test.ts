// The CI slice of the swarm: 50 seeds, 5 members, 10 simulated seconds each, under
// each seed's drawn faults. Every run must be safe (no violation) and live (progress
// after healing). A failure prints the command that reproduces it.
import test from 'ava';
import { reproduceCommand } from '../../sim/args.js';
import { passed, runSimulation } from '../../sim/run.js';

const FIRST = 1;
const LAST = 50;
const NODES = 5;
const TIME_MS = 10_000;

test(`swarm seeds ${FIRST}..${LAST}: zero violations, zero stuck`, (t) => {
  const failing: string[] = [];
  let events = 0;
  for (let seed = FIRST; seed <= LAST; seed++) {
    const result = runSimulation({ seed, nodes: NODES, timeMs: TIME_MS, faults: 'swarm' });
    events += result.events;
    if (!passed(result)) {
      const why = result.violations[0] === undefined
        ? `liveness ${result.liveness}`
        : `${result.violations[0].kind}: ${result.violations[0].detail}`;
      failing.push(`seed ${seed}: ${why}\n  reproduce: ${reproduceCommand({ seed, nodes: NODES, timeMs: TIME_MS, faults: 'swarm', bugs: [] })}`);
    }
  }
  t.log(`${LAST - FIRST + 1} seeds, ${events} events`);
  t.deepEqual(failing, [], failing.join('\n'));
});

test('with faults off, every seed is live and safe', (t) => {
  for (let seed = 1; seed <= 5; seed++) {
    const result = runSimulation({ seed, nodes: 3, timeMs: 3000, faults: 'none' });
    t.true(passed(result), `seed ${seed}: ${JSON.stringify(result.violations)} ${result.liveness}`);
    t.true(result.committed > 0);
    t.is(result.crashes, 0);
  }
});
