// One run: start the cluster, drive the workloads while the nemesis breaks things,
// heal, then judge what was recorded. Every output lands in the run's directory.

import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { SimRandom } from '../../sim/prng.js';
import { reproduceCommand, type RunOptions } from './args.js';
import { EtcdClient } from './client.js';
import { ELECTION_TIMEOUT_MS, RealCluster } from './cluster.js';
import { kvFinalRead, kvStep, type SeenMods } from './kv.js';
import { driveLeases, expiryRecords, judgeLeases, lastUpperBound, observeLeases, type LeaseLife, type LeaseVerdict, type LeaseWorker } from './lease.js';
import { kubeStep, newKubeState, PODS_END, PODS_PREFIX } from './kubernetes.js';
import { driveLocks, judgeLocks, lockExpiryRecords, type LockState, type LockVerdict } from './lock.js';
import { LeaderWatch, type LeaderSample } from './leaderWatch.js';
import { listMembers } from './memberFault.js';
import { DEFAULT_GAP, findLeader, leaseGap, planFaults, runNemesis, type FaultEvent, type NemesisContext } from './nemesis.js';
import { Recorder, type HistoryRecord } from './recorder.js';
import { renderRunReport } from './report.js';
import { countFaults, overallResult, type Summary } from './summary.js';
import { checkHashKv, checkLinearizable, checkLostWrites, monotonicVerdict, acknowledgedWrites } from './verdicts.js';
import type { RevisionRegression, Worker } from './worker.js';
import { driveWatcher, judgeWatches, type Watcher, type WatchVerdict } from './watch.js';

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
  readonly kv: Worker[];
  readonly kube: Worker[];
  readonly locks: Worker[];
  readonly leases: LeaseWorker[];
  readonly observers: Worker[];
  readonly watchers: Watcher[];
  readonly regressions: RevisionRegression[];
}

/** Lease clients per member: more leases in flight, more of them aging when a leader fault comes. */
const LEASE_WORKERS_PER_MEMBER = 2;

/** Workers per member: `clientsPerNode` kv clients; with the lease workload, lease clients and an observer. */
function makeWorkers(options: RunOptions, cluster: RealCluster, recorder: Recorder, rng: SimRandom): Workers {
  const regressions: RevisionRegression[] = [];
  const workers: Workers = { kv: [], kube: [], locks: [], leases: [], observers: [], watchers: [], regressions };
  const make = (endpoint: string, name: string): Worker => ({
    name, client: new EtcdClient(endpoint, options.requestTimeoutMs), rng: new SimRandom(rng.intBelow(2 ** 31)),
    recorder, regressions, process: recorder.newProcess(), lastRevision: 0,
  });
  cluster.endpoints.forEach((endpoint, m) => {
    const member = cluster.members[m]?.name ?? String(m);
    if (options.workloads.includes('watch')) workers.watchers.push({ name: `${member}.watch`, client: new EtcdClient(endpoint, options.requestTimeoutMs), streams: [], vouched: 0 });
    if (options.workloads.includes('kv') || options.workloads.includes('watch')) for (let c = 0; c < options.clientsPerNode; c++) workers.kv.push(make(endpoint, `${member}.c${c}`));
    if (options.workloads.includes('lock')) workers.locks.push(make(endpoint, `${member}.lock`));
    if (options.workloads.includes('kubernetes')) {
      workers.kube.push(make(endpoint, `${member}.apiserver`));
      workers.watchers.push({ name: `${member}.podwatch`, client: new EtcdClient(endpoint, options.requestTimeoutMs), streams: [], vouched: 0, key: PODS_PREFIX, rangeEnd: PODS_END });
    }
    if (options.workloads.includes('lease')) {
      for (let c = 0; c < LEASE_WORKERS_PER_MEMBER; c++) workers.leases.push({ ...make(endpoint, `${member}.lease${c === 0 ? '' : c}`), stream: null, waiting: new Map() });
      workers.observers.push(make(endpoint, `${member}.observer`));
    }
  });
  return workers;
}

const allOf = (w: Workers): { client: EtcdClient }[] => [...w.kv, ...w.kube, ...w.locks, ...w.leases, ...w.observers, ...w.watchers];

async function driveKube(worker: Worker, until: () => boolean): Promise<void> {
  const state = newKubeState();
  for (let n = 0; !until(); n++) await kubeStep(worker, n, state);
}

async function driveKv(worker: Worker, until: () => boolean): Promise<void> {
  const seen: SeenMods = new Map();
  for (let n = 0; !until(); n++) await kvStep(worker, n, seen);
}

/** After the faults: wait for a leader again (bounded), so the closing reads and checks see a healed cluster. */
async function awaitHealed(cluster: RealCluster, log: (line: string) => void, aborted: () => boolean): Promise<void> {
  cluster.cuts.set([]);
  for (let i = 0; i < cluster.members.length; i++) {
    if (cluster.members[i]?.paused === true) cluster.resume(i);
    if (!cluster.isUp(i) && !aborted()) await cluster.restart(i);
  }
  if (aborted()) return;
  for (let tries = 0; tries < 40; tries++) {
    if (await findLeader(cluster) >= 0) return;
    await sleep(250);
  }
  log('no leader 10 s after healing');
}

/** The nemesis's view of the run; its compactions go into the history as ops of their own. */
function nemesisContextFor(cluster: RealCluster, recorder: Recorder, log: (e: FaultEvent) => void, aborted: () => boolean, interrupted: () => boolean): NemesisContext {
  return {
    cluster, now: () => recorder.now(), aborted, interrupted, compactedTo: 0, log,
    recordCompaction: (c) => {
      const base = { process: recorder.newProcess(), client: 'nemesis', call: c.call, request: { type: 'compact', revision: c.revision } } as const;
      recorder.add(c.ret === null || c.response === null
        ? { ...base, return: null, outcome: 'unknown', error: c.error ?? '', errorAt: recorder.now() }
        : { ...base, return: c.ret, outcome: 'ok', response: c.response, ...(c.error === undefined ? {} : { error: c.error }) });
    },
  };
}

/** The highest revision any compaction in the history may have compacted to (the nemesis's, the kubernetes workload's). */
export function compactedTo(records: readonly HistoryRecord[]): number {
  return Math.max(0, ...records.map((r) => (r.request.type === 'compact' && r.response?.['error'] === undefined ? r.request.revision : 0)));
}

/** The samples where the established leader (or its absence) changed: the timeline, small. */
function leaderChanges(samples: readonly LeaderSample[]): LeaderSample[] {
  return samples.filter((s, i) => { const p = samples[i - 1]; return p === undefined || p.leader !== s.leader || p.term !== s.term; });
}

export async function runJepsen(options: RunOptions, hooks: RunHooks): Promise<Summary> {
  prepareDir(options.out);
  const started = performance.now();
  const rng = new SimRandom(options.seed);
  const gap = options.workloads.includes('lease') ? leaseGap(options.leaseTtlS) : DEFAULT_GAP;
  const plan = planFaults(options.nemesis, options.timeS * 1000, new SimRandom(rng.intBelow(2 ** 31)), gap);
  const recorder = new Recorder(options.maxOps);
  const cluster = await RealCluster.create({ target: options.target, nodes: options.nodes, dir: options.out, etcdBin: options.etcdBin, plantedBugs: options.plantedBugs, ...(options.endpoints.length > 0 ? { external: options.endpoints } : {}), log: hooks.log });
  hooks.onCluster(cluster);
  const faults: FaultEvent[] = [];
  let phase = 'starting members';
  let t0 = -1;
  let leaderWatch: LeaderWatch | null = null;
  const ticker = setInterval(() => {
    hooks.progress({
      elapsedS: t0 < 0 ? 0 : (recorder.now() - t0) / 1e6, timeS: options.timeS, ops: recorder.records.length,
      unknown: recorder.records.filter((r) => r.outcome === 'unknown').length, faults: faults.length, phase,
    });
  }, 1000);
  try {
    await cluster.start();
    const workers = makeWorkers(options, cluster, recorder, rng);
    leaderWatch = new LeaderWatch(cluster.endpoints, () => recorder.now(), (i) => cluster.canLead(i));
    leaderWatch.start();
    const slack = { slackMs: options.electionSlackMs, electionTimeoutMs: ELECTION_TIMEOUT_MS, leaders: leaderWatch.samples };
    t0 = recorder.now();
    const nemesisContext = nemesisContextFor(cluster, recorder, (e) => { faults.push(e); hooks.log(`fault: ${e.kind} ${e.target} (${e.detail})`); }, () => until(), hooks.aborted);
    const endUs = t0 + options.timeS * 1e6;
    // Past the time, on until enough writes were acknowledged (a loaded machine is slow), within a hard cap.
    const capUs = t0 + options.timeS * 10e6;
    const until = (): boolean => hooks.aborted() || recorder.full || recorder.now() >= capUs || (recorder.now() >= endUs && recorder.acknowledged >= options.minWrites);
    phase = 'running';
    const nemesis = runNemesis(plan.map((f) => ({ ...f, atMs: f.atMs + t0 / 1000 })), nemesisContext);
    const lives: LeaseLife[] = [];
    let mainDone = false;
    // Observers go on after the main phase until every lease is past its upper bound (at most one TTL and the slack more).
    const observeCap = endUs + (options.leaseTtlS * 3 * 1000 + options.electionSlackMs + 10_000) * 1000;
    const observing = (): boolean => hooks.aborted() || recorder.now() > observeCap || (mainDone && recorder.now() > lastUpperBound(lives, slack) + 500_000);
    const observers = Promise.all(workers.observers.map((w) => observeLeases(w, observing)));
    // Watchers go on through the healing and the closing reads, so their streams catch up.
    let watchDone = false;
    const watchers = Promise.all(workers.watchers.map((w) => driveWatcher(w, () => watchDone || hooks.aborted())));
    const locks: LockState = { acquisitions: [], attempts: 0, unrevoked: [] };
    await Promise.all([
      nemesis, ...workers.kv.map((w) => driveKv(w, until)), ...workers.kube.map((w) => driveKube(w, until)), ...workers.locks.map((w) => driveLocks(w, locks, until)),
      ...workers.leases.map((w) => driveLeases(w, { ttlS: options.leaseTtlS, stop: until, lives })),
    ]);
    mainDone = true;
    phase = 'healing';
    await awaitHealed(cluster, hooks.log, hooks.aborted);
    phase = workers.observers.length > 0 ? 'watching leases expire' : phase;
    await observers;
    // One closing read per member: the fast path then knows the final state.
    await Promise.all(cluster.members.map((_, m) => { const w = workers.kv[m * options.clientsPerNode]; return w === undefined ? Promise.resolve() : kvFinalRead(w); }));
    if (workers.watchers.length > 0) await sleep(1500); // a progress request or two after the last write
    watchDone = true;
    await watchers;
    await leaderWatch.stop();
    writeFileSync(path.join(options.out, 'leaders.jsonl'), leaderChanges(leaderWatch.samples).map((x) => JSON.stringify(x)).join('\n') + '\n');
    for (const w of allOf(workers)) w.client.close();
    for (const r of expiryRecords(lives, () => recorder.newProcess())) recorder.add(r);
    for (const r of lockExpiryRecords(locks, () => recorder.newProcess())) recorder.add(r);
    const lock = options.workloads.includes('lock') ? judgeLocks(locks) : undefined;
    phase = 'checking';
    if (lives.length > 0) writeFileSync(path.join(options.out, 'leases.jsonl'), lives.map((l) => JSON.stringify(l)).join('\n') + '\n');
    const lease = options.workloads.includes('lease') ? judgeLeases(lives, recorder.records, { ttlS: options.leaseTtlS, ...slack }) : undefined;
    return await judge({ options, cluster, recorder, faults, regressions: workers.regressions, started, lease, lock, watchers: workers.watchers, compactedTo: compactedTo(recorder.records) });
  } finally {
    clearInterval(ticker);
    await leaderWatch?.stop();
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
  readonly lease: LeaseVerdict | undefined;
  readonly lock: LockVerdict | undefined;
  readonly watchers: readonly Watcher[];
  /** The highest revision the compact nemesis compacted to (0: none). */
  readonly compactedTo: number;
}

async function judge(j: Judged): Promise<Summary> {
  const { options, cluster, recorder } = j;
  const historyText = recorder.text();
  writeFileSync(path.join(options.out, 'history.jsonl'), historyText);
  writeFileSync(path.join(options.out, 'nemesis.jsonl'), j.faults.map((e) => JSON.stringify(e)).join('\n') + (j.faults.length > 0 ? '\n' : ''));
  const hashKv = await checkHashKv(cluster, 10_000);
  // After members were removed and added back: are they all in, and voters again?
  const members = options.nemesis.includes('member') ? { members: await listMembers(cluster) } : {};
  const lostWrites = await checkLostWrites(recorder.records, cluster.endpoints[0] ?? '', j.compactedTo);
  const streams = j.watchers.flatMap((w) => w.streams);
  const linearizable = checkLinearizable(historyText, options.checkTimeoutS * 1000, streams);
  let watch: WatchVerdict | undefined;
  if (j.watchers.length > 0) {
    writeFileSync(path.join(options.out, 'watch.jsonl'), j.watchers.flatMap((w) => w.streams.map((s) => JSON.stringify({ watcher: w.name, ...s }))).join('\n') + '\n');
    watch = judgeWatches(historyText, streams, j.compactedTo, options.checkTimeoutS * 1000);
  }
  const verdicts = {
    linearizable, lostWrites, revisionMonotonic: monotonicVerdict(j.regressions), hashKv,
    ...(j.lease === undefined ? {} : { lease: j.lease }), ...(j.lock === undefined ? {} : { lock: j.lock }), ...(watch === undefined ? {} : { watch }),
  };
  const records = recorder.records;
  const summary: Summary = {
    target: options.endpoints.length > 0 ? `endpoints ${options.endpoints.join(',')}` : options.target, nodes: options.nodes, seed: options.seed, timeS: options.timeS, nemesis: options.nemesis, workloads: options.workloads,
    reproduce: reproduceCommand(options), wallS: (performance.now() - j.started) / 1000,
    ops: {
      total: records.length, ok: records.filter((r) => r.outcome === 'ok').length,
      fail: records.filter((r) => r.outcome === 'fail').length, unknown: records.filter((r) => r.outcome === 'unknown').length,
    },
    acknowledgedWrites: acknowledgedWrites(records).length,
    faults: countFaults(j.faults),
    peerConnections: cluster.proxyStats(),
    verdicts,
    ...members,
    result: overallResult(verdicts),
  };
  writeFileSync(path.join(options.out, 'summary.json'), JSON.stringify(summary, null, 2) + '\n');
  writeFileSync(path.join(options.out, 'report.html'), renderRunReport({ summary, records: recorder.sorted(), faults: j.faults }));
  return summary;
}
