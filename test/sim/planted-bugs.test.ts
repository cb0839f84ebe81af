// The simulator can catch what it claims to catch: with each planted bug switched on
// (core/raft/plantedBugs.ts), the swarm must find a violation within 100 seeds. The
// seed that found it is printed with the one command that reproduces it.
import test from 'ava';
import { BUG_NAMES, plantedBugs, reproduceCommand } from '../../sim/args.js';
import { runSimulation } from '../../sim/run.js';

const NODES = 5;
const TIME_MS = 10_000;
const SEEDS = 100;

for (const bug of BUG_NAMES) {
  test(`the swarm finds the planted bug ${bug} within ${SEEDS} seeds`, (t) => {
    for (let seed = 1; seed <= SEEDS; seed++) {
      const result = runSimulation({ seed, nodes: NODES, timeMs: TIME_MS, faults: 'swarm', bugs: plantedBugs([bug]) });
      const violation = result.violations[0];
      if (violation !== undefined) {
        t.log(`${bug}: found by seed ${seed} (${violation.kind}: ${violation.detail})`);
        t.log(`reproduce: ${reproduceCommand({ seed, nodes: NODES, timeMs: TIME_MS, faults: 'swarm', bugs: [bug] })}`);
        t.pass();
        return;
      }
    }
    t.fail(`no seed in 1..${SEEDS} found ${bug}`);
  });
}
