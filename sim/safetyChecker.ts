// Safety checkers that run beside the cluster, after every event (TigerBeetle's
// StateChecker; the Raft paper's Figure 3 properties). Each check is incremental —
// it looks at what the last event could have changed — so that checking after every
// event stays cheap.
//
//   election safety      at most one leader per term; no member grants two votes in a term
//   persist before send  a vote grant or append ack leaves only once what it promises is
//                        durable on the sender's disk (the simulator owns the disks)
//   commit rule          a leader advances its commit index only to an entry of its own
//                        term (Raft §5.4.2, the Figure 8 rule)
//   log matching         an (index, term) pair names one entry, with one predecessor term
//   leader completeness  a new leader holds every entry committed before it
//   state machine safety no two members apply different entries at one index
//   durability           a member's commit index never goes back, not even across a crash
//                        (for what was durable); no acknowledged proposal is ever lost
//   linearizable reads   a ReadIndex read never returns an index below what was
//                        committed when it was issued

import type { RaftView, Status } from '../core/raft/rawNode.js';
import type { Entry, Message, NodeId } from '../core/raft/types.js';
import { entryChecksum } from './disk.js';

export type ViolationKind =
  | 'electionSafety' | 'doubleVote' | 'logMatching' | 'leaderCompleteness' | 'stateMachineSafety'
  | 'persistBeforeSend' | 'commitRule' | 'commitRegressed' | 'lostAcknowledged' | 'staleRead' | 'corruptionUnexplained' | 'exception'
  | 'notLinearizable' | 'watchBroken' | 'serializableRead' | 'authDecision' | 'leaseOutlived';

export interface Violation {
  readonly kind: ViolationKind;
  readonly atMs: number;
  readonly node: NodeId;
  readonly detail: string;
}

/** What the checker remembers of one member between events. */
interface NodeView {
  running: boolean;
  role: Status['role'];
  term: number;
  commit: number;
  firstIndex: number;
  lastIndex: number;
  /** The entry object last verified at each index: an unchanged object needs no re-check. */
  seen: (Entry | undefined)[];
  /** Keys of entries this member made that no other member holds yet. */
  owned: number[];
  lastApplied: number;
  restoredSinceApply: boolean;
  /** The last term in which this member, as leader, was seen to move its commit index. */
  committedAsLeaderIn: number;
}

interface EntryRecord {
  readonly checksum: number;
  /** The term of the entry before it in some log that holds it (-1: not yet known). */
  prevTerm: number;
  /** The member whose log held it first (the leader that made it). */
  readonly owner: NodeId;
  /** Another member's log held it too: it exists beyond its maker's memory. */
  shared: boolean;
}

/** One look at a member after an event: who, what the checker remembered of it, its status now, its log. */
interface Look {
  readonly id: NodeId;
  readonly view: NodeView;
  readonly status: Readonly<RaftView>;
  readonly entry: (index: number) => Entry | undefined;
}

/** Keys (index, term) pairs in one number; terms stay far below 2^20 in any run. */
const TERM_SPACE = 1 << 20;

export interface CheckerOptions {
  readonly now: () => number;
  /**
   * Status and log of a running member: `entry(i)` is its entry at index i, undefined
   * outside [firstIndex, lastIndex]. One entry at a time, never a copied range: the
   * checker reads the uncommitted tail after every event.
   */
  readonly inspect: (id: NodeId) => {
    /** The core's cheap view of the member (RawNode.inspect); the checker only reads it. */
    readonly status: Readonly<RaftView>;
    readonly entry: (index: number) => Entry | undefined;
  } | null;
  /** Stop at the first violation (the default): later ones are usually consequences. */
  readonly stopAtFirst?: boolean;
  /** What member `id`'s disk holds durably now (null if unknown). */
  readonly durable?: (id: NodeId) => { readonly term: number; readonly vote: NodeId; readonly lastIndex: number } | null;
  /**
   * The rule checks (persistBeforeSend, commitRule) catch a broken implementation at the
   * step that breaks the rule; without them only consequences (two leaders, lost or
   * diverging entries) are caught. Default on; off shows what the properties alone find.
   */
  readonly ruleChecks?: boolean;
  /** Called at each violation when stopping at the first (the run halts). */
  readonly onViolation?: () => void;
  /** Called when a member is seen to win an election. */
  readonly onLeader?: (id: NodeId, term: number) => void;
  /** Called when a leader's commit index moves for the first time in its term. */
  readonly onFirstCommit?: (id: NodeId, term: number) => void;
}

export class SafetyChecker {
  readonly violations: Violation[] = [];
  /** Distinct (term, leader) pairs seen: the number of elections won. */
  elections = 0;
  private readonly leaderOfTerm = new Map<number, NodeId>();
  private readonly voteOfTerm = new Map<number, NodeId>(); // key: term * 1024 + voter
  private readonly entries = new Map<number, EntryRecord>();
  /** Term of each committed index, learned from the first member to commit it (0: unknown). */
  private readonly committedTerm: number[] = [0];
  private committedMax = 0;
  /**
   * The lowest current term of any member that saw each index committed: the entry was
   * committed in that term or earlier, so every leader of a later term must hold it.
   */
  private readonly committedInTerm: number[] = [];
  /** Per index: the term and checksum of the entry applied there first. */
  private readonly appliedTerm: number[] = [];
  private readonly appliedChecksum: number[] = [];
  private appliedMaxValue = 0;
  /** Per index of a non-empty entry: the state machine chain after applying it. */
  private readonly chainAt: number[] = [];
  private readonly views = new Map<NodeId, NodeView>();

  constructor(private readonly options: CheckerOptions) {}

  failed(): boolean {
    return this.violations.length > 0 && this.options.stopAtFirst !== false;
  }

  /** The highest index applied anywhere (everything up to it is committed). */
  get appliedMax(): number {
    return this.appliedMaxValue;
  }

  report(kind: ViolationKind, node: NodeId, detail: string): void {
    this.violations.push({ kind, atMs: this.options.now() / 1000, node, detail });
    if (this.options.stopAtFirst !== false) this.options.onViolation?.();
  }

  /** After every event that touched member `id`. `logMayChange` forces a log scan. */
  afterEvent(id: NodeId, logMayChange: boolean): void {
    const inspected = this.options.inspect(id);
    if (inspected === null) return;
    const status = inspected.status;
    const view = this.viewOf(id);
    const hs = status;
    if (hs.commit < view.commit && view.running) {
      this.report('commitRegressed', id, `commit index went back from ${view.commit} to ${hs.commit} while running`);
    }
    const becameLeader = status.role === 'leader' && (view.role !== 'leader' || view.term !== hs.term);
    const logChanged = logMayChange || becameLeader || status.lastIndex !== view.lastIndex
      || status.firstIndex !== view.firstIndex || hs.commit !== view.commit;
    view.running = true;
    view.role = status.role;
    view.term = hs.term;
    if (becameLeader) {
      this.checkLeader(id, hs.term);
      this.options.onLeader?.(id, hs.term);
    }
    if (logChanged) {
      // Raft never changes a committed entry, and only a message from a leader (or a
      // restart) changes anything but the end of the log. So after MsgApp/MsgSnap the
      // tail after the lower commit index (plus the entry before it, for its term) is
      // read; after anything else, only what lies beyond the previous last entry.
      const scanFrom = Math.max(status.firstIndex,
        logMayChange ? Math.min(view.commit, hs.commit) : Math.min(view.lastIndex, status.lastIndex));
      const look: Look = { id, view, status, entry: inspected.entry };
      this.checkLog(look, scanFrom);
      if (hs.commit > view.commit) {
        if (status.role === 'leader' && !becameLeader && this.options.ruleChecks !== false) {
          this.checkCommitRule(look);
        }
        this.checkCommitted(look, Math.max(status.firstIndex, view.commit));
        if (status.role === 'leader' && view.committedAsLeaderIn !== hs.term) {
          view.committedAsLeaderIn = hs.term;
          this.options.onFirstCommit?.(id, hs.term);
        }
      }
      if (becameLeader) this.checkLeaderCompleteness(look);
    }
    view.commit = hs.commit;
    view.firstIndex = status.firstIndex;
    view.lastIndex = status.lastIndex;
  }

  /** Every message sent: a member never grants votes to two candidates in one term. */
  onSend(message: Message): void {
    if (message.reject) return;
    if (message.type === 'MsgAppResp') {
      if (this.options.ruleChecks === false) return;
      const durable = this.options.durable?.(message.from) ?? null;
      if (durable !== null && durable.lastIndex < message.index) {
        this.report('persistBeforeSend', message.from,
          `acknowledged index ${message.index} to ${message.to} in term ${message.term} with only ${durable.lastIndex} durable (disk in term ${durable.term})`);
      }
      return;
    }
    if ((message.type === 'MsgApp' && message.entries.length > 0) || message.type === 'MsgSnap') {
      // A leader hands out entries of its term only once that term is durable (etcd:
      // no message before the latest HardState is persisted). Otherwise it can crash,
      // come back in the previous term, win the same term again and give a second,
      // different entry the same (index, term) as one a follower already holds.
      if (this.options.ruleChecks === false) return;
      const durable = this.options.durable?.(message.from) ?? null;
      if (durable !== null && durable.term < message.term) {
        this.report('persistBeforeSend', message.from,
          `sent ${message.type} of term ${message.term} to ${message.to} while its disk holds term ${durable.term}`);
      }
      return;
    }
    if (message.type !== 'MsgVoteResp') return;
    const durable = this.options.ruleChecks === false ? null : this.options.durable?.(message.from) ?? null;
    // A disk already in a later term is fine too: the member can never vote in this term again.
    if (durable !== null && (durable.term < message.term || (durable.term === message.term && durable.vote !== message.to))) {
      this.report('persistBeforeSend', message.from,
        `granted its vote in term ${message.term} to ${message.to} while its disk holds term ${durable.term}, vote ${durable.vote}`);
    }
    const key = message.term * 1024 + message.from;
    const earlier = this.voteOfTerm.get(key);
    if (earlier === undefined) {
      this.voteOfTerm.set(key, message.to);
    } else if (earlier !== message.to) {
      this.report('doubleVote', message.from,
        `granted votes in term ${message.term} to both ${earlier} and ${message.to}`);
    }
  }

  onApplied(id: NodeId, entry: Entry): void {
    const view = this.viewOf(id);
    const i = entry.index;
    if (view.lastApplied >= 0 && !view.restoredSinceApply && i !== view.lastApplied + 1) {
      this.report('stateMachineSafety', id, `applied index ${i} after ${view.lastApplied}`);
    }
    view.lastApplied = i;
    view.restoredSinceApply = false;
    const checksum = entryChecksum(entry);
    const term = this.appliedTerm[i];
    if (term === undefined) {
      this.appliedTerm[i] = entry.term;
      this.appliedChecksum[i] = checksum;
      if (i > this.appliedMaxValue) this.appliedMaxValue = i;
    } else if (term !== entry.term || this.appliedChecksum[i] !== checksum) {
      this.report('stateMachineSafety', id,
        `applied entry ${i} of term ${entry.term}, but another member applied term ${term} there` +
        (term === entry.term ? ' with different data' : ''));
    }
  }

  /** The state machine's chain after applying the non-empty entry at `index`. */
  onChain({ id, index, chain }: { readonly id: NodeId; readonly index: number; readonly chain: number }): void {
    const expected = this.chainAt[index];
    if (expected === undefined) {
      this.chainAt[index] = chain;
    } else if (expected !== chain) {
      this.report('stateMachineSafety', id, `state machine diverged at index ${index} (history differs before it)`);
    }
  }

  /** Member `id` restored a snapshot that ends at `lastIndex` (0: none) with the state machine's `chain`. */
  onRestore({ id, lastIndex, chain }: { readonly id: NodeId; readonly lastIndex: number; readonly chain: number }): void {
    this.viewOf(id).restoredSinceApply = true;
    if (lastIndex === 0) return;
    const expected = this.chainAt[lastIndex];
    if (expected !== undefined && expected !== chain) {
      this.report('stateMachineSafety', id, `restored a snapshot whose state differs from index ${lastIndex}'s`);
    }
  }

  /**
   * Power loss: remember nothing volatile; the commit floor is what the disk kept.
   * Entries that lived only in this member's memory (made by it, never durable, never
   * in another log) vanish with it: a later, different entry at the same (index, term)
   * contradicts nothing anyone holds. (Handing such an entry out before its term is
   * durable is caught by persistBeforeSend.)
   */
  onCrash({ id, durableCommit, durableLastIndex }: {
    readonly id: NodeId; readonly durableCommit: number; readonly durableLastIndex: number;
  }): void {
    const view = this.viewOf(id);
    const kept: number[] = [];
    for (const key of view.owned) {
      const record = this.entries.get(key);
      if (record === undefined || record.shared || record.owner !== id) continue;
      if (Math.floor(key / TERM_SPACE) > durableLastIndex) this.entries.delete(key); else kept.push(key);
    }
    view.owned = kept;
    view.running = false;
    view.role = 'follower';
    view.commit = durableCommit;
    view.seen = [];
    view.lastApplied = -1;
  }

  /** A member started from its disk: its commit index must not be below the durable one. */
  onRestart(id: NodeId, status: Status): void {
    const view = this.viewOf(id);
    if (status.hardState.commit < view.commit) {
      this.report('commitRegressed', id,
        `restarted with commit ${status.hardState.commit} below the durable ${view.commit}`);
    }
    view.running = true;
    view.commit = status.hardState.commit;
    view.lastApplied = -1;
  }

  /** Member `id` served a ReadIndex read at `index`; `committedWhenIssued` was the highest commit when it was asked. */
  onReadServed({ id, index, committedWhenIssued }: {
    readonly id: NodeId; readonly index: number; readonly committedWhenIssued: number;
  }): void {
    if (index < committedWhenIssued) {
      this.report('staleRead', id, `ReadIndex read at index ${index}, but ${committedWhenIssued} was committed when it was issued`);
    }
  }

  /** End of run: the final leader holds every acknowledged proposal where it still has a log. */
  checkAcknowledged(id: NodeId, acknowledged: ReadonlyMap<number, number>, payloadIndexOf: (entry: Entry) => number): void {
    const inspected = this.options.inspect(id);
    if (inspected === null) return;
    const first = inspected.status.firstIndex;
    for (const [seq, index] of acknowledged) {
      if (index < first || index > inspected.status.lastIndex) continue;
      const entry = inspected.entry(index);
      if (entry === undefined || payloadIndexOf(entry) !== seq) {
        this.report('lostAcknowledged', id, `proposal #${seq}, acknowledged at index ${index}, is not in the leader's log`);
        return;
      }
    }
    if (inspected.status.commit < this.appliedMaxValue) {
      this.report('lostAcknowledged', id,
        `the leader's commit ${inspected.status.commit} is below the highest applied index ${this.appliedMaxValue}`);
    }
  }

  private viewOf(id: NodeId): NodeView {
    let view = this.views.get(id);
    if (view === undefined) {
      view = {
        running: false, role: 'follower', term: 0, commit: 0, firstIndex: 0, lastIndex: 0,
        seen: [], owned: [], lastApplied: -1, restoredSinceApply: false, committedAsLeaderIn: 0,
      };
      this.views.set(id, view);
    }
    return view;
  }

  private checkLeader(id: NodeId, term: number): void {
    const leader = this.leaderOfTerm.get(term);
    if (leader === undefined) {
      this.leaderOfTerm.set(term, id);
      this.elections++;
    } else if (leader !== id) {
      this.report('electionSafety', id, `two leaders in term ${term}: ${leader} and ${id}`);
    }
  }

  /** Log matching, entry by entry, for entries this member did not hold at the last check. */
  private checkLog({ id, view, status, entry: entryAt }: Look, first: number): void {
    const seen = view.seen;
    const last = status.lastIndex;
    let prevTerm = -1;
    for (let i = first; i <= last; i++) {
      const entry = entryAt(i);
      if (entry === undefined || entry.index !== i) {
        this.report('logMatching', id, `log not contiguous: ${entry === undefined ? 'no entry' : `entry ${entry.index}`} at index ${i} (scanned from ${first})`);
        return;
      }
      if (seen[i] !== entry) {
        if (entry.term < prevTerm || entry.term > status.term) {
          this.report('logMatching', id,
            `entry ${i} has term ${entry.term} after term ${prevTerm} (current term ${status.term})`);
          return;
        }
        if (!this.recordEntry(id, entry, prevTerm)) return;
        seen[i] = entry;
      }
      prevTerm = entry.term;
    }
    if (seen.length > last + 1) seen.length = last + 1;
  }

  private recordEntry(id: NodeId, entry: Entry, prevTerm: number): boolean {
    const key = entry.index * TERM_SPACE + entry.term;
    const checksum = entryChecksum(entry);
    const record = this.entries.get(key);
    if (record === undefined) {
      this.entries.set(key, { checksum, prevTerm, owner: id, shared: false });
      this.viewOf(id).owned.push(key);
      return true;
    }
    if (record.owner !== id && record.checksum === checksum) record.shared = true;
    if (record.checksum !== checksum) {
      this.report('logMatching', id, `two different entries at index ${entry.index} in term ${entry.term}`);
      return false;
    }
    if (prevTerm >= 0) {
      if (record.prevTerm < 0) {
        record.prevTerm = prevTerm;
      } else if (record.prevTerm !== prevTerm) {
        this.report('logMatching', id,
          `entry ${entry.index} of term ${entry.term} follows term ${prevTerm} here but term ${record.prevTerm} elsewhere`);
        return false;
      }
    }
    return true;
  }

  /** Newly committed entries (up to the member's commit now) agree with what anyone committed at those indexes. */
  private checkCommitted({ id, view, status, entry: entryAt }: Look, first: number): void {
    const commit = status.commit;
    const from = Math.max(view.commit + 1, first);
    for (let i = from; i <= commit; i++) {
      const entry = entryAt(i);
      if (entry === undefined) break; // committed beyond what this member holds: learned from the leader
      const seenIn = this.committedInTerm[i];
      if (seenIn === undefined || status.term < seenIn) this.committedInTerm[i] = status.term;
      const known = this.committedTerm[i];
      if (known === undefined || known === 0) {
        this.committedTerm[i] = entry.term;
      } else if (known !== entry.term) {
        this.report('stateMachineSafety', id, `committed entry ${i} of term ${entry.term}, but term ${known} was committed there`);
        return;
      }
    }
    if (commit > this.committedMax) this.committedMax = commit;
  }

  /** A leader commits by counting replicas only entries of its current term (§5.4.2). */
  private checkCommitRule({ id, status, entry: entryAt }: Look): void {
    const entry = entryAt(status.commit);
    if (entry !== undefined && entry.term !== status.term) {
      this.report('commitRule', id,
        `leader of term ${status.term} advanced its commit index to ${entry.index}, an entry of term ${entry.term}`);
    }
  }

  /**
   * Leader completeness (Raft §5.4): a leader of term T holds every entry committed in
   * an earlier term. (A stale leader of an old term — e.g. a candidate resumed after a
   * pause — need not hold what later terms committed.)
   */
  private checkLeaderCompleteness({ id, status, entry: entryAt }: Look): void {
    const first = status.firstIndex;
    for (let i = Math.max(first, 1); i <= this.committedMax; i++) {
      const seenIn = this.committedInTerm[i];
      const known = this.committedTerm[i];
      if (seenIn === undefined || seenIn >= status.term || known === undefined || known === 0) continue;
      const entry = entryAt(i);
      if (entry === undefined) {
        this.report('leaderCompleteness', id,
          `leader of term ${status.term} ends at ${status.lastIndex}, but ${i} was committed in term ${seenIn} or earlier`);
        return;
      }
      if (entry.term !== known) {
        this.report('leaderCompleteness', id,
          `leader of term ${status.term} holds term ${entry.term} at index ${i}, committed with term ${known} in term ${seenIn} or earlier`);
        return;
      }
    }
  }
}
