// One isolate of `npm run bench:sim` (bench.ts): a worker thread, so a JIT of its own,
// that warms up, then measures every seed in passes and posts the figures back.

import { parentPort, workerData } from 'node:worker_threads';
import { runSimulation } from './run.js';

export interface BenchPlan {
  readonly seeds: number;
  readonly nodes: number;
  readonly timeMs: number;
  readonly warmUpSeeds: number;
  readonly passes: number;
}

export interface IsolateFigures {
  /** Events per second of each seed (index seed - 1), one per pass. */
  readonly samples: number[][];
  /** Events of each seed's run (the same in every pass: a seed replays exactly). */
  readonly events: number[];
  readonly simMs: number;
  readonly wallMs: number;
  /** Seeds whose run had a violation or did not recover. */
  readonly failures: number;
}

const port = parentPort;
if (port === null) throw new Error('benchIsolate.js runs as a worker thread of bench.ts');
port.postMessage(measure(workerData as BenchPlan));

function measure(plan: BenchPlan): IsolateFigures {
  const run = (seed: number): ReturnType<typeof runSimulation> =>
    runSimulation({ seed, nodes: plan.nodes, timeMs: plan.timeMs, faults: 'swarm' });
  // Warm-up runs (other seeds) let the JIT settle before anything is measured: a cold
  // first run is 3-10x slower than the same run warm.
  for (let seed = 1001; seed <= 1000 + plan.warmUpSeeds; seed++) run(seed);
  const samples: number[][] = Array.from({ length: plan.seeds }, () => []);
  const events: number[] = [];
  let simMs = 0;
  let wallMs = 0;
  let failures = 0;
  for (let pass = 0; pass < plan.passes; pass++) {
    for (let seed = 1; seed <= plan.seeds; seed++) {
      const result = run(seed);
      samples[seed - 1]?.push(result.events_per_s);
      events[seed - 1] = result.events;
      simMs += result.sim_ms;
      wallMs += result.wall_ms;
      if (pass === 0 && (result.violations.length > 0 || result.liveness !== 'ok')) failures++;
    }
  }
  return { samples, events, simMs, wallMs, failures };
}
