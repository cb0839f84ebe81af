// No-regression pins (fast-check's NoRegression idea): three seeds' trace hashes.
// Any change to the core, the simulator or the PRNG draw order that alters these runs
// fails here. If the change is intended, update the pins in the same commit and say
// why in its message; never update them to make an unexplained change pass.
import test from 'ava';
import { runSimulation } from '../../sim/run.js';
import type { FaultMode } from '../../sim/run.js';

const PINS: readonly { seed: number; nodes: number; timeMs: number; faults: FaultMode; traceHash: string; events: number }[] = [
  { seed: 1, nodes: 3, timeMs: 2000, faults: 'none', traceHash: 'db64908a', events: 2737 },
  { seed: 2, nodes: 5, timeMs: 3000, faults: 'swarm', traceHash: 'cb889ad4', events: 7150 },
  { seed: 3, nodes: 3, timeMs: 3000, faults: 'swarm', traceHash: '38775b99', events: 1518 },
];

for (const pin of PINS) {
  test(`seed ${pin.seed} (${pin.nodes} nodes, ${pin.timeMs} ms, faults ${pin.faults}) keeps its trace hash`, (t) => {
    const result = runSimulation({ seed: pin.seed, nodes: pin.nodes, timeMs: pin.timeMs, faults: pin.faults });
    t.is(result.trace_hash, pin.traceHash,
      `trace hash changed (events ${result.events}, pinned ${pin.events}): update the pin only if the change is intended`);
    t.is(result.events, pin.events);
  });
}
