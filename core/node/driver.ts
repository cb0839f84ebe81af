/* eslint-disable @typescript-eslint/no-meaningless-void-operator -- temporary stub, replaced by the implementation */
// PLANNED API — stub committed so that sim/ can be written against it in parallel.

import type { Random } from '../util/random.js';
import type { Accepted, PlantedBugs, RawNode, Status } from '../raft/rawNode.js';
import type { ConfChange, Entry, Message, NodeId } from '../raft/types.js';
import type { LogStore, RecoveryFailure, Transport } from './ports.js';

/** The application that committed entries are applied to (the etcd state machine, later). */
export interface StateMachine {
  /** Applies one committed entry with a non-empty payload. Deterministic. */
  apply(entry: Entry): void;
  /** The state as of the last applied entry, for snapshots. */
  snapshot(): Uint8Array;
  /** Replaces the state with a snapshot's. */
  restore(data: Uint8Array): void;
}

export interface DriverConfig {
  readonly id: NodeId;
  /** The initial voters, used only when the disk holds nothing yet (a new cluster). */
  readonly initialVoters: readonly NodeId[];
  readonly electionTicks?: number;
  readonly heartbeatTicks?: number;
  /** Make a snapshot and compact the log every this many applied entries. Default 10000. */
  readonly snapshotEveryEntries?: number;
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
  private constructor(readonly raft: RawNode) {}
  /** Recovers from the log store and starts the member, or refuses with the reason. */
  static start(config: DriverConfig, ports: DriverPorts, observer?: DriverObserver): NodeDriver | RecoveryFailure {
    void config; void ports; void observer; throw new Error('planned');
  }
  /** One logical tick (the host calls it every tick interval). */
  tick(): void { throw new Error('planned'); }
  receive(message: Message): void { void message; throw new Error('planned'); }
  propose(data: Uint8Array): Accepted { void data; throw new Error('planned'); }
  proposeConfChange(change: ConfChange): Accepted { void change; throw new Error('planned'); }
  readIndex(context: string): Accepted { void context; throw new Error('planned'); }
  transferLeader(to: NodeId): Accepted { void to; throw new Error('planned'); }
  status(): Status { throw new Error('planned'); }
  /** Power loss: the driver ignores every callback from now on. The host drops it. */
  stop(): void { throw new Error('planned'); }
}
