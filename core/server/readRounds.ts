// Linearizable reads in ReadIndex rounds. The reads that arrive between two flushes
// share one round: one ReadIndex serves them all once this member has applied up to its
// index. The host decides when to flush: the gRPC host after each event-loop turn that
// brought reads (the requests one socket read carried share a round, as etcd's
// linearizableReadLoop folds waiting reads into one ReadIndex); the simulator at the end
// of each event that brought reads (the same path, judged under faults); unit tests that
// leave the port out at every read.
// Rounds do not wait for each other: a read never waits behind a round asked before it
// arrived, so batching adds no latency.
//
// Why it stays linearizable: a read only joins a round asked for *after* it arrived, so
// the round's index is at least the commit index at the read's arrival. Joining a round
// already out is the planted bug reuseReadIndex (etcd #20418): that round's index may
// predate the read.

import { etcdError, type EtcdError } from '../errors.js';
import { invariant } from '../util/invariant.js';

/** One linearizable read: served once its round's index is applied here, or failed. */
export interface WaitingRead {
  readonly serve: () => void;
  readonly fail: (error: EtcdError) => void;
  /** The tick by which it must be answered (`request timed out` after). */
  readonly deadlineTick: number;
}

export interface ReadRoundsPorts {
  /** Asks Raft for a ReadIndex with this context; it may answer before returning. */
  readonly ask: (context: string) => void;
  /** A round timed out without an answer: the host forgets its submission. */
  readonly dropped: (context: string) => void;
  /** A fresh context, unique among every round this member ever asks for. */
  readonly newContext: () => string;
}

export interface ReadRoundsOptions {
  /** The most reads waiting in all (etcd has no count; Tern: limits.pendingReads). */
  readonly maxReads: number;
  /** The planted bug reuseReadIndex: a read joins the last round asked, if it is still out. */
  readonly joinRoundOut?: boolean;
}

export class ReadRounds {
  /** Reads since the last flush: the next round's, in arrival order. */
  private next: WaitingRead[] = [];
  /** Rounds out, by context, each with its reads (in asking order: a Map keeps it). */
  private readonly rounds = new Map<string, WaitingRead[]>();
  private lastAsked = '';
  private waitingCount = 0;

  constructor(private readonly options: ReadRoundsOptions, private readonly ports: ReadRoundsPorts) {
    invariant(Number.isInteger(options.maxReads) && options.maxReads > 0, 'maxReads must be a positive integer');
  }

  /** Reads waiting, in rounds out and for the next one. Invariant: ≤ maxReads. */
  get waiting(): number {
    return this.waitingCount;
  }

  /** Reads since the last flush (the next round's). */
  get unasked(): number {
    return this.next.length;
  }

  /** Rounds out: each one ReadIndex the host submitted, with at least one read waiting on it. */
  get roundsOut(): number {
    return this.rounds.size;
  }

  /** True when `context` is a round out (the host's submission of it is alive). */
  has(context: string): boolean {
    return this.rounds.has(context);
  }

  /** A new linearizable read, asked for at the next flush; false (nothing kept) at the limit. */
  read(read: WaitingRead): boolean {
    if (this.waitingCount >= this.options.maxReads) return false;
    this.waitingCount++;
    const last = this.options.joinRoundOut === true ? this.rounds.get(this.lastAsked) : undefined;
    if (last !== undefined) {
      last.push(read);
      return true;
    }
    this.next.push(read);
    return true;
  }

  /** Asks one round for every read since the last flush (nothing when there is none). */
  flush(): void {
    if (this.next.length === 0) return;
    const context = this.ports.newContext();
    invariant(!this.rounds.has(context), () => `read round context ${context} used twice`);
    // Out before asking: a single member answers within ask().
    this.rounds.set(context, this.next);
    this.next = [];
    this.lastAsked = context;
    this.ports.ask(context);
  }

  /** The round `context`'s index is applied here: its reads are served. Unknown rounds are ignored. */
  served(context: string): void {
    const reads = this.take(context);
    for (const read of reads) read.serve();
  }

  /** The round `context` failed (refused, or no leader in time): its reads get `error`. */
  failed(context: string, error: EtcdError): void {
    const reads = this.take(context);
    for (const read of reads) read.fail(error);
  }

  /**
   * Once a tick (the host's tick count, as in the reads' deadlines): a round whose first
   * read is past its deadline times out whole. Its reads joined it within one host turn,
   * so they share that deadline (with reuseReadIndex, later joiners go with it).
   */
  expire(nowTick: number): void {
    const timeout = etcdError('timeout');
    for (const [context, reads] of this.rounds) {
      const first = reads[0];
      if (first !== undefined && first.deadlineTick > nowTick) continue;
      this.take(context);
      this.ports.dropped(context);
      for (const read of reads) read.fail(timeout);
    }
    invariant(this.waitingCount === this.next.length + this.countInRounds(), 'read rounds lost count of their reads');
    invariant(this.waitingCount <= this.options.maxReads, 'more linearizable reads waiting than the limit');
  }

  private take(context: string): readonly WaitingRead[] {
    const reads = this.rounds.get(context);
    if (reads === undefined) return [];
    this.rounds.delete(context);
    this.waitingCount -= reads.length;
    return reads;
  }

  private countInRounds(): number {
    let count = 0;
    for (const reads of this.rounds.values()) count += reads.length;
    return count;
  }
}
