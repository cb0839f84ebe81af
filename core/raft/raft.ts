// The Raft state machine (Ongaro & Ousterhout, "In Search of an Understandable
// Consensus Algorithm", and Ongaro's thesis), in the shape of etcd-io/raft.
//
// It is pure and synchronous: inputs are tick() and step(message); outputs are
// appended to outboxes that RawNode hands to the driver in a Ready:
//   msgs              may be sent at once;
//   msgsAfterPersist  depend on state that is not durable yet (vote grants, append
//                     acks): the driver may send them only after persisting (§3.8);
//   stepsOnPersist    self-addressed responses (the leader's ack of its own append,
//                     a candidate's vote for itself), stepped once the state they
//                     acknowledge is durable.

import { invariant } from '../util/invariant.js';
import type { Random } from '../util/random.js';
import { applyConfChange as nextConf, decodeConfChange } from './confchange.js';
import { RaftLog } from './log.js';
import type { PlantedBugs } from './plantedBugs.js';
import { Progress } from './progress.js';
import { committedIndex, majority, voteResult, type VoteResult } from './quorum.js';
import { ReadOnly } from './readOnly.js';
import type {
  ConfChange, ConfState, Entry, HardState, Message, MessageType, NodeId, ReadState, Role, Snapshot, Storage,
} from './types.js';
import { appendAck, appendMessage, entrySizeBytes, heartbeatAck, heartbeatMessage, message, NONE } from './types.js';

export interface RaftOptions {
  readonly id: NodeId;
  readonly storage: Storage;
  readonly random: Random;
  readonly electionTicks: number;
  readonly heartbeatTicks: number;
  readonly applied: number;
  readonly maxSizePerMsgBytes: number;
  readonly maxInflightMsgs: number;
  /** See MAX_UNCOMMITTED_ENTRIES_SIZE_BYTES (limits.ts). */
  readonly maxUncommittedEntriesSizeBytes: number;
  /** See MAX_PENDING_READ_INDEX_REQUESTS (limits.ts). */
  readonly maxPendingReadIndexRequests: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly bugs: PlantedBugs;
}

/**
 * Why a request was not accepted. An expected outcome, not an error. `proposalDropped`
 * also covers a proposal over the uncommitted-size limit (etcd-io/raft's
 * ErrProposalDropped); `tooManyReads`: the leader holds its limit of ReadIndex requests.
 */
export type Refusal = 'proposalDropped' | 'notLeader' | 'confChangePending' | 'invalidConfChange' | 'tooManyReads';

const TRANSFER_CONTEXT = 'transfer';
const EMPTY = new Uint8Array(0);

export class Raft {
  readonly id: NodeId;
  term = 0;
  vote: NodeId = NONE;
  role: Role = 'follower';
  lead: NodeId = NONE;
  readonly log: RaftLog;

  /** Members and their replication progress (meaningful on the leader). Sorted by id. */
  private progress = new Map<NodeId, Progress>();
  private voters: NodeId[] = [];
  private learners: NodeId[] = [];
  private readonly votes = new Map<NodeId, boolean>();

  msgs: Message[] = [];
  msgsAfterPersist: Message[] = [];
  /**
   * A proposal or a commit advance asked for a broadcast of appends, which waits for the
   * next Ready (flushBroadcast). Messages leave only in a Ready anyway, so nothing is
   * sent later than before; what changes is that the proposals of one Ready (all those
   * that arrive while the previous write is in flight) go out as one MsgApp per
   * follower instead of one each, and a follower appends and acks them once. Measured
   * with Go clients, 3 members, put c=256: that was 2 MsgApps and 2 acks per put.
   */
  broadcastPending = false;
  stepsOnPersist: Message[] = [];
  readStates: ReadState[] = [];

  /** The leader-transfer target, or NONE. */
  leadTransferee: NodeId = NONE;
  /** The log index of the latest conf change proposed; a new one waits until it is applied. */
  private pendingConfIndex = 0;
  private readOnly = new ReadOnly();
  /** Reads that arrived before this leader committed an entry of its own term. */
  private pendingReadIndexMessages: Message[] = [];
  /**
   * Payload bytes this leader appended in its term and has not handed out as committed
   * (an estimate, as etcd-io/raft's uncommittedSize: entries of earlier terms are not
   * counted). Invariant: 0 <= uncommittedSizeBytes; 0 on followers.
   */
  private uncommittedSizeBytes = 0;

  private electionElapsed = 0;
  private heartbeatElapsed = 0;
  private randomizedElectionTimeout = 0;

  private readonly options: RaftOptions;

  constructor(options: RaftOptions) {
    invariant(options.id !== NONE, 'a member cannot have id 0');
    invariant(options.electionTicks > options.heartbeatTicks,
      () => `electionTicks (${options.electionTicks}) must exceed heartbeatTicks (${options.heartbeatTicks})`);
    invariant(options.heartbeatTicks > 0, 'heartbeatTicks must be positive');
    invariant(options.maxInflightMsgs > 0, 'maxInflightMsgs must be positive');
    invariant(options.maxUncommittedEntriesSizeBytes > 0, 'maxUncommittedEntriesSizeBytes must be positive');
    invariant(options.maxPendingReadIndexRequests > 0, 'maxPendingReadIndexRequests must be positive');
    this.options = options;
    this.id = options.id;
    this.log = new RaftLog(options.storage, options.bugs);
    const { hardState, confState } = options.storage.initialState();
    this.loadHardState(hardState);
    if (options.applied > 0) this.log.appliedTo(options.applied);
    this.applyConfState(confState);
    this.becomeFollower(this.term, NONE);
  }

  // ---------------------------------------------------------------- inspection

  hardState(): HardState {
    return { term: this.term, vote: this.vote, commit: this.log.committed };
  }

  confState(): ConfState {
    return { voters: [...this.voters], learners: [...this.learners] };
  }

  progressOf(id: NodeId): Progress | undefined {
    return this.progress.get(id);
  }

  isVoter(id: NodeId): boolean {
    return this.voters.includes(id);
  }

  // ---------------------------------------------------------------- ticks

  tick(): void {
    if (this.role === 'leader') this.tickHeartbeat();
    else this.tickElection();
  }

  private tickElection(): void {
    this.electionElapsed++;
    if (this.promotable() && this.electionElapsed >= this.randomizedElectionTimeout) {
      this.electionElapsed = 0;
      this.hup(false);
    }
  }

  private tickHeartbeat(): void {
    this.heartbeatElapsed++;
    this.electionElapsed++;
    if (this.electionElapsed >= this.options.electionTicks) {
      this.electionElapsed = 0;
      if (this.options.checkQuorum) this.checkQuorum();
      // A transfer that did not finish within an election timeout is abandoned.
      if (this.role === 'leader' && this.leadTransferee !== NONE) this.leadTransferee = NONE;
    }
    if (this.role !== 'leader') return;
    if (this.heartbeatElapsed >= this.options.heartbeatTicks) {
      this.heartbeatElapsed = 0;
      this.bcastHeartbeat();
    }
  }

  /** Check-quorum: a leader that has not heard from a quorum in an election timeout steps down. */
  private checkQuorum(): void {
    let active = 0;
    for (const id of this.voters) {
      const pr = this.progress.get(id);
      if (id === this.id || pr?.recentActive === true) active++;
    }
    if (active < majority(this.voters.length)) {
      this.becomeFollower(this.term, NONE);
    }
    for (const [id, pr] of this.progress) {
      if (id !== this.id) pr.recentActive = false;
    }
  }

  // ---------------------------------------------------------------- roles

  private reset(term: number): void {
    if (this.term !== term) {
      invariant(term > this.term, () => `term goes back from ${this.term} to ${term}`);
      this.term = term;
      this.vote = NONE;
    }
    this.lead = NONE;
    this.electionElapsed = 0;
    this.heartbeatElapsed = 0;
    this.resetRandomizedElectionTimeout();
    this.leadTransferee = NONE;
    this.broadcastPending = false;
    this.votes.clear();
    const last = this.log.lastIndex();
    for (const [id, pr] of this.progress) {
      const fresh = new Progress({
        match: id === this.id ? last : 0,
        next: last + 1,
        maxInflightMsgs: this.options.maxInflightMsgs,
        isLearner: pr.isLearner,
      });
      this.progress.set(id, fresh);
    }
    this.pendingConfIndex = 0;
    this.readOnly = new ReadOnly();
    this.pendingReadIndexMessages = [];
    this.uncommittedSizeBytes = 0;
  }

  private resetRandomizedElectionTimeout(): void {
    const e = this.options.electionTicks;
    this.randomizedElectionTimeout = e + this.options.random.intBelow(e);
    invariant(this.randomizedElectionTimeout >= e && this.randomizedElectionTimeout < 2 * e, 'election timeout out of [e, 2e)');
  }

  becomeFollower(term: number, lead: NodeId): void {
    this.reset(term);
    this.role = 'follower';
    this.lead = lead;
  }

  private becomePreCandidate(): void {
    invariant(this.role !== 'leader', 'invalid transition leader -> preCandidate');
    // Pre-vote changes neither the term nor the vote: a partitioned member that keeps
    // failing pre-votes never inflates its term and so never disrupts the cluster.
    this.role = 'preCandidate';
    this.votes.clear();
    this.lead = NONE;
  }

  private becomeCandidate(): void {
    invariant(this.role !== 'leader', 'invalid transition leader -> candidate');
    this.reset(this.term + 1);
    this.vote = this.id;
    this.role = 'candidate';
  }

  private becomeLeader(): void {
    invariant(this.role === 'candidate', () => `invalid transition ${this.role} -> leader`);
    invariant(this.vote === this.id, 'a leader must have voted for itself');
    invariant(voteResult(this.voters, this.votes) === 'won', 'a leader must hold a quorum of votes');
    this.reset(this.term);
    this.lead = this.id;
    this.role = 'leader';
    const self = this.progress.get(this.id);
    invariant(self !== undefined, 'a leader must be a member');
    self.becomeReplicate();
    self.recentActive = true;
    // Conservatively assume the log tail may hold an unapplied conf change.
    this.pendingConfIndex = this.log.lastIndex();
    // The empty entry of the new term is what lets older entries commit (§5.4.2).
    const appended = this.appendEntries([{ term: 0, index: 0, type: 'normal', data: EMPTY }]);
    invariant(appended, 'a new leader could not append its empty entry');
  }

  private promotable(): boolean {
    return this.voters.includes(this.id) && this.log.unstable.snapshot === null;
  }

  /** Starts an election (or a pre-vote), unless this member may not. */
  hup(transfer: boolean): void {
    if (this.role === 'leader') return;
    if (!this.promotable()) return;
    // A committed but unapplied conf change might remove us or change the quorum.
    if (this.hasUnappliedConfChanges()) return;
    if (this.options.preVote && !transfer) this.campaign('preVote', false);
    else this.campaign('vote', transfer);
  }

  private hasUnappliedConfChanges(): boolean {
    if (this.log.applied >= this.log.committed) return false;
    const lo = Math.max(this.log.applied + 1, this.log.firstIndex());
    if (lo > this.log.committed) return false;
    return this.log.slice(lo, this.log.committed + 1, Number.POSITIVE_INFINITY).some((e) => e.type === 'confChange');
  }

  private campaign(kind: 'preVote' | 'vote', transfer: boolean): void {
    let term: number;
    let voteType: MessageType;
    if (kind === 'preVote') {
      this.becomePreCandidate();
      voteType = 'MsgPreVote';
      term = this.term + 1; // the term we would campaign in; not adopted yet
    } else {
      this.becomeCandidate();
      voteType = 'MsgVote';
      term = this.term;
    }
    const lastIndex = this.log.lastIndex();
    const lastTerm = this.log.lastTerm();
    for (const id of this.voters) {
      if (id === this.id) {
        // Our own vote counts only once the term and vote are durable.
        this.send(message({ type: voteRespType(voteType), from: this.id, to: id, term }));
        continue;
      }
      this.send(message({
        type: voteType, from: this.id, to: id, term, index: lastIndex, logTerm: lastTerm,
        context: transfer ? TRANSFER_CONTEXT : '',
      }));
    }
  }

  private poll(from: NodeId, granted: boolean): VoteResult {
    if (!this.votes.has(from)) this.votes.set(from, granted);
    return voteResult(this.voters, this.votes);
  }

  // ---------------------------------------------------------------- step

  /**
   * Feeds one message. Term handling first (§5.1: a higher term makes us a follower;
   * a lower one is stale), then the role's own handler. Returns a refusal for local
   * requests (proposals, reads, transfers) that cannot be taken.
   */
  step(m: Message): Refusal | null {
    invariant(Number.isInteger(m.term) && m.term >= 0, 'a message with a term that is not a non-negative integer');
    if (m.term > this.term) {
      if (!this.stepHigherTerm(m)) return null;
    } else if (m.term < this.term && m.term !== 0) {
      this.stepLowerTerm(m);
      return null;
    }
    switch (m.type) {
      case 'MsgVote':
      case 'MsgPreVote':
        this.handleVoteRequest(m);
        return null;
      default:
        break;
    }
    switch (this.role) {
      case 'leader': return this.stepLeader(m);
      case 'candidate':
      case 'preCandidate': return this.stepCandidate(m);
      case 'follower': return this.stepFollower(m);
    }
  }

  /** Returns false when the message is to be ignored. */
  private stepHigherTerm(m: Message): boolean {
    if (m.type === 'MsgVote' || m.type === 'MsgPreVote') {
      const force = m.context === TRANSFER_CONTEXT;
      // With check-quorum, a member that heard from a live leader within the election
      // timeout ignores (pre)votes: a rejoining partitioned node cannot depose a
      // healthy leader (thesis §4.2.3).
      const inLease = this.options.checkQuorum && this.lead !== NONE && this.electionElapsed < this.options.electionTicks;
      if (!force && inLease) return false;
    }
    if (m.type === 'MsgPreVote') {
      // Never change the term because of a pre-vote.
      return true;
    }
    if (m.type === 'MsgPreVoteResp' && !m.reject) {
      // A granted pre-vote carries the future term; we adopt it only when we campaign.
      return true;
    }
    const leaderMessage = m.type === 'MsgApp' || m.type === 'MsgHeartbeat' || m.type === 'MsgSnap';
    this.becomeFollower(m.term, leaderMessage ? m.from : NONE);
    return true;
  }

  private stepLowerTerm(m: Message): void {
    if ((this.options.checkQuorum || this.options.preVote) && (m.type === 'MsgHeartbeat' || m.type === 'MsgApp')) {
      // A stale leader (e.g. partitioned, then healed) learns the new term from this
      // empty response and steps down; otherwise, with pre-vote on, it could keep
      // the cluster from electing anyone it can reach.
      this.send(message({ type: 'MsgAppResp', from: this.id, to: m.from, term: this.term }));
    } else if (m.type === 'MsgPreVote') {
      this.send(message({ type: 'MsgPreVoteResp', from: this.id, to: m.from, term: this.term, reject: true }));
    }
    // Anything else from an old term is ignored.
  }

  private handleVoteRequest(m: Message): void {
    invariant(m.type === 'MsgVote' || m.type === 'MsgPreVote', 'handleVoteRequest of a message that is not a vote request');
    invariant(m.term >= this.term, 'a vote request of an older term reached handleVoteRequest');
    // We can vote for m.from if we already did (a retransmission), or if we have not
    // voted and know no leader in this term, or it is a pre-vote for a later term.
    const canVote = this.vote === m.from
      || (this.vote === NONE && this.lead === NONE)
      || (m.type === 'MsgPreVote' && m.term > this.term);
    const respType = voteRespType(m.type);
    if (canVote && this.log.isUpToDate(m.index, m.logTerm)) {
      // The response carries the request's term, so a pre-candidate at a lower term
      // does not discard it.
      this.send(message({ type: respType, from: this.id, to: m.from, term: m.term }));
      if (m.type === 'MsgVote') {
        // One vote per term: a grant either repeats our vote or is our first this term.
        invariant(m.term === this.term, 'a vote is granted only in our current term');
        invariant(this.vote === NONE || this.vote === m.from, () => `second vote in term ${this.term}: ${this.vote} then ${m.from}`);
        this.electionElapsed = 0;
        this.vote = m.from;
      }
    } else {
      this.send(message({ type: respType, from: this.id, to: m.from, term: this.term, reject: true }));
    }
  }

  // ---------------------------------------------------------------- leader

  private stepLeader(m: Message): Refusal | null {
    switch (m.type) {
      case 'MsgProp':
        return this.leaderPropose(m);
      case 'MsgReadIndex':
        return this.leaderReadIndex(m);
      case 'MsgTransferLeader':
        this.leaderTransfer(m.from);
        return null;
      default:
        break;
    }
    const pr = this.progress.get(m.from);
    if (pr === undefined) return null; // not (or no longer) a member
    switch (m.type) {
      case 'MsgAppResp':
        this.handleAppendResponse(m, pr);
        break;
      case 'MsgHeartbeatResp':
        this.handleHeartbeatResponse(m, pr);
        break;
      default:
        break; // MsgVoteResp of an old election and the like
    }
    return null;
  }

  private leaderPropose(m: Message): Refusal | null {
    invariant(this.role === 'leader', 'leaderPropose on a non-leader');
    invariant(m.type === 'MsgProp', 'leaderPropose of a non-proposal');
    invariant(m.entries.length > 0, 'a proposal without entries');
    if (!this.progress.has(this.id)) return 'proposalDropped'; // removed while leading
    if (this.leadTransferee !== NONE) return 'proposalDropped';
    for (const entry of m.entries) {
      if (entry.type !== 'confChange') continue;
      if (this.pendingConfIndex > this.log.applied) return 'confChangePending';
      const change = decodeConfChange(entry.data);
      if (change === null || !nextConf(this.confState(), change).ok) return 'invalidConfChange';
    }
    if (!this.increaseUncommittedSize(m.entries)) return 'proposalDropped';
    const appended = this.appendEntries(m.entries);
    invariant(appended, 'leader append failed');
    if (m.entries.some((e) => e.type === 'confChange')) this.pendingConfIndex = this.log.lastIndex();
    this.broadcastPending = true;
    return null;
  }

  /**
   * Counts `entries` against the uncommitted-size limit, or returns false if they would
   * cross it. Always true into an empty uncommitted tail (a proposal larger than the
   * limit must not be refused forever) and for empty payloads (a new leader's entry).
   */
  private increaseUncommittedSize(entries: readonly Entry[]): boolean {
    const bytes = payloadBytes(entries);
    const limit = this.options.maxUncommittedEntriesSizeBytes;
    if (this.uncommittedSizeBytes > 0 && bytes > 0 && this.uncommittedSizeBytes + bytes > limit) return false;
    this.uncommittedSizeBytes += bytes;
    return true;
  }

  /**
   * Committed entries were handed out for applying: they no longer count as uncommitted.
   * The count may be an underestimate (entries appended in an earlier term), so it stops
   * at 0 rather than go negative.
   */
  reduceUncommittedSize(committed: readonly Entry[]): void {
    if (this.uncommittedSizeBytes === 0) return; // followers, and leaders with nothing pending
    this.uncommittedSizeBytes = Math.max(0, this.uncommittedSizeBytes - payloadBytes(committed));
  }

  /** Payload bytes a leader holds appended and uncommitted (see uncommittedSizeBytes). */
  uncommittedSize(): number {
    return this.uncommittedSizeBytes;
  }

  private appendEntries(entries: readonly Entry[]): boolean {
    let index = this.log.lastIndex();
    const stamped = entries.map((e) => ({ term: this.term, index: ++index, type: e.type, data: e.data }));
    const last = this.log.append(stamped);
    if (this.options.bugs.ackBeforeDurable === true && this.voters.length === 1 && this.voters[0] === this.id) {
      // Planted bug (etcd #14370): the only voter counts its append before it is durable.
      this.progress.get(this.id)?.maybeUpdate(last);
      if (this.maybeCommit()) this.onCommitAdvanced();
      return true;
    }
    // The leader acknowledges its own entries only once they are durable.
    this.send(appendAck(this.id, this.id, this.term, last));
    return true;
  }

  private handleAppendResponse(m: Message, pr: Progress): void {
    invariant(this.role === 'leader', 'handleAppendResponse on a non-leader');
    invariant(m.type === 'MsgAppResp', 'handleAppendResponse of a message that is not MsgAppResp');
    invariant(m.term === this.term, 'an append response of another term reached handleAppendResponse');
    invariant(this.progress.get(m.from) === pr, 'handleAppendResponse got another member\'s progress');
    pr.recentActive = true;
    if (m.reject) {
      // The follower's log does not match at m.index. Its hint says where it might:
      // skip back a whole term at a time (see RaftLog.findConflictByTerm).
      let nextProbe = m.rejectHint;
      if (m.logTerm > 0) nextProbe = this.log.findConflictByTerm(m.rejectHint, m.logTerm).index;
      if (pr.maybeDecrTo(m.index, nextProbe)) {
        if (pr.state === 'replicate') pr.becomeProbe();
        this.sendAppend(m.from);
      }
      return;
    }
    const wasPaused = pr.isPaused();
    if (!pr.maybeUpdate(m.index) && !(pr.match === m.index && pr.state === 'probe')) return;
    if (m.from === this.id) {
      // Our own durable append: only the commit index can move.
      if (this.maybeCommit()) this.onCommitAdvanced();
      return;
    }
    if (pr.state === 'probe') {
      pr.becomeReplicate();
    } else if (pr.state === 'snapshot' && pr.match + 1 >= this.log.firstIndex()) {
      // The follower caught up past the snapshot (or got it another way): resume appends.
      pr.becomeProbe();
      pr.becomeReplicate();
    } else if (pr.state === 'replicate') {
      pr.inflights.freeLE(m.index);
    }
    if (this.maybeCommit()) {
      this.onCommitAdvanced();
    } else if (wasPaused) {
      this.sendAppend(m.from);
    }
    // Stream whatever else the window allows.
    let sent = 0;
    while (this.maybeSendAppend(m.from, false)) {
      sent++;
      invariant(sent <= this.options.maxInflightMsgs + 1, 'append loop exceeded the inflight window');
    }
    if (m.from === this.leadTransferee && pr.match === this.log.lastIndex()) {
      this.send(message({ type: 'MsgTimeoutNow', from: this.id, to: m.from, term: this.term }));
    }
  }

  private onCommitAdvanced(): void {
    this.releasePendingReadIndexMessages();
    this.broadcastPending = true;
  }

  /** The broadcast asked for since the last Ready (broadcastPending), if still leader. */
  flushBroadcast(): void {
    if (!this.broadcastPending) return;
    this.broadcastPending = false;
    if (this.role === 'leader') this.bcastAppend();
  }

  private handleHeartbeatResponse(m: Message, pr: Progress): void {
    invariant(this.role === 'leader', 'handleHeartbeatResponse on a non-leader');
    invariant(m.type === 'MsgHeartbeatResp', 'handleHeartbeatResponse of a message that is not MsgHeartbeatResp');
    invariant(this.progress.get(m.from) === pr, 'handleHeartbeatResponse got another member\'s progress');
    pr.recentActive = true;
    pr.msgAppFlowPaused = false;
    // The follower is alive but the window is full: its MsgApps were likely lost.
    // Free one slot so an append goes out; if the follower lacks the earlier ones it
    // rejects, and the leader falls back to probing from what it has (etcd 3.5's rule).
    if (pr.state === 'replicate' && pr.inflights.full()) pr.inflights.freeFirstOne();
    if (pr.match < this.log.lastIndex() || pr.state === 'probe') this.sendAppend(m.from);
    if (m.context === '') return;
    const acks = this.readOnly.recvAck(m.from, m.context);
    if (acks === null) return;
    let voterAcks = 0;
    for (const id of acks) if (this.voters.includes(id)) voterAcks++;
    if (voterAcks < majority(this.voters.length)) return;
    for (const request of this.readOnly.advance(m.context)) {
      this.respondToRead(request.from, request.index, request.context);
    }
  }

  private leaderReadIndex(m: Message): Refusal | null {
    invariant(this.role === 'leader', 'leaderReadIndex on a non-leader');
    invariant(m.type === 'MsgReadIndex' && m.context !== '', 'a read needs a non-empty context');
    // Every read held here counts: waiting for this term's first commit, in a heartbeat
    // round, or answered and waiting for this member to apply (its own reads).
    const held = this.pendingReadIndexMessages.length + this.readOnly.size() + this.readStates.length;
    invariant(held <= this.options.maxPendingReadIndexRequests, 'more reads held than the limit');
    if (held === this.options.maxPendingReadIndexRequests) return 'tooManyReads';
    // Until an entry of this term is committed, the leader's commit index may lag
    // what an earlier leader committed (thesis §6.4): wait for it. A single member too:
    // restarted, its durable commit may lag entries it acknowledged before the crash
    // (found by the simulator, --nodes 1, seed 82: a read below an acknowledged write).
    if (!this.committedEntryInCurrentTerm()) {
      this.pendingReadIndexMessages.push(m);
      return null;
    }
    this.startReadRound(m);
    return null;
  }

  private startReadRound(m: Message): void {
    if (this.voters.length === 1 && this.voters[0] === this.id) {
      // No one else to confirm the leadership with.
      this.respondToRead(m.from, this.log.committed, m.context);
      return;
    }
    if (!this.readOnly.addRequest(this.log.committed, m.context, m.from)) return;
    this.readOnly.recvAck(this.id, m.context);
    this.bcastHeartbeat();
  }

  private respondToRead(from: NodeId, index: number, context: string): void {
    if (from === NONE || from === this.id) {
      this.readStates.push({ index, context });
    } else {
      this.send(message({ type: 'MsgReadIndexResp', from: this.id, to: from, term: this.term, index, context }));
    }
  }

  private committedEntryInCurrentTerm(): boolean {
    return this.log.term(this.log.committed) === this.term;
  }

  private releasePendingReadIndexMessages(): void {
    if (this.pendingReadIndexMessages.length === 0 || !this.committedEntryInCurrentTerm()) return;
    const pending = this.pendingReadIndexMessages;
    this.pendingReadIndexMessages = [];
    for (const m of pending) this.startReadRound(m);
  }

  private leaderTransfer(transferee: NodeId): void {
    invariant(this.role === 'leader', 'leaderTransfer on a non-leader');
    const pr = this.progress.get(transferee);
    if (pr === undefined || pr.isLearner) return;
    if (transferee === this.id) return;
    if (this.leadTransferee === transferee) return; // already under way
    this.leadTransferee = transferee;
    // The transfer must finish within an election timeout (tickHeartbeat aborts it).
    this.electionElapsed = 0;
    if (pr.match === this.log.lastIndex()) {
      this.send(message({ type: 'MsgTimeoutNow', from: this.id, to: transferee, term: this.term }));
    } else {
      this.sendAppend(transferee);
    }
  }

  /** A voter's acknowledged index for committedIndex: made once, not a closure per commit check. */
  private readonly matchOf = (id: NodeId): number => this.progress.get(id)?.match ?? 0;

  private maybeCommit(): boolean {
    const index = committedIndex(this.voters, this.matchOf);
    return this.log.maybeCommit(index, this.term);
  }

  private bcastAppend(): void {
    for (const id of this.progress.keys()) {
      if (id !== this.id) this.sendAppend(id);
    }
  }

  private bcastHeartbeat(): void {
    const context = this.readOnly.lastPendingContext();
    for (const [id, pr] of this.progress) {
      if (id === this.id) continue;
      // Never tell a follower to commit past what it is known to hold.
      const commit = Math.min(pr.match, this.log.committed);
      this.send(heartbeatMessage(this.id, id, this.term, commit, context));
    }
  }

  private sendAppend(to: NodeId): void {
    this.maybeSendAppend(to, true);
  }

  /** Sends one MsgApp (or a snapshot) to `to` if its progress allows. */
  private maybeSendAppend(to: NodeId, sendIfEmpty: boolean): boolean {
    const pr = this.progress.get(to);
    invariant(pr !== undefined, () => `sendAppend to non-member ${to}`);
    if (pr.isPaused()) return false;
    const prevIndex = pr.next - 1;
    const prevTerm = this.log.term(prevIndex);
    const entries = prevTerm === null ? null : this.log.entriesFrom(pr.next, this.options.maxSizePerMsgBytes);
    if (prevTerm === null || entries === null) return this.maybeSendSnapshot(to, pr);
    if (entries.length === 0 && !sendIfEmpty) return false;
    const last = entries[entries.length - 1];
    let bytes = 0;
    for (const e of entries) bytes += entrySizeBytes(e);
    this.send(appendMessage(this.id, to, this.term, prevIndex, prevTerm, entries, this.log.committed));
    pr.sentEntries(entries.length, last?.index ?? prevIndex, bytes);
    return true;
  }

  private maybeSendSnapshot(to: NodeId, pr: Progress): boolean {
    // Don't ship a snapshot to a member we have not heard from: it may be down.
    if (!pr.recentActive) return false;
    const snapshot = this.log.snapshot();
    if (snapshot === 'unavailable') return false;
    invariant(snapshot.metadata.index > 0, 'need a non-empty snapshot');
    pr.becomeSnapshot(snapshot.metadata.index);
    this.send(message({ type: 'MsgSnap', from: this.id, to, term: this.term, snapshot }));
    return true;
  }

  /** The driver reports the outcome of sending a snapshot. */
  reportSnapshot(id: NodeId, ok: boolean): void {
    const pr = this.progress.get(id);
    if (this.role !== 'leader' || pr === undefined || pr.state !== 'snapshot') return;
    if (!ok) pr.pendingSnapshot = 0;
    pr.becomeProbe();
    // Wait for a heartbeat response before probing again.
    pr.msgAppFlowPaused = true;
  }

  reportUnreachable(id: NodeId): void {
    const pr = this.progress.get(id);
    if (this.role !== 'leader' || pr === undefined) return;
    if (pr.state === 'replicate') pr.becomeProbe();
  }

  // ---------------------------------------------------------------- candidate

  private stepCandidate(m: Message): Refusal | null {
    const myVoteResp: MessageType = this.role === 'preCandidate' ? 'MsgPreVoteResp' : 'MsgVoteResp';
    switch (m.type) {
      case 'MsgProp':
      case 'MsgReadIndex':
      case 'MsgTransferLeader':
        return 'proposalDropped';
      case 'MsgApp':
      case 'MsgHeartbeat':
      case 'MsgSnap':
        this.becomeFollower(m.term, m.from); // a leader exists in our term
        this.handleFromLeader(m);
        return null;
      default:
        break;
    }
    if (m.type !== myVoteResp) return null;
    const result = this.poll(m.from, !m.reject);
    if (result === 'won') {
      if (this.role === 'preCandidate') this.campaign('vote', false);
      else {
        this.becomeLeader();
        this.bcastAppend();
      }
    } else if (result === 'lost') {
      // A pre-candidate that lost stays at its term; either way, back to follower.
      this.becomeFollower(this.term, NONE);
    }
    return null;
  }

  // ---------------------------------------------------------------- follower

  private stepFollower(m: Message): Refusal | null {
    switch (m.type) {
      case 'MsgProp':
      case 'MsgReadIndex':
      case 'MsgTransferLeader':
        if (this.lead === NONE) return 'proposalDropped';
        this.send({ ...m, to: this.lead });
        return null;
      case 'MsgApp':
      case 'MsgHeartbeat':
      case 'MsgSnap':
        this.electionElapsed = 0;
        this.lead = m.from;
        this.handleFromLeader(m);
        return null;
      case 'MsgTimeoutNow':
        // The leader asks us to take over now: campaign without pre-vote, and with
        // the transfer context so that followers in lease still answer.
        this.hup(true);
        return null;
      case 'MsgReadIndexResp':
        // Past the limit the answer is dropped, as if lost: the read times out upstream.
        if (this.readStates.length < this.options.maxPendingReadIndexRequests) {
          this.readStates.push({ index: m.index, context: m.context });
        }
        return null;
      default:
        return null;
    }
  }

  /** A follower's handling of what only a leader sends (MsgApp, MsgHeartbeat, MsgSnap). */
  private handleFromLeader(m: Message): void {
    invariant(this.role === 'follower', 'a leader\'s message handled by a non-follower');
    invariant(this.lead === m.from, 'a leader\'s message from a member that is not our leader');
    invariant(m.term === this.term, 'a leader\'s message of another term handled');
    if (m.type === 'MsgApp') this.handleAppendEntries(m);
    else if (m.type === 'MsgHeartbeat') this.handleHeartbeat(m);
    else if (m.type === 'MsgSnap') this.handleSnapshot(m);
    else invariant(false, () => `${m.type} is not a leader's message`);
  }

  private handleAppendEntries(m: Message): void {
    if (m.index < this.log.committed) {
      // Already committed here: tell the leader where we are.
      this.send(appendAck(this.id, m.from, this.term, this.log.committed));
      return;
    }
    const appended = this.log.maybeAppend(m.index, m.logTerm, m.commit, m.entries);
    if (appended !== null) {
      if (appended.truncatedFrom !== null) this.dropAcksFrom(appended.truncatedFrom);
      this.send(appendAck(this.id, m.from, this.term, appended.lastNew));
      return;
    }
    // Reject, with a hint: the last index ≤ m.index whose term is ≤ m.logTerm. Our
    // entries in between cannot match the leader's (their terms are too new), so the
    // leader can skip them in one step.
    const hint = this.log.findConflictByTerm(Math.min(m.index, this.log.lastIndex()), m.logTerm);
    this.send(message({
      type: 'MsgAppResp', from: this.id, to: m.from, term: this.term,
      index: m.index, reject: true, rejectHint: hint.index, logTerm: hint.term,
    }));
  }

  private handleHeartbeat(m: Message): void {
    this.log.commitTo(Math.min(m.commit, this.log.lastIndex()));
    this.send(heartbeatAck(this.id, m.from, this.term, m.context));
  }

  private handleSnapshot(m: Message): void {
    const snapshot = m.snapshot;
    invariant(snapshot !== null, 'MsgSnap without a snapshot');
    const restored = this.restore(snapshot);
    const index = restored ? this.log.lastIndex() : this.log.committed;
    this.send(appendAck(this.id, m.from, this.term, index));
  }

  /** Installs a snapshot if it is ahead of us. Returns whether it was installed. */
  private restore(snapshot: Snapshot): boolean {
    const { index, term, confState } = snapshot.metadata;
    if (index <= this.log.committed) return false;
    if (!confState.voters.includes(this.id) && !confState.learners.includes(this.id)) {
      // A snapshot whose configuration does not contain us: do not adopt it.
      return false;
    }
    if (this.log.matchTerm(index, term)) {
      // We have the entry already: just move the commit index.
      this.log.commitTo(index);
      return false;
    }
    this.dropAcksFrom(this.log.committed + 1);
    this.log.restore(snapshot);
    this.applyConfState(confState);
    return true;
  }

  /**
   * Entries from `index` on were discarded before they became durable (a newer
   * leader's conflicting append, or a snapshot replacing the log). Acks still queued
   * for them would promise entries this member will never have written: drop them.
   * Acks already handed out in a Ready are truthful — their entries are being written
   * by that Ready — and a newer leader overwriting them later is ordinary Raft.
   *
   *   L1 (term 1) sends entries 713..728; we queue "ack 728" behind a disk write.
   *   L2 (term 2) sends a conflicting entry 713; we discard 713..728 from memory.
   *   Without this, "ack 728" would reach L1 after our next write, and L1 could
   *   count us toward a quorum for entries we never held (found by sim seed 54).
   */
  private dropAcksFrom(index: number): void {
    this.msgsAfterPersist = this.msgsAfterPersist.filter(
      (m) => !(m.type === 'MsgAppResp' && !m.reject && m.index >= index),
    );
  }

  // ---------------------------------------------------------------- membership

  /** The application applied a conf-change entry: adopt the new configuration. */
  applyConfChange(change: ConfChange): ConfState {
    const next = nextConf(this.confState(), change);
    if (!next.ok) return this.confState(); // validated at proposal; a no-op if it became invalid
    this.applyConfState(next.next);
    if (this.role !== 'leader') return this.confState();
    if (!this.voters.includes(this.id)) {
      // A leader removed (or demoted) steps down; the others elect a new one.
      this.becomeFollower(this.term, NONE);
      return this.confState();
    }
    if (this.leadTransferee !== NONE && !this.voters.includes(this.leadTransferee)) this.leadTransferee = NONE;
    // The quorum changed: something may have become committed.
    if (this.maybeCommit()) this.onCommitAdvanced();
    else this.bcastAppend();
    return this.confState();
  }

  private applyConfState(conf: ConfState): void {
    invariant(conf.voters.every((id) => !conf.learners.includes(id)), 'a member is both voter and learner');
    const last = this.log.lastIndex();
    const next = new Map<NodeId, Progress>();
    for (const id of [...conf.voters, ...conf.learners].sort((a, b) => a - b)) {
      const isLearner = conf.learners.includes(id);
      const existing = this.progress.get(id);
      if (existing !== undefined) {
        existing.isLearner = isLearner;
        next.set(id, existing);
      } else {
        next.set(id, new Progress({
          match: id === this.id ? last : 0, next: last + 1, maxInflightMsgs: this.options.maxInflightMsgs, isLearner,
        }));
      }
    }
    this.progress = next;
    this.voters = [...conf.voters].sort((a, b) => a - b);
    this.learners = [...conf.learners].sort((a, b) => a - b);
  }

  // ---------------------------------------------------------------- send

  /**
   * Routes an outgoing message to the right outbox. Responses that promise durable
   * state go out only after persisting; rejections too ("err on the side of safety",
   * as etcd-raft does), since they also carry the term.
   */
  private send(m: Message): void {
    invariant(m.from === this.id || m.type === 'MsgTransferLeader' || m.type === 'MsgProp' || m.type === 'MsgReadIndex',
      () => `message from ${m.from} sent by ${this.id}`);
    if (m.to === this.id) {
      invariant(m.type === 'MsgAppResp' || m.type === 'MsgVoteResp' || m.type === 'MsgPreVoteResp',
        () => `unexpected self-addressed ${m.type}`);
      this.stepsOnPersist.push(m);
      return;
    }
    // Planted bug: vote responses leave before the vote that grants them is durable.
    const voteBug = this.options.bugs.voteWithoutPersist === true && m.type !== 'MsgAppResp';
    if (dependsOnDurableState(m.type) && !voteBug) this.msgsAfterPersist.push(m);
    else this.msgs.push(m);
  }

  private loadHardState(hardState: HardState): void {
    const last = this.log.lastIndex();
    invariant(hardState.commit >= this.log.committed && hardState.commit <= last,
      () => `stored commit ${hardState.commit} outside [${this.log.committed}, ${last}]`);
    this.log.committed = hardState.commit;
    this.term = hardState.term;
    this.vote = hardState.vote;
  }
}

export function voteRespType(type: MessageType): MessageType {
  if (type === 'MsgVote') return 'MsgVoteResp';
  invariant(type === 'MsgPreVote', () => `not a vote request: ${type}`);
  return 'MsgPreVoteResp';
}

function payloadBytes(entries: readonly Entry[]): number {
  let bytes = 0;
  for (const e of entries) bytes += e.data.length;
  return bytes;
}

function dependsOnDurableState(type: MessageType): boolean {
  return type === 'MsgAppResp' || type === 'MsgVoteResp' || type === 'MsgPreVoteResp';
}
