// One run: start the cluster, drive the workloads while the nemesis breaks things,
// heal, then judge what was recorded. Every output lands in the run's directory.

import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SimRandom } from '../../sim/prng.js';
import { reproduceCommand, type RunOptions } from './args.js';
import { EtcdClient } from './client.js';
import { RealCluster } from './cluster.js';
import { kvFinalRead, kvStep, type SeenMods } from './kv.js';
import { findLeader, planFaults, runNemesis, type FaultEvent } from './nemesis.js';
import { Recorder } from './recorder.js';
import { countFaults, overallResult, type Summary } from './summary.js';
import { checkHashKv, checkLinearizable, checkLostWrites, monotonicVerdict, acknowledgedWrites } from './verdicts.js';
import type { RevisionRegression, Worker } from './worker.js';

export interface Progress {
  readonly elapsedS: number;
  readonly timeS: number;
  readonly ops: number;
  readonly unknown: number;
  readonly faults: number;
  readonly phase: string;
}

export interface RunHooks {
  /** The cluster exists: the caller's signal handlers can kill it from now on. */
  readonly onCluster: (cluster: RealCluster) => void;
  readonly progress: (p: Progress) => void;
  readonly log: (line: string) => void;
  readonly aborted: () => boolean;
}

const sleep = (ms: number): Promise<void> => new Promise((done) => { setTimeout(done, ms); });

function prepareDir(dir: string): void {
  mkdirSync(dir, { recursive: true });
  if (readdirSync(dir).length > 0) throw new Error(`${dir} is not empty: give each run its own --out`);
}

interface Workers {
  readonly all: Worker[];
  readonly regressions: RevisionRegression[];
}

function makeWorkers(options: RunOptions, cluster: RealCluster, recorder: Recorder, rng: SimRandom): Workers {
  const regressions: RevisionRegression[] = [];
  const all: Worker[] = [];
  cluster.endpoints.forEach((endpoint, m) => {
    for (let c = 0; c < options.clientsPerNode; c++) {
      all.push({
        name: `${cluster.members[m]?.name ?? m}.c${c}`, client: new EtcdClient(endpoint, options.requestTimeoutMs),
        rng: new SimRandom(rng.intBelow(2 ** 31)), recorder, regressions, process: recorder.newProcess(), lastRevision: 0,
      });
    }
  });
  return { all, regressions };
}

async function driveKv(worker: Worker, until: () => boolean): Promise<void> {
  const seen: SeenMods = new Map();
  for (let n = 0; !until(); n++) await kvStep(worker, n, seen);
}

/** After the faults: wait for a leader again (bounded), so the closing reads and checks see a healed cluster. */
async function awaitHealed(cluster: RealCluster, log: (line: string) => void): Promise<void> {
  cluster.cuts.set([]);
  for (let i = 0; i < cluster.members.length; i++) {
    if (cluster.members[i]?.paused === true) cluster.resume(i);
    if (!cluster.isUp(i)) await cluster.restart(i);
  }
  for (let tries = 0; tries < 40; tries++) {
    if (await findLeader(cluster) >= 0) return;
    await sleep(250);
  }
  log('no leader 10 s after healing');
}

export async function runJepsen(options: RunOptions, hooks: RunHooks): Promise<Summary> {
  prepareDir(options.out);
  const started = performance.now();
  const rng = new SimRandom(options.seed);
  const plan = planFaults(options.nemesis, options.timeS * 1000, new SimRandom(rng.intBelow(2 ** 31)));
  const recorder = new Recorder(options.maxOps);
  const cluster = await RealCluster.create({ target: options.target, nodes: options.nodes, dir: options.out, etcdBin: options.etcdBin, log: hooks.log });
  hooks.onCluster(cluster);
  const faults: FaultEvent[] = [];
  let phase = 'starting members';
  let t0 = -1;
  const ticker = setInterval(() => {
    hooks.progress({
      elapsedS: t0 < 0 ? 0 : (recorder.now() - t0) / 1e6, timeS: options.timeS, ops: recorder.records.length,
      unknown: recorder.records.filter((r) => r.outcome === 'unknown').length, faults: faults.length, phase,
    });
  }, 1000);
  try {
    await cluster.start();
    const workers = makeWorkers(options, cluster, recorder, rng);
    t0 = recorder.now();
    const endUs = t0 + options.timeS * 1e6;
    const until = (): boolean => hooks.aborted() || recorder.full || recorder.now() >= endUs;
    phase = 'running';
    const nemesis = runNemesis(plan.map((f) => ({ ...f, atMs: f.atMs + t0 / 1000 })), {
      cluster, now: () => recorder.now(), aborted: until, log: (e) => { faults.push(e); hooks.log(`fault: ${e.kind} ${e.target} (${e.detail})`); },
    });
    await Promise.all([nemesis, ...workers.all.map((w) => driveKv(w, until))]);
    phase = 'healing';
    await awaitHealed(cluster, hooks.log);
    // One closing read per member: the fast path then knows the final state.
    await Promise.all(cluster.members.map((_, m) => { const w = workers.all[m * options.clientsPerNode]; return w === undefined ? Promise.resolve() : kvFinalRead(w); }));
    for (const w of workers.all) w.client.close();
    phase = 'checking';
    return await judge({ options, cluster, recorder, faults, regressions: workers.regressions, started });
  } finally {
    clearInterval(ticker);
    await cluster.stop();
  }
}

interface Judged {
  readonly options: RunOptions;
  readonly cluster: RealCluster;
  readonly recorder: Recorder;
  readonly faults: readonly FaultEvent[];
  readonly regressions: readonly RevisionRegression[];
  readonly started: number;
}

async function judge(j: Judged): Promise<Summary> {
  const { options, cluster, recorder } = j;
  const historyText = recorder.text();
  writeFileSync(path.join(options.out, 'history.jsonl'), historyText);
  writeFileSync(path.join(options.out, 'nemesis.jsonl'), j.faults.map((e) => JSON.stringify(e)).join('\n') + (j.faults.length > 0 ? '\n' : ''));
  const hashKv = await checkHashKv(cluster, 10_000);
  const lostWrites = await checkLostWrites(recorder.records, cluster.endpoints[0] ?? '');
  const linearizable = checkLinearizable(historyText, options.checkTimeoutS * 1000);
  const verdicts = { linearizable, lostWrites, revisionMonotonic: monotonicVerdict(j.regressions), hashKv };
  const records = recorder.records;
  const summary: Summary = {
    target: options.target, nodes: options.nodes, seed: options.seed, timeS: options.timeS, nemesis: options.nemesis, workloads: options.workloads,
    reproduce: reproduceCommand(options), wallS: (performance.now() - j.started) / 1000,
    ops: {
      total: records.length, ok: records.filter((r) => r.outcome === 'ok').length,
      fail: records.filter((r) => r.outcome === 'fail').length, unknown: records.filter((r) => r.outcome === 'unknown').length,
    },
    acknowledgedWrites: acknowledgedWrites(records).length,
    faults: countFaults(j.faults),
    peerConnections: cluster.proxyStats(),
    verdicts,
    result: overallResult(verdicts),
  };
  writeFileSync(path.join(options.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  return summary;
}
