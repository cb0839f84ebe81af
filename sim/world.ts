// The world of one simulation run, built once and whole before anything runs
// (TigerBeetle builds its simulator's world the same way): the seed's draws, virtual
// time, the checker, the network, the cluster and its disks, then the workloads and
// the nemesis, each given at construction what it needs.
//
// A few parts call parts built after them (the network delivers to the cluster, the
// checker inspects its members, the cluster tells the workloads what was applied).
// Those callbacks go through the finished `world`: they only run once the run starts,
// when every part exists. Until `buildWorld` returns, `world` is in its temporal dead
// zone, so a callback fired during construction would throw, never be dropped.

import type { NodeDriver } from '../core/node/driver.js';
import { AppliedEntries } from './appliedEntries.js';
import { AuthWorkload, type AuthWorkloadOptions } from './authWorkload.js';
import type { RaftView, RawNode } from '../core/raft/rawNode.js';
import type { Entry, NodeId } from '../core/raft/types.js';
import { Cluster } from './cluster.js';
import type { SimDisk } from './disk.js';
import type { KvClients } from './kvVerdict.js';
import { KvWorkload } from './kvWorkload.js';
import type { KvWorkloadOptions } from './kvWorkload.js';
import { Nemesis } from './nemesis.js';
import { MembershipNemesis, type MembershipFaults } from './membershipNemesis.js';
import { SimNetwork } from './network.js';
import type { SimParts } from './simActor.js';
import { SimRandom } from './prng.js';
import type { RunOptions, TrafficProfile } from './runOptions.js';
import type { CheckerOptions } from './safetyChecker.js';
import { SafetyChecker } from './safetyChecker.js';
import { Scheduler } from './scheduler.js';
import type { SwarmOptions } from './swarm.js';
import { calmOptions, drawSwarm, withFailpoints } from './swarm.js';
import { WatchTruth } from './watchTruth.js';
import { WatchWorkload } from './watchWorkload.js';
import type { WatchWorkloadOptions } from './watchWorkload.js';
import { Workload } from './workload.js';

export interface SimWorld {
  readonly scheduler: Scheduler;
  readonly random: SimRandom;
  /** What the seed drew: the run's whole configuration. */
  readonly swarm: SwarmOptions;
  readonly checker: SafetyChecker;
  readonly network: SimNetwork;
  readonly cluster: Cluster;
  /** Raft proposals and ReadIndex reads; its first commit after healing shows liveness. */
  readonly workload: Workload;
  readonly nemesis: Nemesis;
  /** With the KV workload only. */
  readonly kv: KvClients | null;
  /** With --auth only (instead of `kv`): the auth clients and the log their verdict replays. */
  readonly auth: AuthClients | null;
}

export interface AuthClients {
  readonly workload: AuthWorkload;
  readonly log: AppliedEntries;
}

/** With the KV workload: the shapes the seed drew and the ground truth the members feed. */
interface KvDraws {
  readonly kv: KvWorkloadOptions;
  readonly watch: WatchWorkloadOptions;
  readonly truth: WatchTruth;
}

/** Draws the KV clients' shape, then the watch clients': the order is part of every seed's meaning. */
function drawKvDraws(random: SimRandom, profile: TrafficProfile): KvDraws {
  const kubernetes = profile === 'kubernetes';
  const kv: KvWorkloadOptions = {
    clients: 8 + random.intBelow(17),
    keys: 3 + random.intBelow(8),
    thinkMeanMs: Math.round(1 + random.float() * 9),
    timeoutMsMin: 200,
    timeoutMsMax: 200 + random.intBelow(1800),
    ...(kubernetes ? { profile: 'kubernetes' as const } : {}),
  };
  const watch: WatchWorkloadOptions = {
    clients: 1 + random.intBelow(3),
    checkMeanMs: 50 + random.intBelow(250),
    latencyMeanMs: 0.2 + random.float() * 2,
    slowProbability: random.chance(0.5) ? Math.round(random.float() * 300) / 1000 : 0,
    slowMeanMs: 20 + random.intBelow(500),
    maxBufferedEvents: random.pick([2, 8, 64, 1024]),
    catchUpRevisionsPerStep: random.pick([1, 4, 256]),
    ...(kubernetes ? { kubernetes: true } : {}),
  };
  return { kv, watch, truth: new WatchTruth() };
}

export function buildWorld(options: RunOptions): SimWorld {
  const random = new SimRandom(options.seed);
  // The draw order is part of every seed's meaning: the swarm, then the KV and watch shapes.
  // The failpoints draw from a generator of their own, so the seed's other draws stay as they were.
  const failpoints = new SimRandom(options.seed, 'failpoints');
  const swarm = options.faults === 'swarm' ? withFailpoints(drawSwarm(random), failpoints) : calmOptions(random);
  const draws = options.workload === 'kv' ? drawKvDraws(random, options.profile ?? 'default') : null;
  // Drawn after the KV shapes, and only with --auth: every other seed keeps its meaning.
  const authDraws = draws !== null && options.auth === true ? drawAuthOptions(random) : null;
  // Likewise last, and only when membership changes are on (asked for, or drawn for this seed).
  const membershipFaults = draws !== null && membershipOn(options) ? drawMembershipFaults(random) : null;
  const scheduler = new Scheduler();
  if (options.trace !== undefined) scheduler.setTraceSink(options.trace);
  const nodeIds: NodeId[] = [];
  for (let id = 1; id <= options.nodes; id++) nodeIds.push(id);
  const spareIds: NodeId[] = [];
  if (membershipFaults !== null) for (let i = 1; i <= SPARE_MEMBERS; i++) spareIds.push(options.nodes + i);
  const allIds = [...nodeIds, ...spareIds];

  const checker = new SafetyChecker({
    now: () => scheduler.nowUs,
    inspect: memberInspector((id) => world.cluster.running(id)),
    durable: durableReader((id) => world.cluster.member(id).disk),
    ruleChecks: options.ruleChecks !== false,
    stopAtFirst: options.keepGoing !== true,
    onViolation: () => { scheduler.halt(); },
    onLeader: (id) => { world.nemesis.observeLeader(id); },
    onFirstCommit: (id, term) => { world.nemesis.observeFirstCommit(id, term); },
  });
  const network = new SimNetwork({
    scheduler, random, nodeIds: allIds, faults: swarm.faults.network, linkLatencySpread: swarm.faults.linkLatencySpread,
    deliver: (message) => { world.cluster.deliver(message); },
  });
  const cluster = new Cluster({
    scheduler, random, network, checker, nodeIds, raft: swarm.raft, diskFaults: swarm.faults.disk,
    clockDriftPpmMax: swarm.faults.clockDriftPpmMax, bugs: options.bugs ?? {}, etcd: draws !== null,
    ...(membershipFaults === null ? {} : { spareIds }),
    ...(draws === null ? {} : {
      watchLimits: { maxBufferedEvents: draws.watch.maxBufferedEvents, catchUpRevisionsPerStep: draws.watch.catchUpRevisionsPerStep },
    }),
    hooks: {
      onApplied: (id, entry) => { onApplied(world, id, entry); },
      onSend: (message) => { world.nemesis.observeSend(message); },
      onReadReady: (read) => { world.workload.onReadReady(read); },
      onEvents: (id, events, mainRevision) => { if (authDraws === null) draws?.truth.record({ member: id, events, mainRevision }); },
      onRestore: (id) => { world.kv?.kv.keeper.onRestore(id); },
    },
  });
  const parts: SimParts = { scheduler, random, cluster };
  const workload = new Workload({ ...parts, checker, options: swarm.workload, onLive: () => { scheduler.halt(); } });
  const nemesis = new Nemesis({
    ...parts, network, faults: swarm.faults, failpoints,
    ...(membershipFaults === null ? {} : { membership: new MembershipNemesis(parts, membershipFaults, spareIds) }),
  });
  const kv = draws === null || authDraws !== null ? null : kvClients(parts, draws);
  const auth = authDraws === null ? null : {
    // The nemesis starts once users, roles and permissions are in place (run.ts) — unless
    // that took the whole fault phase: the liveness phase injects nothing.
    workload: new AuthWorkload(parts, authDraws, () => { if (scheduler.nowUs < options.timeMs * 1000) world.nemesis.start(); }),
    log: new AppliedEntries(),
  };
  const world: SimWorld = { scheduler, random, swarm, checker, network, cluster, workload, nemesis, kv, auth };
  return world;
}

/** Built in this order: the watch clients draw their specs from the shared generator. */
function kvClients(parts: SimParts, draws: KvDraws): KvClients {
  const kv = new KvWorkload({ ...parts, options: draws.kv });
  const watches = new WatchWorkload({ ...parts, truth: draws.truth, options: draws.watch, keyCount: draws.kv.keys });
  return { kv, watches, truth: draws.truth };
}

function onApplied(world: SimWorld, id: NodeId, entry: Entry): void {
  world.workload.onApplied(id, entry);
  world.kv?.kv.keeper.onApplied(world.cluster.member(id), entry);
  world.auth?.log.onApplied(entry);
}

/**
 * Whether the run changes its membership: as asked (`--membership`, `--no-membership`),
 * or else, in a swarm run of the KV clients on three members or more, for one seed in
 * MEMBERSHIP_DRAWN_ONE_IN, drawn from a generator of its own so that the other seeds
 * keep their traces.
 */
export function membershipOn(options: RunOptions): boolean {
  if (options.membership !== undefined) return options.membership;
  if (options.faults !== 'swarm' || options.workload !== 'kv' || options.auth === true || options.nodes < 3) return false;
  return new SimRandom(options.seed, 'membership').intBelow(MEMBERSHIP_DRAWN_ONE_IN) === 0;
}

/** One swarm seed in this many draws membership changes. */
const MEMBERSHIP_DRAWN_ONE_IN = 4;

/** Spare members a run with membership changes may add (each joins once). */
const SPARE_MEMBERS = 2;

/** How often the membership nemesis steps, and how often it removes the leader. */
function drawMembershipFaults(random: SimRandom): MembershipFaults {
  return { meanStepMs: 200 + random.intBelow(1800), removeLeaderProbability: random.pick([0, 0.25, 0.5]) };
}

/** The auth workload's shape (keys at most 9: their names then sort as their numbers). */
function drawAuthOptions(random: SimRandom): AuthWorkloadOptions {
  return {
    clients: 2 + random.intBelow(4),
    keys: 3 + random.intBelow(7),
    thinkMeanMs: Math.round(5 + random.float() * 30),
    adminMeanMs: Math.round(10 + random.float() * 90),
    timeoutMs: 200 + random.intBelow(1800),
  };
}

/** What a member's disk holds durably, in one view reused for every call: the checker reads it at each message sent, and keeps nothing. */
function durableReader(diskOf: (id: NodeId) => SimDisk): NonNullable<CheckerOptions['durable']> {
  const view = { term: 0, vote: 0, lastIndex: 0 };
  return (id) => {
    const disk = diskOf(id);
    const hs = disk.durableHardState();
    view.term = hs.term;
    view.vote = hs.vote;
    view.lastIndex = disk.durableLastIndex();
    return view;
  };
}

/**
 * The checker's look at a running member. One view object is reused: status() builds a
 * full Status, and this runs after every event.
 */
function memberInspector(running: (id: NodeId) => NodeDriver | null): CheckerOptions['inspect'] {
  let inspectedNode: RawNode | null = null;
  const raftView: RaftView = { role: 'follower', term: 0, commit: 0, firstIndex: 0, lastIndex: 0 };
  const inspected = {
    status: raftView,
    // One entry at a time: checks stay O(entries looked at), and no range is copied.
    entry: (index: number): Entry | undefined => (inspectedNode === null ? undefined : inspectedNode.entryAt(index)),
  };
  return (id) => {
    const driver = running(id);
    if (driver === null) return null;
    inspectedNode = driver.raft;
    driver.raft.inspect(raftView);
    return inspected;
  };
}
