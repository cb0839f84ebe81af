// The simulated cluster: N members, each the shared NodeDriver bound to simulated
// ports (disk, network, clock, the run's PRNG), plus the process faults the nemesis
// calls — crash (power loss) and restart from disk, pause and resume — and the
// per-member tick timers. After every event that touches a member, the safety
// checker looks at it.

import type { DriverConfig, DriverObserver } from '../core/node/driver.js';
import { NodeDriver } from '../core/node/driver.js';
import type { RecoveryFailure } from '../core/node/ports.js';
import { EtcdServer, type ServerConfig, type ServerPorts } from '../core/server/server.js';
import type { WatchHubLimits } from '../core/watch/watchHub.js';
import type { MvccEvent } from '../core/mvcc/store.js';
import type { PlantedBugs, RaftView } from '../core/raft/rawNode.js';
import type { Entry, Message, NodeId } from '../core/raft/types.js';
import { invariant } from '../core/util/invariant.js';
import type { SafetyChecker } from './safetyChecker.js';
import { SimClock } from './clock.js';
import type { DiskFaults } from './disk.js';
import { SimDisk } from './disk.js';
import type { SimNetwork } from './network.js';
import type { SimRandom } from './prng.js';
import type { Scheduler } from './scheduler.js';
import { HashChainMachine } from './hashChainMachine.js';
import { initialRecord, SimMemberCore } from './memberCore.js';
import { simLeaderLink } from './leaderLink.js';
import { raftIdOf, type MemberRecord } from '../core/membership/members.js';
import type { SwarmRaftOptions } from './swarm.js';

export type MemberState = 'up' | 'paused' | 'down' | 'refused';

export class SimMember {
  state: MemberState = 'down';
  driver: NodeDriver | null = null;
  /** With the KV workload: the etcd server whose driver `driver` is. */
  server: EtcdServer | null = null;
  stateMachine: HashChainMachine | null = null;
  /** Work that arrived while paused (messages, disk completions), run on resume in order. */
  deferred: (() => void)[] = [];
  /** Bumped at every crash: tick timers of an earlier incarnation stop. */
  incarnation = 0;
  /** Set once bit rot hit this member's disk (a later `corrupt` refusal is expected). */
  rotted = false;
  refusal = '';
  /**
   * With membership changes: false for a spare not yet added and for a member removed
   * (it stays down and is never restarted, as an operator stops a removed etcd).
   */
  inCluster = true;
  /** With membership changes: the cluster as this member learned it when it joined (its "members file"). */
  records: readonly MemberRecord[] = [];
  /** With membership changes: the initial voters it starts its Raft node with. */
  initialVoters: readonly NodeId[] = [];
  /** With membership changes: its membership machinery (rebuilt at every start). */
  core: SimMemberCore | null = null;
  /** Removed from the cluster (it stays down for good). */
  retired = false;

  readonly disk: SimDisk;

  /** `makeDisk` gets the member itself: the disk's completions run as this member. */
  constructor(readonly id: NodeId, readonly clock: SimClock, makeDisk: (member: SimMember) => SimDisk) {
    this.disk = makeDisk(this);
  }
}

/** A call, not a property test, so that the compiler does not narrow across callbacks that change it. */
function isUp(member: SimMember): boolean {
  return member.state === 'up';
}

/** A ReadIndex read that member `id` released: its request context and the index it is served at. */
export interface ReadReady {
  readonly id: NodeId;
  readonly context: string;
  readonly index: number;
}

export interface ClusterHooks {
  onApplied(id: NodeId, entry: Entry): void;
  /** Every message a member sends (before the network decides its fate). */
  onSend(message: Message): void;
  onReadReady(read: ReadReady): void;
  /** With `etcd`: a member started an EtcdServer (before it applies anything). */
  onServer?(id: NodeId, server: EtcdServer): void;
  /** With `etcd`: member `id` applied a write (from its first entry on, also while it starts). */
  onEvents?(id: NodeId, events: readonly MvccEvent[], mainRevision: number): void;
  /** With `etcd`: a snapshot replaced a member's state. */
  onRestore?(id: NodeId): void;
}

export interface ClusterOptions {
  readonly scheduler: Scheduler;
  readonly random: SimRandom;
  readonly network: SimNetwork;
  readonly checker: SafetyChecker;
  readonly nodeIds: readonly NodeId[];
  readonly raft: SwarmRaftOptions;
  readonly diskFaults: DiskFaults;
  readonly clockDriftPpmMax: number;
  readonly bugs: PlantedBugs;
  readonly hooks: ClusterHooks;
  /** Members are EtcdServers (the KV workload) instead of bare drivers with the hash chain. */
  readonly etcd?: boolean;
  /** With `etcd`: the watch hubs' bounds the seed drew (small ones make slow watchers catch up). */
  readonly watchLimits?: WatchHubLimits;
  /**
   * With `etcd`: members run core/membership (sim/memberCore.ts), and these ids are spare
   * members, not in the cluster until the membership nemesis adds them.
   */
  readonly spareIds?: readonly NodeId[];
}

/** The cluster id every simulated EtcdServer reports in its response headers. */
export const SIM_CLUSTER_ID = 0x7e51;
/** How often simulated EtcdServers send watchers their progress notifications, ms. */
export const WATCH_PROGRESS_NOTIFY_MS = 500;

export class Cluster {
  readonly members = new Map<NodeId, SimMember>();
  /** The members' ids, in the order they were made (the order every client scans them in). */
  readonly ids: readonly NodeId[];
  restarts = 0;
  crashes = 0;
  private readonly scheduler: Scheduler;
  private readonly random: SimRandom;
  private readonly network: SimNetwork;
  private readonly checker: SafetyChecker;

  /** etcd's election timeout (Promote extends leases by it). */
  get electionTimeoutMs(): number {
    return this.options.raft.electionTicks * this.options.raft.tickMs;
  }

  constructor(private readonly options: ClusterOptions) {
    this.scheduler = options.scheduler;
    this.random = options.random;
    this.network = options.network;
    this.checker = options.checker;
    const spares = options.spareIds ?? [];
    this.ids = [...options.nodeIds, ...spares];
    for (const id of this.ids) {
      const drift = options.clockDriftPpmMax === 0 ? 0 : this.random.between(-options.clockDriftPpmMax, options.clockDriftPpmMax);
      const clock = new SimClock({ scheduler: this.scheduler, driftPpm: drift });
      const member = new SimMember(id, clock, (self) => new SimDisk({
        id, scheduler: this.scheduler, random: this.random, faults: options.diskFaults,
        gate: (run) => { this.runOn(self, run, false); },
      }));
      if (this.membershipChanges) {
        member.inCluster = !spares.includes(id);
        member.records = options.nodeIds.map(initialRecord);
        member.initialVoters = options.nodeIds;
      }
      this.members.set(id, member);
    }
  }

  /** Whether members run core/membership and the membership nemesis may change who is in. */
  get membershipChanges(): boolean {
    return this.options.etcd === true && this.options.spareIds !== undefined;
  }

  /**
   * A spare was added through Raft: it starts on its empty disk with the cluster as the
   * leader knew it, as an etcd started with --initial-cluster-state existing.
   */
  join(id: NodeId, records: readonly MemberRecord[]): boolean {
    const member = this.member(id);
    invariant(!member.inCluster && member.state === 'down', `member ${id} joins only once, from down`);
    member.inCluster = true;
    member.records = records;
    member.initialVoters = records.filter((r) => !r.isLearner).map((r) => raftIdOf(r.id));
    return this.restart(id);
  }

  /** A member was removed: it stops for good (its disk is kept, never started again). */
  retire(id: NodeId): void {
    const member = this.member(id);
    if (!member.inCluster) return;
    this.crash(id);
    member.inCluster = false;
    member.retired = true;
  }

  member(id: NodeId): SimMember {
    const member = this.members.get(id);
    invariant(member !== undefined, () => `no member ${id}`);
    return member;
  }

  /** Starts every member on its (empty) disk. */
  start(): void {
    for (const member of this.members.values()) this.restart(member.id);
  }

  /** Called by the network for every message that arrives. */
  deliver(message: Message): void {
    const member = this.member(message.to);
    if (member.state === 'down' || member.state === 'refused') return;
    const logMayChange = message.type === 'MsgApp' || message.type === 'MsgSnap' || message.type === 'MsgProp';
    const driver = member.driver;
    if (member.state === 'up' && driver !== null) {
      // The common case without a closure: this runs for every message.
      driver.receive(message);
      if (isUp(member)) this.checker.afterEvent(member.id, logMayChange);
      return;
    }
    this.runOn(member, () => { member.driver?.receive(message); }, logMayChange);
  }

  /** Runs work as member `id` (at once, or on resume if paused), then checks it. */
  runOn(member: SimMember, work: () => void, logMayChange: boolean): void {
    if (member.state === 'paused') {
      member.deferred.push(() => { this.runOn(member, work, logMayChange); });
      return;
    }
    if (member.state !== 'up') return;
    work();
    if (isUp(member)) this.checker.afterEvent(member.id, logMayChange);
  }

  /** The member's driver if it is up and not paused. */
  running(id: NodeId): NodeDriver | null {
    const member = this.member(id);
    return member.state === 'up' ? member.driver : null;
  }

  /**
   * Power loss: the process dies and the disk keeps only what was durable. `afterSave`
   * (a failpoint's crash): the writes in flight reached the disk first.
   */
  crash(id: NodeId, afterSave = false): void {
    const member = this.member(id);
    if (member.state === 'down' || member.state === 'refused') return;
    this.crashes++;
    member.driver?.stop();
    member.driver = null;
    member.server = null;
    member.stateMachine = null;
    member.deferred = [];
    member.incarnation++;
    member.disk.crash(afterSave);
    member.state = 'down';
    this.checker.onCrash({ id, durableCommit: member.disk.durableHardState().commit, durableLastIndex: member.disk.durableLastIndex() });
  }

  /**
   * Starts the member from its disk. A read error leaves it down (the nemesis or the
   * liveness phase tries again); corruption it cannot repair leaves it refused for good.
   */
  restart(id: NodeId): boolean {
    const member = this.member(id);
    if (!member.inCluster) return false;
    if (member.state !== 'down') return member.state !== 'refused';
    const stateMachine = new HashChainMachine({
      onChain: (index, chain) => { this.checker.onChain({ id, index, chain }); },
      onRestore: (lastIndex, chain) => { this.checker.onRestore({ id, lastIndex, chain }); },
    });
    const observer: DriverObserver = {
      onApplied: (entry) => { this.checker.onApplied(id, entry); this.options.hooks.onApplied(id, entry); },
      onReadReady: (context, index) => { this.options.hooks.onReadReady({ id, context, index }); },
      onFatal: (reason) => { this.onFatal(member, reason); },
    };
    const transport = this.network.transportFor(id);
    const raft = this.options.raft;
    const config: DriverConfig = {
      id,
      initialVoters: this.membershipChanges ? member.initialVoters : this.options.nodeIds,
      electionTicks: raft.electionTicks,
      heartbeatTicks: raft.heartbeatTicks,
      snapshotEveryEntries: raft.snapshotEveryEntries,
      maxSizePerMsgBytes: raft.maxSizePerMsgBytes,
      maxInflightMsgs: raft.maxInflightMsgs,
      bugs: this.options.bugs,
    };
    // The member is up while it starts: start may already send messages or write.
    member.state = 'up';
    member.stateMachine = stateMachine;
    const ports = {
      logStore: member.disk,
      transport: {
        send: (message: Message): void => {
          this.checker.onSend(message);
          this.options.hooks.onSend(message);
          transport.send(message);
        },
      },
      random: this.random,
    };
    let started: NodeDriver | RecoveryFailure;
    if (this.options.etcd === true) {
      member.stateMachine = null;
      started = this.startServer(member, config, { ...ports, clock: member.clock, readsWaiting: this.flushReadsAtEndOfEvent(member) }, observer);
    } else {
      started = NodeDriver.start(config, { ...ports, stateMachine }, observer);
    }
    if (!(started instanceof NodeDriver)) {
      member.state = started.kind === 'corrupt' ? 'refused' : 'down';
      member.stateMachine = null;
      member.server = null;
      member.refusal = started.detail;
      member.disk.crash(); // nothing was written, but void any completion the attempt scheduled
      if (started.kind === 'corrupt' && !member.rotted) {
        this.checker.report('corruptionUnexplained', id, `refused to start without bit rot: ${started.detail}`);
      }
      return false;
    }
    member.driver = started;
    this.restarts++;
    this.checker.onRestart(id, started.status());
    this.startTicks(member);
    this.checker.afterEvent(id, true);
    return true;
  }

  /**
   * The server's `readsWaiting` port: as the gRPC host flushes once per event-loop turn,
   * the simulated member flushes once at the end of the event that brought the reads, so
   * the simulator judges the batched ReadIndex rounds production runs. A crash in that
   * event took the reads with it; a pause holds the flush until resume.
   */
  private flushReadsAtEndOfEvent(member: SimMember): () => void {
    const incarnation = member.incarnation;
    return () => {
      this.scheduler.atEndOfEvent(() => {
        if (member.incarnation !== incarnation) return;
        this.runOn(member, () => { member.server?.flushReads(); }, false);
      });
    };
  }

  /** Starts the member as an EtcdServer (the KV workload), with its membership machinery when membership changes. */
  private startServer(member: SimMember, config: DriverConfig, ports: ServerPorts, observer: DriverObserver): NodeDriver | RecoveryFailure {
    const { id } = member;
    const core = this.membershipChanges
      ? new SimMemberCore({
        id, clock: member.clock, records: member.records, timeoutMs: 5000 + 2 * this.electionTimeoutMs,
        link: simLeaderLink(this, this.network, member),
      })
      : null;
    member.core = core;
    const server = EtcdServer.start(this.serverConfig(config), ports, {
      ...observer,
      onApplied: (entry) => { core?.onApplied(entry); observer.onApplied?.(entry); this.retireIfRemoved(member); },
      // The checker's applied-order check must know when a snapshot replaced the state.
      onRestore: () => {
        if (member.server !== null) core?.onRestore(member.server);
        this.checker.onRestore({ id, lastIndex: 0, chain: 0 });
        this.options.hooks.onRestore?.(id);
      },
      onEvents: (events, mainRevision) => { this.options.hooks.onEvents?.(id, events, mainRevision); },
      onAttributes: (attributes) => { core?.onAttributes(attributes); },
    });
    if (!(server instanceof EtcdServer)) return server;
    core?.bind(server);
    member.server = server;
    this.options.hooks.onServer?.(id, server);
    return server.driver;
  }

  private serverConfig(config: DriverConfig): ServerConfig {
    return {
      ...config, clusterId: SIM_CLUSTER_ID, tickMs: this.options.raft.tickMs,
      // etcd's default is 10 minutes; a 10 s run would never see one.
      watchProgressNotifyIntervalMs: WATCH_PROGRESS_NOTIFY_MS,
      ...(this.options.watchLimits === undefined ? {} : { watchLimits: this.options.watchLimits }),
    };
  }

  pause(id: NodeId): void {
    const member = this.member(id);
    if (member.state === 'up') member.state = 'paused';
  }

  /** Resumes a paused member with its stale state; what arrived meanwhile runs now. */
  resume(id: NodeId): void {
    const member = this.member(id);
    if (member.state !== 'paused') return;
    member.state = 'up';
    const deferred = member.deferred;
    member.deferred = [];
    for (const work of deferred) work();
  }

  setDiskFaults(faults: DiskFaults): void {
    for (const member of this.members.values()) {
      member.disk.setFaults(faults);
      member.disk.fillUntil(-1);
    }
  }

  /** The current leader with the highest term among running members, or null. */
  leader(): NodeDriver | null {
    let best: NodeDriver | null = null;
    let bestTerm = -1;
    const view = this.leaderView;
    for (const member of this.members.values()) {
      if (member.state !== 'up' || member.driver === null) continue;
      // The core's cheap view, not status() (which copies the configuration and progress): clients ask on every request.
      member.driver.raft.inspect(view);
      if (view.role === 'leader' && view.term > bestTerm) {
        best = member.driver;
        bestTerm = view.term;
      }
    }
    return best;
  }

  /**
   * Where member `id`'s log ends: in memory if it runs, on its disk otherwise (what it
   * will hold when it starts again). For the nemesis's failpoints, which look for logs
   * that diverge.
   */
  logEnd(id: NodeId): number {
    const member = this.member(id);
    if (member.state !== 'up' || member.driver === null) return member.disk.durableLastIndex();
    return member.driver.raft.inspect(this.leaderView).lastIndex;
  }

  /** The term of member `id`'s entry at `index` (as logEnd: in memory or on disk), undefined if it has none there. */
  termAt(id: NodeId, index: number): number | undefined {
    const member = this.member(id);
    if (member.state !== 'up' || member.driver === null) return member.disk.durableTermAt(index);
    return member.driver.raft.entryAt(index)?.term;
  }

  /** leader()'s and logEnd()'s scratch view of one member. */
  private readonly leaderView: RaftView = { role: 'follower', term: 0, commit: 0, firstIndex: 0, lastIndex: 0 };

  /**
   * A member that applied its own removal stops (etcd's removed member exits), on an
   * event of its own: not from inside the apply that removed it.
   */
  private retireIfRemoved(member: SimMember): void {
    const core = member.core;
    if (core === null || core.isMember) return;
    const incarnation = member.incarnation;
    this.scheduler.after(0, {
      kind: 'membership', node: member.id, a: 1,
      run: () => { if (member.incarnation === incarnation && member.core === core) this.retire(member.id); },
    });
  }

  /** Disk failure reported by the driver: the member stops; an operator restarts it later. */
  private onFatal(member: SimMember, reason: string): void {
    const incarnation = member.incarnation;
    this.scheduler.after(0, {
      kind: 'crash', node: member.id, a: 1, info: () => ({ reason }),
      run: () => {
        if (member.incarnation !== incarnation) return;
        this.crash(member.id);
        this.scheduler.after(1000 * (50 + this.random.exponential(200)), {
          kind: 'restart', node: member.id, run: () => { this.restart(member.id); },
        });
      },
    });
  }

  private startTicks(member: SimMember): void {
    const incarnation = member.incarnation;
    const intervalUs = Math.max(1, Math.round(member.clock.virtualUsFor(this.options.raft.tickMs)));
    const tick = (): void => {
      if (member.incarnation !== incarnation) return;
      // A paused member's timer does not fire; it resumes counting where it stopped.
      if (member.state === 'up') {
        const driver = member.driver;
        if (driver !== null) {
          if (member.server !== null) {
            member.server.tick();
            member.core?.tick();
          } else {
            driver.tick();
          }
          if (isUp(member)) this.checker.afterEvent(member.id, false);
        }
      }
      this.scheduler.after(intervalUs, spec);
    };
    // One spec per incarnation, scheduled again and again: at most one is pending.
    const spec = { kind: 'tick', node: member.id, run: tick } as const;
    // Members boot at slightly different moments, as real processes do.
    this.scheduler.after(this.random.intBelow(intervalUs), spec);
  }
}

