/* eslint-disable @typescript-eslint/no-meaningless-void-operator -- temporary stub, replaced by the implementation */
// PLANNED API — stub committed so that sim/ can be written against it in parallel.
// The implementation replaces these bodies; the signatures are the contract.

import type { Random } from '../util/random.js';
import type {
  ConfChange, ConfState, Entry, HardState, Message, NodeId, ReadState, Role, Snapshot, SoftState, Storage,
} from './types.js';

/** Test-only switches that break the core in known ways (the simulator must catch each). */
export interface PlantedBugs {
  /** Send vote grants before the term/vote that justify them are durable. */
  readonly voteWithoutPersist?: boolean;
  /** Commit an old-term entry by counting replicas (violates Raft §5.4.2, Figure 8). */
  readonly commitOldTermByCounting?: boolean;
  /** Append entries without truncating a conflicting suffix first. */
  readonly appendWithoutTruncate?: boolean;
}

export interface RaftConfig {
  readonly id: NodeId;
  readonly storage: Storage;
  readonly random: Random;
  /** Ticks without hearing from a leader before campaigning (randomized in [e, 2e)). Default 10. */
  readonly electionTicks?: number;
  /** Ticks between leader heartbeats. Default 1. */
  readonly heartbeatTicks?: number;
  /** The last index the application has applied (on restart). Default: storage's snapshot index. */
  readonly applied?: number;
  readonly maxSizePerMsgBytes?: number;
  readonly maxInflightMsgs?: number;
  readonly maxUncommittedEntriesBytes?: number;
  /** Default true. */
  readonly preVote?: boolean;
  /** Default true. */
  readonly checkQuorum?: boolean;
  readonly bugs?: PlantedBugs;
}

/** An expected refusal: the request was not accepted and will not happen. */
export type Refusal =
  | 'proposalDropped'      // no leader known, or the leader is transferring leadership
  | 'notLeader'            // the operation needs this member to be the leader
  | 'confChangePending'    // a membership change is already in flight
  | 'invalidConfChange';   // e.g. removing the last voter, adding an existing member

export type Accepted = { readonly ok: true } | { readonly ok: false; readonly refusal: Refusal };

export interface Ready {
  readonly softState: SoftState | null;
  readonly hardState: HardState | null;
  /** Entries to make durable (before the held-back messages are sent). */
  readonly entries: readonly Entry[];
  /** A snapshot to make durable and then restore into the state machine. */
  readonly snapshot: Snapshot | null;
  /** Entries to apply, in order, after the persist step. */
  readonly committedEntries: readonly Entry[];
  /** Messages that may be sent at once, before anything is persisted. */
  readonly messages: readonly Message[];
  /** Reads to serve once the committed entries of this Ready are applied. */
  readonly readStates: readonly ReadState[];
  readonly mustSync: boolean;
}

export interface Status {
  readonly id: NodeId;
  readonly role: Role;
  readonly lead: NodeId;
  readonly hardState: HardState;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly confState: ConfState;
}

export class RawNode {
  constructor(config: RaftConfig) { void config; }
  tick(): void { throw new Error('planned'); }
  campaign(): void { throw new Error('planned'); }
  step(message: Message): void { void message; throw new Error('planned'); }
  propose(data: Uint8Array): Accepted { void data; throw new Error('planned'); }
  proposeConfChange(change: ConfChange): Accepted { void change; throw new Error('planned'); }
  applyConfChange(change: ConfChange): ConfState { void change; throw new Error('planned'); }
  readIndex(context: string): Accepted { void context; throw new Error('planned'); }
  transferLeader(to: NodeId): Accepted { void to; throw new Error('planned'); }
  reportUnreachable(id: NodeId): void { void id; }
  reportSnapshot(id: NodeId, ok: boolean): void { void id; void ok; }
  hasReady(): boolean { throw new Error('planned'); }
  ready(): Ready { throw new Error('planned'); }
  /** The persist step is done: returns the messages held back until it was (vote grants, append acks). */
  persisted(ready: Ready): readonly Message[] { void ready; throw new Error('planned'); }
  advance(ready: Ready): void { void ready; throw new Error('planned'); }
  status(): Status { throw new Error('planned'); }
  /** Every entry this member holds (stable + unstable), for checkers and printing. */
  logEntries(): readonly Entry[] { throw new Error('planned'); }
}
