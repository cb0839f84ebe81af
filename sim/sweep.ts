// `sim --seeds A..B --jobs N`: the seeds run in N worker threads (sweepWorker.ts), and
// their results are handed on in seed order, so that the output and the summary are the
// ones `--jobs 1` prints. Each worker has at most one seed in flight, and the results held
// back behind a slow seed are bounded (HELD_PER_WORKER).

import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { invariant } from '../core/util/invariant.js';
import type { CliOptions } from './args.js';
import type { RunResult } from './run.js';
import { runOne } from './seedRun.js';

/** Results held back for ordering, per worker, before the others wait for a slow seed. */
const HELD_PER_WORKER = 8;

type Answer = { readonly seed: number; readonly result: RunResult } | { readonly seed: number; readonly error: string };

/** The worker threads for `options` (0: one per core, never more than seeds). */
export function jobsFor(options: CliOptions): number {
  const seeds = options.seedLast - options.seedFirst + 1;
  const wanted = options.jobs === 0 ? availableParallelism() : options.jobs;
  return Math.max(1, Math.min(wanted, seeds));
}

/** Runs every seed of the range; `onResult` sees them in seed order. Rejects if a seed's run throws. */
export async function sweep(options: CliOptions, onResult: (result: RunResult) => void): Promise<void> {
  const jobs = jobsFor(options);
  if (jobs === 1) {
    for (let seed = options.seedFirst; seed <= options.seedLast; seed++) onResult(runOne(options, seed, null));
    return;
  }
  const held = new Map<number, RunResult>();
  const maxHeld = jobs * HELD_PER_WORKER;
  const idle: Worker[] = [];
  let nextToSend = options.seedFirst;
  let nextToReport = options.seedFirst;
  const workers: Worker[] = [];
  try {
    await new Promise<void>((resolve, reject) => {
      const send = (worker: Worker): void => {
        if (nextToSend > options.seedLast) return;
        worker.postMessage({ seed: nextToSend++ });
      };
      const onAnswer = (worker: Worker, answer: Answer): void => {
        if ('error' in answer) {
          reject(new Error(`seed ${answer.seed}: ${answer.error}`));
          return;
        }
        held.set(answer.seed, answer.result);
        invariant(held.size <= maxHeld + jobs, () => `${held.size} results held for ordering with ${jobs} workers`);
        for (let r = held.get(nextToReport); r !== undefined; r = held.get(nextToReport)) {
          held.delete(nextToReport++);
          onResult(r);
        }
        if (nextToReport > options.seedLast) {
          resolve();
          return;
        }
        // A slow seed holds back the report of later ones: past the bound, workers wait for it.
        idle.push(worker);
        while (held.size < maxHeld && idle.length > 0) send(idle.pop() as Worker);
      };
      for (let i = 0; i < jobs; i++) {
        const worker = new Worker(new URL('./sweepWorker.js', import.meta.url), { workerData: { options } });
        workers.push(worker);
        worker.on('message', (answer: Answer) => { onAnswer(worker, answer); });
        worker.on('error', reject);
        worker.on('exit', (code) => { if (code !== 0) reject(new Error(`a sweep worker exited with code ${code}`)); });
        send(worker);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}
