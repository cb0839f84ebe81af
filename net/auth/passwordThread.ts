// bcrypt off the event loop: one worker thread (bcryptWorker.ts), started on first use,
// takes jobs in order and answers each by id. The thread holds the process open only
// while a job is pending (unref'd when idle), so a member exits as it would without it.
// If the thread dies, its pending jobs fail and the next job starts a fresh one.

import { Worker } from 'node:worker_threads';
import { invariant } from '../../core/util/invariant.js';

/** What the thread is asked: bcryptjs's hashSync(password, setting) or compareSync(password, hash). */
export type BcryptJob = { readonly id: number; readonly op: 'hash' | 'compare'; readonly password: string; readonly setting: string };
export type BcryptReply =
  | { readonly id: number; readonly ok: true; readonly value: string | boolean }
  | { readonly id: number; readonly ok: false; readonly error: string };

/** Jobs waiting at once (each is ~100 ms at cost 10; past this the caller is told to come back). */
export const MAX_PENDING_BCRYPT_JOBS = 1024;

const WORKER = new URL('./bcryptWorker.js', import.meta.url);

interface Pending {
  /** The thread the job was posted to (a dead thread fails its own jobs, not a successor's). */
  readonly thread: Worker;
  resolve(value: string | boolean): void;
  reject(error: Error): void;
}

let worker: Worker | null = null;
let nextId = 1;
/** Invariant: size <= MAX_PENDING_BCRYPT_JOBS; a thread is ref'd iff it has a pending job. */
const pending = new Map<number, Pending>();

function started(): Worker {
  if (worker !== null) return worker;
  const thread = new Worker(WORKER);
  thread.unref();
  thread.on('message', (reply: BcryptReply) => { settle(reply); });
  const fail = (error: Error): void => {
    if (worker === thread) worker = null;
    for (const [id, job] of pending) {
      if (job.thread === thread) { pending.delete(id); job.reject(error); }
    }
  };
  thread.on('error', fail);
  thread.on('exit', (code) => { fail(new Error(`the bcrypt thread exited (${code})`)); });
  worker = thread;
  return thread;
}

function settle(reply: BcryptReply): void {
  const job = pending.get(reply.id);
  invariant(job !== undefined, () => `a bcrypt reply for job ${reply.id}, which is not pending`);
  pending.delete(reply.id);
  if (![...pending.values()].some((other) => other.thread === job.thread)) job.thread.unref();
  if (reply.ok) job.resolve(reply.value);
  else job.reject(new Error(reply.error));
}

/** Runs one bcryptjs call on the thread. */
export function onBcryptThread(op: 'hash', password: string, setting: string): Promise<string>;
export function onBcryptThread(op: 'compare', password: string, setting: string): Promise<boolean>;
export function onBcryptThread(op: BcryptJob['op'], password: string, setting: string): Promise<string | boolean> {
  if (pending.size >= MAX_PENDING_BCRYPT_JOBS) return Promise.reject(new RangeError(`more than ${MAX_PENDING_BCRYPT_JOBS} bcrypt jobs pending`));
  const thread = started();
  const id = nextId++;
  return new Promise((resolve, reject) => {
    pending.set(id, { thread, resolve, reject });
    thread.ref();
    thread.postMessage({ id, op, password, setting } satisfies BcryptJob);
  });
}

/** Stops the thread (tests; a member need not: an idle thread does not hold the process). */
export async function stopBcryptThread(): Promise<void> {
  const thread = worker;
  worker = null;
  if (thread !== null) await thread.terminate();
}
