// The node driver: the loop that turns the Raft core's Readys into effects through
// the ports — send, persist, apply, serve reads — and reports completions back.
// The simulator and production run this same code; only the ports differ.
//
// One disk operation is outstanding at a time (a Ready's write, or a compaction);
// the next Ready is taken when it completes. While a write is in flight the core
// still ticks, steps and accepts proposals: they simply land in the next Ready.

import { decodeConfChange } from '../raft/confchange.js';
import { MemoryStorage } from '../raft/memoryStorage.js';
import { RawNode, type Accepted, type PlantedBugs, type Ready, type Status } from '../raft/rawNode.js';
import type { ConfChange, Entry, Message, NodeId } from '../raft/types.js';
import { invariant } from '../util/invariant.js';
import type { Random } from '../util/random.js';
import type { LogStore, RecoveryFailure, Transport, WriteResult } from './ports.js';

/** The application that committed entries are applied to (the etcd state machine, later). */
export interface StateMachine {
  /** Applies one committed entry with a non-empty payload. Deterministic. */
  apply(entry: Entry): void;
  /** The state as of the last applied entry, for snapshots. */
  snapshot(): Uint8Array;
  /** Replaces the state with a snapshot's. */
  restore(data: Uint8Array): void;
  /**
   * A committed conf change, after Raft applied it: a machine that keeps the members'
   * records (their contexts) in its snapshots, as etcd keeps them in its backend, sees it here.
   */
  applyConfChange?(change: ConfChange, index: number): void;
}

export interface DriverConfig {
  readonly id: NodeId;
  /** The initial voters, used only when the disk holds nothing yet (a new cluster). */
  readonly initialVoters: readonly NodeId[];
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  /** Make a snapshot and compact the log every this many applied entries. Default 10000. */
  readonly snapshotEveryEntries?: number;
  /** Entries kept in memory behind a snapshot, for followers that lag a little. Default 500. */
  readonly catchUpEntries?: number;
  readonly maxSizePerMsgBytes?: number;
  readonly maxInflightMsgs?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  readonly bugs?: PlantedBugs;
}

export interface DriverPorts {
  readonly logStore: LogStore;
  readonly transport: Transport;
  readonly random: Random;
  readonly stateMachine: StateMachine;
}

/** Observers the host may attach (the simulator's checkers, the server's client replies). */
export interface DriverObserver {
  /** After an entry (of any type, including empty no-ops and conf changes) is applied. */
  onApplied?(entry: Entry): void;
  /** A linearizable read whose index has been applied may now be served. */
  onReadReady?(context: string, index: number): void;
  /** The disk failed: the member stops (fail-stop). */
  onFatal?(reason: string): void;
}

export class NodeDriver {
  readonly id: NodeId;
  readonly raft: RawNode;
  private readonly storage: MemoryStorage;
  private readonly ports: DriverPorts;
  private readonly observer: DriverObserver;
  private readonly snapshotEveryEntries: number;
  private readonly catchUpEntries: number;
  /** A disk operation is in flight; no new Ready until it completes. */
  private diskBusy = false;
  private stopped = false;
  private snapshotIndex: number;
  /**
   * The last entry the state machine has applied (or the snapshot it was restored from):
   * where a snapshot built now for a follower stands (withFreshSnapshot).
   */
  private lastApplied: { index: number; term: number };
  /** The planted bug ackBeforeDurable is on (plantedBugs.ts); never in production. */
  private readonly ackBeforeDurable: boolean;
  /** With that bug: the Ready in flight whose committed entries were already applied. */
  private readonly appliedEarly = new Set<Ready>();

  private constructor(options: {
    config: DriverConfig; ports: DriverPorts; observer: DriverObserver; storage: MemoryStorage; applied: number;
  }) {
    const { config, ports, storage } = options;
    this.id = config.id;
    this.ports = ports;
    this.observer = options.observer;
    this.storage = storage;
    this.snapshotEveryEntries = config.snapshotEveryEntries ?? 10_000;
    this.catchUpEntries = config.catchUpEntries ?? 500;
    invariant(this.snapshotEveryEntries > 0, 'snapshotEveryEntries must be positive');
    this.snapshotIndex = options.applied;
    const base = storage.snapshot().metadata;
    this.lastApplied = { index: base.index, term: base.term };
    this.ackBeforeDurable = config.bugs?.ackBeforeDurable === true;
    this.raft = new RawNode({
      id: config.id,
      storage,
      random: ports.random,
      applied: options.applied,
      ...optional('electionTicks', config.electionTicks),
      ...optional('heartbeatTicks', config.heartbeatTicks),
      ...optional('maxSizePerMsgBytes', config.maxSizePerMsgBytes),
      ...optional('maxInflightMsgs', config.maxInflightMsgs),
      ...optional('preVote', config.preVote),
      ...optional('checkQuorum', config.checkQuorum),
      ...optional('bugs', config.bugs),
    });
  }

  /** Recovers from the log store and starts the member, or refuses with the reason. */
  static start(config: DriverConfig, ports: DriverPorts, observer: DriverObserver = {}): NodeDriver | RecoveryFailure {
    const recovered = ports.logStore.recover();
    if ('kind' in recovered) return recovered;
    const snapshot = recovered.snapshot;
    const confState = snapshot?.metadata.confState ?? { voters: [...config.initialVoters], learners: [] };
    const storage = new MemoryStorage(confState);
    let applied = 0;
    if (snapshot !== null) {
      storage.applySnapshot(snapshot);
      ports.stateMachine.restore(snapshot.data);
      applied = snapshot.metadata.index;
    }
    storage.append(recovered.entries);
    const last = storage.lastIndex();
    const hardState = recovered.hardState;
    if (hardState.commit > last) {
      return { kind: 'corrupt', detail: `hard state commits ${hardState.commit} but the log ends at ${last}` };
    }
    // A snapshot is committed by definition, even if the hard state written with it is older.
    storage.setHardState({ ...hardState, commit: Math.max(hardState.commit, applied) });
    const driver = new NodeDriver({ config, ports, observer, storage, applied });
    driver.pump();
    return driver;
  }

  // ------------------------------------------------------------ inputs

  /** One logical tick (the host calls it every tick interval). */
  tick(): void {
    if (this.stopped) return;
    this.raft.tick();
    this.pump();
  }

  receive(message: Message): void {
    if (this.stopped) return;
    this.raft.step(message);
    this.pump();
  }

  propose(data: Uint8Array): Accepted {
    return this.local(() => this.raft.propose(data));
  }

  proposeConfChange(change: ConfChange): Accepted {
    return this.local(() => this.raft.proposeConfChange(change));
  }

  readIndex(context: string): Accepted {
    return this.local(() => this.raft.readIndex(context));
  }

  transferLeader(to: NodeId): Accepted {
    return this.local(() => this.raft.transferLeader(to));
  }

  status(): Status {
    return this.raft.status();
  }

  /** Power loss: the driver ignores every callback from now on. The host drops it. */
  stop(): void {
    this.stopped = true;
  }

  private local(request: () => Accepted): Accepted {
    if (this.stopped) return { ok: false, refusal: 'proposalDropped' };
    const result = request();
    this.pump();
    return result;
  }

  // ------------------------------------------------------------ the loop

  private pump(): void {
    let rounds = 0;
    while (!this.stopped && !this.diskBusy && this.raft.hasReady()) {
      invariant(++rounds <= 10_000, 'the driver loop did not settle');
      const ready = this.raft.ready();
      this.sendAll(ready.messages);
      if (ready.hardState === null && ready.entries.length === 0 && ready.snapshot === null) {
        this.onDurable(ready); // nothing to persist
        continue;
      }
      // Planted bug (etcd #14370): committed entries applied while their write is in flight.
      if (this.ackBeforeDurable && ready.snapshot === null) this.applyEarly(ready);
      this.diskBusy = true;
      this.ports.logStore.write(
        { hardState: ready.hardState, entries: ready.entries, snapshot: ready.snapshot, mustSync: ready.mustSync },
        (result) => { this.onWritten(ready, result); },
      );
    }
  }

  private onWritten(ready: Ready, result: WriteResult): void {
    if (this.stopped) return;
    invariant(this.diskBusy, 'a write completed that was not in flight');
    this.diskBusy = false;
    if (result.kind !== 'ok') {
      this.fail(`write failed: ${result.kind}: ${result.detail}`);
      return;
    }
    this.onDurable(ready);
    this.pump();
  }

  /** The Ready's state is durable: release held messages, apply, advance. */
  private onDurable(ready: Ready): void {
    const storage = this.storage;
    if (ready.snapshot !== null) storage.applySnapshot(ready.snapshot);
    storage.append(ready.entries);
    if (ready.hardState !== null) storage.setHardState(ready.hardState);
    this.sendAll(this.raft.persisted(ready));
    if (ready.snapshot !== null) {
      this.ports.stateMachine.restore(ready.snapshot.data);
      this.snapshotIndex = ready.snapshot.metadata.index;
      this.lastApplied = { index: ready.snapshot.metadata.index, term: ready.snapshot.metadata.term };
    }
    if (!this.ackBeforeDurable || !this.appliedEarly.delete(ready)) {
      for (const entry of ready.committedEntries) this.apply(entry);
    }
    for (const read of ready.readStates) this.observer.onReadReady?.(read.context, read.index);
    this.raft.advance(ready);
    this.maybeCompact();
  }

  /** Only with the planted bug ackBeforeDurable: applies before the Ready is durable. */
  private applyEarly(ready: Ready): void {
    if (ready.committedEntries.length === 0) return;
    for (const entry of ready.committedEntries) this.apply(entry);
    this.appliedEarly.add(ready);
    invariant(this.appliedEarly.size === 1, 'one Ready applied early at a time (one write is in flight)');
  }

  private apply(entry: Entry): void {
    if (entry.type === 'confChange') {
      const change = decodeConfChange(entry.data);
      invariant(change !== null, () => `undecodable conf change at index ${entry.index}`);
      this.raft.applyConfChange(change);
      this.ports.stateMachine.applyConfChange?.(change, entry.index);
    } else if (entry.data.byteLength > 0) {
      this.ports.stateMachine.apply(entry);
    }
    this.lastApplied = { index: entry.index, term: entry.term };
    this.observer.onApplied?.(entry);
  }

  private sendAll(messages: readonly Message[]): void {
    for (const m of messages) {
      this.ports.transport.send(m.type === 'MsgSnap' ? this.withFreshSnapshot(m) : m);
      // The transport gives no delivery receipt, so report a snapshot as sent at once:
      // the leader then probes after it, and if the snapshot was lost the probe is
      // rejected and a new one goes out (otherwise a lost MsgSnap would stall the follower).
      if (m.type === 'MsgSnap') this.raft.reportSnapshot(m.to, true);
    }
  }

  /**
   * A MsgSnap as etcd sends it (createMergedSnapshotMessage): the state and configuration
   * as applied now, not the stored snapshot Raft picked. The stored one may predate the
   * follower's own addition — a member added after the last compaction, or after the
   * snapshot a data dir was imported at — and a follower absent from a snapshot's
   * configuration refuses it, so it would never catch up. Nothing is stored or compacted.
   */
  private withFreshSnapshot(m: Message): Message {
    const stored = m.snapshot;
    if (stored === null || this.lastApplied.index <= stored.metadata.index) return m;
    return {
      ...m,
      snapshot: {
        metadata: { ...this.lastApplied, confState: this.raft.status().confState },
        data: this.ports.stateMachine.snapshot(),
      },
    };
  }

  /** Every snapshotEveryEntries applied entries: snapshot the state machine, compact the log. */
  private maybeCompact(): void {
    const applied = this.raft.appliedIndex();
    if (applied - this.snapshotIndex < this.snapshotEveryEntries) return;
    const snapshot = this.storage.createSnapshot(applied, this.raft.status().confState, this.ports.stateMachine.snapshot());
    this.snapshotIndex = applied;
    this.diskBusy = true;
    this.ports.logStore.compact(snapshot, (result) => {
      if (this.stopped) return;
      this.diskBusy = false;
      if (result.kind !== 'ok') {
        this.fail(`compaction failed: ${result.kind}: ${result.detail}`);
        return;
      }
      // Keep a tail in memory so that slightly lagging followers need no snapshot.
      this.storage.compact(Math.max(0, applied - this.catchUpEntries));
      this.pump();
    });
  }

  private fail(reason: string): void {
    this.stopped = true;
    this.observer.onFatal?.(reason);
  }
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return value === undefined ? {} : ({ [key]: value } as { [P in K]?: V });
}
