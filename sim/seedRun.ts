// One seed's run from the command line's options: what `sim --seed` runs, and what each
// worker of a sweep (sweep.ts) runs for its seeds.

import { writeFileSync } from 'node:fs';
import type { CliOptions } from './args.js';
import { plantedBugs, SWEEP_CHECK_MS } from './args.js';
import type { RunResult, WatchRecord } from './run.js';
import { runSimulation } from './run.js';
import type { TraceFile } from './traceFile.js';

export function runOne(options: CliOptions, seed: number, trace: TraceFile | null): RunResult {
  const historyFile = options.history;
  const watchesFile = options.watches;
  return runSimulation({
    seed,
    nodes: options.nodes,
    timeMs: options.timeMs,
    faults: options.faults,
    bugs: plantedBugs(options.bugs),
    livenessTimeoutMs: options.livenessMs,
    workload: options.workload,
    auth: options.auth,
    ...(options.membership === null ? {} : { membership: options.membership }),
    ...(options.profile === 'default' ? {} : { profile: options.profile }),
    keepGoing: options.keepGoing,
    ruleChecks: options.ruleChecks,
    ...(options.checkMs !== null ? { checkTimeoutMs: options.checkMs } : options.range ? { checkTimeoutMs: SWEEP_CHECK_MS } : {}),
    ...(trace === null ? {} : { trace: trace.sink }),
    ...(historyFile === null ? {} : { onHistory: (text: string): void => { writeFileSync(historyFile, text); } }),
    ...(watchesFile === null ? {} : {
      onWatches: ({ streams }: WatchRecord): void => { writeFileSync(watchesFile, streams.map((s) => JSON.stringify(s) + '\n').join('')); },
    }),
  });
}
