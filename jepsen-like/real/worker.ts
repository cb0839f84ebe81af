// One client of a workload: it runs one operation at a time against one member and
// records each as the checker's history wants it. A write whose outcome is unknown (a
// timeout, a lost connection) retires the process id, and the worker goes on as a new
// process (docs/history-format.md); a failed read is recorded as failed (it changed nothing).

import type { SimRandom } from '../../sim/prng.js';
import type { EtcdRequest, EtcdResponse } from '../etcd/types.js';
import { CallError, revisionOf, type EtcdClient, type Wire } from './client.js';
import type { Recorder } from './recorder.js';

/** A client's header revision went down: what a linearizable member never shows one client. */
export interface RevisionRegression {
  readonly client: string;
  readonly before: number;
  readonly after: number;
  /** Microseconds since the start, at the op that saw the lower revision. */
  readonly at: number;
}

export interface Worker {
  readonly name: string;
  readonly client: EtcdClient;
  readonly rng: SimRandom;
  readonly recorder: Recorder;
  /** Where regressions are reported (shared by all workers). */
  readonly regressions: RevisionRegression[];
  process: number;
  lastRevision: number;
}

/** etcd's refusals that are answers, not failures: the op happened (as a no-op) and the model knows the reply. */
const ANSWERS: readonly (readonly [RegExp, EtcdResponse])[] = [
  [/requested lease not found/, { error: 'leaseNotFound' }],
  [/required revision has been compacted/, { error: 'compacted' }],
  [/required revision is a future revision/, { error: 'futureRev' }],
];

const sleep = (ms: number): Promise<void> => new Promise((done) => { setTimeout(done, ms); });

export interface Invocation {
  readonly request: EtcdRequest;
  readonly send: () => Promise<Wire>;
  /** The recorded response of a successful call (partial is fine: absent fields are not checked). */
  readonly response: (wire: Wire) => EtcdResponse;
}

/** Runs and records one op; the wire response, or null when it failed or its outcome is unknown. */
export async function invoke(worker: Worker, op: Invocation): Promise<Wire | null> {
  const { recorder } = worker;
  const call = recorder.now();
  const base = { process: worker.process, client: worker.name, call, request: op.request };
  try {
    const wire = await op.send();
    const response = op.response(wire);
    recorder.add({ ...base, return: recorder.now(), outcome: 'ok', response });
    observeRevision(worker, revisionOf(wire), call);
    return wire;
  } catch (error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    const answer = error instanceof CallError ? ANSWERS.find(([pattern]) => pattern.test(message))?.[1] : undefined;
    if (answer !== undefined) {
      recorder.add({ ...base, return: recorder.now(), outcome: 'ok', response: answer, error: message });
      return null;
    }
    if (op.request.type === 'range') {
      recorder.add({ ...base, return: recorder.now(), outcome: 'fail', error: message });
    } else {
      recorder.add({ ...base, return: null, outcome: 'unknown', error: message, errorAt: recorder.now() });
      worker.process = recorder.newProcess();
    }
    await sleep(50 + worker.rng.intBelow(100));
    return null;
  }
}

function observeRevision(worker: Worker, revision: number, at: number): void {
  if (revision <= 0) return;
  if (revision < worker.lastRevision) worker.regressions.push({ client: worker.name, before: worker.lastRevision, after: revision, at });
  worker.lastRevision = Math.max(worker.lastRevision, revision);
}
