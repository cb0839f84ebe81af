// The values that cross the Raft core's boundary: log entries, messages, hard state,
// snapshots, and the Storage read port. Everything here is plain data so that the
// simulator can copy, hash and print it, and the network layer can encode it.

/** A member's id. 0 is never a member (NONE). */
export type NodeId = number;
export const NONE: NodeId = 0;

export type EntryType = 'normal' | 'confChange';

export interface Entry {
  readonly term: number;
  readonly index: number;
  readonly type: EntryType;
  /** Opaque payload; an empty payload is the no-op a new leader appends. */
  readonly data: Uint8Array;
}

/** Membership change, one server at a time (Raft thesis §4.1). */
export type ConfChangeType = 'addVoter' | 'removeVoter' | 'addLearner';

export interface ConfChange {
  readonly type: ConfChangeType;
  readonly nodeId: NodeId;
  /**
   * Opaque to Raft, carried in the entry for the application (etcd's ConfChange.Context:
   * the member's name and peer URLs, so that every member learns how to reach it).
   */
  readonly context?: Uint8Array;
}

/** Which members vote and which only learn. The two sets are disjoint. */
export interface ConfState {
  readonly voters: readonly NodeId[];
  readonly learners: readonly NodeId[];
}

/** State that must be durable before messages that depend on it are sent. */
export interface HardState {
  readonly term: number;
  /** The candidate this member voted for in `term`, or NONE. */
  readonly vote: NodeId;
  readonly commit: number;
}

export const EMPTY_HARD_STATE: HardState = { term: 0, vote: NONE, commit: 0 };

export interface SnapshotMetadata {
  /** The last log index the snapshot covers, and its term. */
  readonly index: number;
  readonly term: number;
  readonly confState: ConfState;
}

export interface Snapshot {
  readonly metadata: SnapshotMetadata;
  /** The application's state at `metadata.index`. Opaque to Raft. */
  readonly data: Uint8Array;
}

export type MessageType =
  // between members
  | 'MsgApp' | 'MsgAppResp'
  | 'MsgVote' | 'MsgVoteResp'
  | 'MsgPreVote' | 'MsgPreVoteResp'
  | 'MsgSnap'
  | 'MsgHeartbeat' | 'MsgHeartbeatResp'
  | 'MsgProp'
  | 'MsgReadIndex' | 'MsgReadIndexResp'
  | 'MsgTransferLeader' | 'MsgTimeoutNow';

/**
 * One message between members. A flat record (as in etcd's raftpb) so that it is
 * trivially encodable; each type uses a subset of the fields:
 *
 *   MsgApp            index/logTerm = the entry before `entries`; commit
 *   MsgAppResp        index = last index matched (or, on reject, the probed index);
 *                     reject + rejectHint/logTerm = where the follower's log could match
 *   MsgVote/PreVote   index/logTerm = the candidate's last entry; context 'transfer'
 *                     marks a leader-transfer election
 *   MsgHeartbeat      commit; context = the ReadIndex round it confirms ('' if none)
 *   MsgSnap           snapshot
 *   MsgProp           entries to propose (forwarded by a follower)
 *   MsgReadIndex      context (forwarded by a follower); MsgReadIndexResp adds index
 */
export interface Message {
  readonly type: MessageType;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly term: number;
  readonly logTerm: number;
  readonly index: number;
  readonly entries: readonly Entry[];
  readonly commit: number;
  readonly reject: boolean;
  readonly rejectHint: number;
  readonly context: string;
  readonly snapshot: Snapshot | null;
}

/**
 * Builds a message with every field not given set to its zero value. Written out
 * field by field (not a spread over defaults): messages are built on the hot path,
 * and a fixed shape keeps V8's property access monomorphic.
 */
export function message(fields: Pick<Message, 'type' | 'from' | 'to'> & Partial<Message>): Message {
  return {
    type: fields.type,
    from: fields.from,
    to: fields.to,
    term: fields.term ?? 0,
    logTerm: fields.logTerm ?? 0,
    index: fields.index ?? 0,
    entries: fields.entries ?? NO_ENTRIES,
    commit: fields.commit ?? 0,
    reject: fields.reject ?? false,
    rejectHint: fields.rejectHint ?? 0,
    context: fields.context ?? '',
    snapshot: fields.snapshot ?? null,
  };
}

const NO_ENTRIES: readonly Entry[] = [];

// The replication messages, which are nearly all the traffic (the simulator's swarm
// seeds: 90% of deliveries are MsgApp/MsgAppResp, the rest mostly heartbeats), built
// from positional fields: message() copies an options object whose shape differs at
// every call site, and measured on the simulator that copy was 11% of all bytes
// allocated. The literal's field order is message()'s, so every message keeps one shape.

/** MsgApp: `entries` follow the entry at (index, logTerm); the leader has committed `commit`. */
export function appendMessage(from: NodeId, to: NodeId, term: number, index: number, logTerm: number, entries: readonly Entry[], commit: number): Message {
  return { type: 'MsgApp', from, to, term, logTerm, index, entries, commit, reject: false, rejectHint: 0, context: '', snapshot: null };
}

/** An accepting MsgAppResp: the sender's log matches the leader's up to `index`. */
export function appendAck(from: NodeId, to: NodeId, term: number, index: number): Message {
  return { type: 'MsgAppResp', from, to, term, logTerm: 0, index, entries: NO_ENTRIES, commit: 0, reject: false, rejectHint: 0, context: '', snapshot: null };
}

/** MsgHeartbeat: commit up to `commit`; `context` names the ReadIndex round it confirms ('' if none). */
export function heartbeatMessage(from: NodeId, to: NodeId, term: number, commit: number, context: string): Message {
  return { type: 'MsgHeartbeat', from, to, term, logTerm: 0, index: 0, entries: NO_ENTRIES, commit, reject: false, rejectHint: 0, context, snapshot: null };
}

/** MsgHeartbeatResp, echoing the heartbeat's ReadIndex context. */
export function heartbeatAck(from: NodeId, to: NodeId, term: number, context: string): Message {
  return { type: 'MsgHeartbeatResp', from, to, term, logTerm: 0, index: 0, entries: NO_ENTRIES, commit: 0, reject: false, rejectHint: 0, context, snapshot: null };
}

/** A confirmed linearizable read: serve it once applied ≥ index. */
export interface ReadState {
  readonly index: number;
  readonly context: string;
}

export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/** Volatile state, for observers; never needs persisting. */
export interface SoftState {
  readonly lead: NodeId;
  readonly role: Role;
}

/** Why Storage could not answer. The core treats anything else as fatal. */
export type StorageError = 'compacted' | 'unavailable';

/**
 * The Storage read port (etcd's raft.Storage). The core only reads it; the driver
 * writes to it after each Ready has been made durable.
 */
export interface Storage {
  initialState(): { hardState: HardState; confState: ConfState };
  /** Entries [lo, hi), at most maxSizeBytes (but at least one) — or why not. */
  entries(lo: number, hi: number, maxSizeBytes: number): readonly Entry[] | StorageError;
  /** The term of entry i, for firstIndex-1 ≤ i ≤ lastIndex. */
  term(index: number): number | StorageError;
  /** Entry i itself (no copy of a range), for firstIndex ≤ i ≤ lastIndex. */
  entry(index: number): Entry | StorageError;
  firstIndex(): number;
  lastIndex(): number;
  /** The latest snapshot, or 'unavailable' if it is being made (the leader retries). */
  snapshot(): Snapshot | 'unavailable';
}

export function entrySizeBytes(entry: Entry): number {
  // A fixed overhead per entry approximates the framing of a real encoding.
  return entry.data.byteLength + 16;
}
