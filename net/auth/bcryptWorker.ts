// The thread bcrypt runs on (passwordThread.ts starts it). A hash at cost 10 is ~100 ms
// of CPU, and bcryptjs's own async API only yields every 100 ms, so on the main thread
// it would stall Raft ticks and heartbeats; here it blocks nobody. One job at a time.

import { parentPort } from 'node:worker_threads';
import bcrypt from 'bcryptjs';
import type { BcryptJob, BcryptReply } from './passwordThread.js';

function run(job: BcryptJob): BcryptReply {
  try {
    const value = job.op === 'hash' ? bcrypt.hashSync(job.password, job.setting) : bcrypt.compareSync(job.password, job.setting);
    return { id: job.id, ok: true, value };
  } catch (error) {
    // A hash bcryptjs cannot read matches nothing (Go's ErrHashTooShort and kin).
    if (job.op === 'compare') return { id: job.id, ok: true, value: false };
    return { id: job.id, ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

parentPort?.on('message', (job: BcryptJob) => {
  parentPort?.postMessage(run(job));
});
