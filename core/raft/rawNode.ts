// RawNode: the driver's whole view of the Raft core (etcd's RawNode, synchronous).
//
// The driver loop, in order:
//   1. rd = ready()                  — what to do now
//   2. send rd.messages              — may go at once (e.g. the leader's MsgApps)
//   3. make rd.hardState, rd.entries, rd.snapshot durable
//   4. held = persisted(rd); send held   — vote grants and append acks, which promise
//                                          durable state, are only obtainable here
//   5. apply rd.snapshot and rd.committedEntries, then serve rd.readStates
//   6. advance(rd)
// Between ready() and advance() the driver may still tick, step and propose.
// The contract is asserted: a second ready() before advance(), advance() before
// persisted(), or persisted() of a stale Ready throws.

import { invariant, invariantFailed } from '../util/invariant.js';
import type { Random } from '../util/random.js';
import { encodeConfChange } from './confchange.js';
import { MAX_PENDING_READ_INDEX_REQUESTS, MAX_UNCOMMITTED_ENTRIES_SIZE_BYTES } from './limits.js';
import { NO_BUGS, type PlantedBugs } from './plantedBugs.js';
import { Raft, type Refusal } from './raft.js';
import type {
  ConfChange, ConfState, Entry, HardState, Message, NodeId, ReadState, Role, Snapshot, SoftState, Storage,
} from './types.js';
import { message } from './types.js';

export type { PlantedBugs, Refusal };

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
  /** Byte budget of one MsgApp (at least one entry is always sent). Default 1 MiB. */
  readonly maxSizePerMsgBytes?: number;
  /** MsgApps in flight per follower in the replicate state. Default 256. */
  readonly maxInflightMsgs?: number;
  /** Payload bytes a leader may hold uncommitted before it drops proposals. Default MAX_UNCOMMITTED_ENTRIES_SIZE_BYTES. */
  readonly maxUncommittedEntriesSizeBytes?: number;
  /** ReadIndex requests a leader may hold before it refuses reads. Default MAX_PENDING_READ_INDEX_REQUESTS. */
  readonly maxPendingReadIndexRequests?: number;
  /** Byte budget of committed entries handed out per Ready. Default 16 MiB. */
  readonly maxCommittedSizePerReadyBytes?: number;
  /** Default true. */
  readonly preVote?: boolean;
  /** Default true. */
  readonly checkQuorum?: boolean;
  readonly bugs?: PlantedBugs;
}

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
  /** Entries or term/vote changed: the write must be fsynced (a commit-only change need not). */
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

/** A cheap view of a member for checkers that look after every event. */
export interface RaftView {
  role: Role;
  term: number;
  commit: number;
  firstIndex: number;
  lastIndex: number;
}

/** The Ready handed out and not yet advanced, with what it holds back. */
interface Outstanding {
  readonly ready: Ready;
  readonly heldMessages: readonly Message[];
  readonly selfResponses: readonly Message[];
  persisted: boolean;
}

const ACCEPTED: Accepted = { ok: true };
const NO_ENTRIES: readonly Entry[] = [];
const NO_MESSAGES: readonly Message[] = [];
const NO_READS: readonly ReadState[] = [];

/** A queue's messages for a Ready: the array itself (the caller replaces it), or the shared empty one. */
function takeMessages(queue: readonly Message[]): readonly Message[] {
  return queue.length === 0 ? NO_MESSAGES : queue;
}

export class RawNode {
  readonly raft: Raft;
  private prevSoft: SoftState;
  private prevHard: HardState;
  private outstanding: Outstanding | null = null;
  private readonly maxCommittedSizePerReadyBytes: number;

  constructor(config: RaftConfig) {
    const electionTicks = config.electionTicks ?? 10;
    const heartbeatTicks = config.heartbeatTicks ?? 1;
    this.raft = new Raft({
      id: config.id,
      storage: config.storage,
      random: config.random,
      electionTicks,
      heartbeatTicks,
      applied: config.applied ?? 0,
      maxSizePerMsgBytes: config.maxSizePerMsgBytes ?? 1024 * 1024,
      maxInflightMsgs: config.maxInflightMsgs ?? 256,
      maxUncommittedEntriesSizeBytes: config.maxUncommittedEntriesSizeBytes ?? MAX_UNCOMMITTED_ENTRIES_SIZE_BYTES,
      maxPendingReadIndexRequests: config.maxPendingReadIndexRequests ?? MAX_PENDING_READ_INDEX_REQUESTS,
      preVote: config.preVote ?? true,
      checkQuorum: config.checkQuorum ?? true,
      bugs: config.bugs ?? NO_BUGS,
    });
    this.maxCommittedSizePerReadyBytes = config.maxCommittedSizePerReadyBytes ?? 16 * 1024 * 1024;
    this.prevSoft = this.softState();
    this.prevHard = this.raft.hardState();
  }

  // ------------------------------------------------------------ inputs

  tick(): void {
    this.raft.tick();
  }

  /** Starts an election now (tests and leader hand-over). */
  campaign(): void {
    this.raft.hup(false);
  }

  /** Feeds a message from a peer. Local-only message types are rejected. */
  step(m: Message): void {
    invariant(m.to === this.raft.id, () => `message to ${m.to} stepped into ${this.raft.id}`);
    if (m.term === 0 && (m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgVote')) {
      invariantFailed(`${m.type} from the network without a term`);
    }
    this.raft.step(m);
  }

  propose(data: Uint8Array): Accepted {
    invariant(data instanceof Uint8Array, 'a proposal carries bytes');
    return this.stepLocal(message({
      type: 'MsgProp', from: this.raft.id, to: this.raft.id, entries: [{ term: 0, index: 0, type: 'normal', data }],
    }));
  }

  proposeConfChange(change: ConfChange): Accepted {
    return this.stepLocal(message({
      type: 'MsgProp', from: this.raft.id, to: this.raft.id,
      entries: [{ term: 0, index: 0, type: 'confChange', data: encodeConfChange(change) }],
    }));
  }

  /** The application applied a conf-change entry. Returns the new configuration. */
  applyConfChange(change: ConfChange): ConfState {
    return this.raft.applyConfChange(change);
  }

  /**
   * Asks for a linearizable read. The answer comes back as a ReadState with the same
   * context; the read may be served once the applied index reaches its index.
   * The context must be unique among reads in flight.
   */
  readIndex(context: string): Accepted {
    invariant(context !== '', 'a read needs a non-empty context');
    return this.stepLocal(message({ type: 'MsgReadIndex', from: this.raft.id, to: this.raft.id, context }));
  }

  /** Asks the leader to hand leadership to `to` (thesis §3.10). */
  transferLeader(to: NodeId): Accepted {
    if (this.raft.role !== 'leader' && this.raft.lead === 0) return { ok: false, refusal: 'proposalDropped' };
    return this.stepLocal(message({ type: 'MsgTransferLeader', from: to, to: this.raft.id }));
  }

  reportUnreachable(id: NodeId): void {
    this.raft.reportUnreachable(id);
  }

  reportSnapshot(id: NodeId, ok: boolean): void {
    this.raft.reportSnapshot(id, ok);
  }

  private stepLocal(m: Message): Accepted {
    const refusal = this.raft.step(m);
    return refusal === null ? ACCEPTED : { ok: false, refusal };
  }

  // ------------------------------------------------------------ outputs

  hasReady(): boolean {
    const r = this.raft;
    if (this.outstanding !== null) return false;
    // Field by field, not through softState()/hardState(): this runs in every driver loop.
    const soft = this.prevSoft;
    if (r.lead !== soft.lead || r.role !== soft.role) return true;
    const hard = this.prevHard;
    if (r.term !== hard.term || r.vote !== hard.vote || r.log.committed !== hard.commit) return true;
    if (r.log.unstable.snapshot !== null || r.log.unstableEntries().length > 0) return true;
    if (r.broadcastPending || r.msgs.length > 0 || r.msgsAfterPersist.length > 0 || r.stepsOnPersist.length > 0) return true;
    if (r.log.hasNextCommittedEntries()) return true;
    return this.releasableReadCount(r.log.applied) > 0;
  }

  ready(): Ready {
    invariant(this.outstanding === null, 'ready() called again before advance() of the previous Ready');
    const r = this.raft;
    r.flushBroadcast();
    // Unchanged states and empty lists are shared, not allocated: a Ready is built after
    // nearly every message, and most carry one or two of its eight parts.
    const prevSoft = this.prevSoft;
    const soft = r.lead === prevSoft.lead && r.role === prevSoft.role ? null : this.softState();
    const prevHard = this.prevHard;
    const hard = r.term === prevHard.term && r.vote === prevHard.vote && r.log.committed === prevHard.commit ? null : r.hardState();
    const unstable = r.log.unstableEntries();
    const entries = unstable.length === 0 ? NO_ENTRIES : [...unstable];
    const committedEntries = r.log.hasNextCommittedEntries() ? r.log.nextCommittedEntries(this.maxCommittedSizePerReadyBytes) : NO_ENTRIES;
    // Handed out to apply: no longer uncommitted (etcd-io/raft reduces here too).
    r.reduceUncommittedSize(committedEntries);
    const lastCommitted = committedEntries[committedEntries.length - 1];
    const snapshot = r.log.unstable.snapshot;
    const appliedAfter = Math.max(lastCommitted?.index ?? 0, snapshot?.metadata.index ?? 0, r.log.applied);
    const readCount = this.releasableReadCount(appliedAfter);
    const ready: Ready = {
      softState: soft,
      hardState: hard,
      entries,
      snapshot,
      committedEntries,
      messages: takeMessages(r.msgs),
      readStates: readCount === 0 ? NO_READS : r.readStates.splice(0, readCount),
      mustSync: entries.length > 0 || snapshot !== null || (hard !== null && (hard.term !== prevHard.term || hard.vote !== prevHard.vote)),
    };
    this.outstanding = {
      ready,
      heldMessages: takeMessages(r.msgsAfterPersist),
      selfResponses: takeMessages(r.stepsOnPersist),
      persisted: false,
    };
    if (r.msgs.length > 0) r.msgs = [];
    if (r.msgsAfterPersist.length > 0) r.msgsAfterPersist = [];
    if (r.stepsOnPersist.length > 0) r.stepsOnPersist = [];
    if (soft !== null) this.prevSoft = soft;
    if (hard !== null) this.prevHard = hard;
    return ready;
  }

  /**
   * The driver made `ready`'s hard state, entries and snapshot durable. Marks them
   * stable, steps the self-addressed responses that waited for durability, and
   * returns the messages that were held back until now. Call it even when the
   * Ready had nothing to persist.
   */
  persisted(ready: Ready): readonly Message[] {
    const o = this.outstanding;
    invariant(o !== null && o.ready === ready, 'persisted() of a Ready that is not the outstanding one');
    invariant(!o.persisted, 'persisted() called twice for one Ready');
    o.persisted = true;
    const r = this.raft;
    if (ready.snapshot !== null) r.log.stableSnapTo(ready.snapshot.metadata.index);
    const last = ready.entries[ready.entries.length - 1];
    if (last !== undefined) r.log.stableTo(last.index, last.term);
    for (const m of o.selfResponses) r.step(m);
    return o.heldMessages;
  }

  /** The driver applied `ready`'s snapshot and committed entries. */
  advance(ready: Ready): void {
    const o = this.outstanding;
    invariant(o !== null && o.ready === ready, 'advance() of a Ready that is not the outstanding one');
    invariant(o.persisted, 'advance() before persisted(): held messages would never be sent');
    const log = this.raft.log;
    if (ready.snapshot !== null && ready.snapshot.metadata.index > log.applied) log.appliedTo(ready.snapshot.metadata.index);
    const last = ready.committedEntries[ready.committedEntries.length - 1];
    if (last !== undefined) log.appliedTo(last.index);
    this.outstanding = null;
  }

  // ------------------------------------------------------------ inspection

  status(): Status {
    const r = this.raft;
    return {
      id: r.id,
      role: r.role,
      lead: r.lead,
      hardState: r.hardState(),
      applied: r.log.applied,
      firstIndex: r.log.firstIndex(),
      lastIndex: r.log.lastIndex(),
      confState: r.confState(),
    };
  }

  /** How far a member's log is known to match the leader's; null unless this node leads and tracks `id`. */
  matchOf(id: NodeId): number | null {
    if (this.raft.role !== 'leader') return null;
    return this.raft.progressOf(id)?.match ?? null;
  }

  /** Committed entries not yet applied (etcd's committed index − applied index), without allocating. */
  unappliedEntries(): number {
    const log = this.raft.log;
    invariant(log.applied <= log.committed, 'applied beyond committed');
    return log.committed - log.applied;
  }

  /** Every entry this member holds (stable + unstable), for checkers and printing. */
  logEntries(): readonly Entry[] {
    return this.raft.log.allEntries();
  }

  /** Fills `view` in place (no allocation): for checkers that run after every event. */
  inspect(view: RaftView): RaftView {
    const r = this.raft;
    view.role = r.role;
    view.term = r.term;
    view.commit = r.log.committed;
    view.firstIndex = r.log.firstIndex();
    view.lastIndex = r.log.lastIndex();
    return view;
  }

  /** The index applied last (status().applied without building a Status: the driver asks after every write). */
  appliedIndex(): number {
    return this.raft.log.applied;
  }

  /** Entry `index` of the log, or undefined outside it (no copy: the simulator's checker looks after every event). */
  entryAt(index: number): Entry | undefined {
    return this.raft.log.entryAt(index);
  }

  /** Entries lo..hi inclusive (within [firstIndex, lastIndex]), stable and unstable. */
  entries(lo: number, hi: number): readonly Entry[] {
    return this.raft.log.slice(lo, hi + 1, Number.POSITIVE_INFINITY);
  }

  private softState(): SoftState {
    return { lead: this.raft.lead, role: this.raft.role };
  }

  /** Read states are released in order, each once `applied` reaches its index. */
  private releasableReadCount(applied: number): number {
    let count = 0;
    for (const rs of this.raft.readStates) {
      if (rs.index > applied) break;
      count++;
    }
    return count;
  }
}
