// A sweep's worker thread (sweep.ts): runs each seed it is sent with the sweep's options
// and posts the result back. A simulation is single-threaded and shares nothing, so a
// worker's result is the one `--jobs 1` gets for the same seed.

import { parentPort, workerData } from 'node:worker_threads';
import type { CliOptions } from './args.js';
import { runOne } from './seedRun.js';

export interface SeedRequest {
  readonly seed: number;
}

const port = parentPort;
if (port === null) throw new Error('sweepWorker.js runs as a worker thread of sweep.ts');
const options = (workerData as { options: CliOptions }).options;
port.on('message', (request: SeedRequest) => {
  try {
    port.postMessage({ seed: request.seed, result: runOne(options, request.seed, null) });
  } catch (error) {
    port.postMessage({ seed: request.seed, error: error instanceof Error ? error.stack ?? error.message : String(error) });
  }
});
