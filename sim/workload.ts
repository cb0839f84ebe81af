// The clients: proposals with unique payloads sent to whoever leads, and occasional
// linearizable reads (ReadIndex). A proposal counts as acknowledged once any member
// applies it (a client would have been told "committed"); from then on it must never
// be lost. In the liveness phase, the first proposal made after healing that gets
// applied proves the cluster makes progress again.

import type { RaftView } from '../core/raft/rawNode.js';
import type { Entry, NodeId } from '../core/raft/types.js';
import type { ReadReady } from './cluster.js';
import { SimActor, type SimParts } from './simActor.js';
import type { SafetyChecker } from './safetyChecker.js';
import type { WorkloadOptions } from './swarm.js';

const PAYLOAD_TAG = 0x50; // 'P'
/** Uncommitted entries on the leader past which no proposal is made (drains in seconds at the slowest drawn replication). */
const UNCOMMITTED_BACKLOG_MAX = 512;
const PAYLOAD_HEADER_BYTES = 5;

/** The proposal number a payload carries, or -1 for entries that are not proposals. */
export function proposalOf(entry: Entry): number {
  const data = entry.data;
  if (data.length < PAYLOAD_HEADER_BYTES || data[0] !== PAYLOAD_TAG) return -1;
  // Little-endian by hand: a DataView per call was ~1% of a run (every member applies every entry).
  return ((data[1] as number) | ((data[2] as number) << 8) | ((data[3] as number) << 16) | ((data[4] as number) << 24)) >>> 0;
}

export interface WorkloadSetup extends SimParts {
  readonly checker: SafetyChecker;
  /** The shape the seed drew (swarm.ts). */
  readonly options: WorkloadOptions;
  /** Called once liveness is shown (the run can end). */
  readonly onLive?: () => void;
}

export class Workload extends SimActor {
  /** Acknowledged proposals: number → the index it was applied at. */
  readonly acknowledged = new Map<number, number>();
  proposed = 0;
  refused = 0;
  /** Proposals not made because the leader's uncommitted tail was full. */
  heldBack = 0;
  readsIssued = 0;
  readsServed = 0;
  /** Proposals numbered from here on were made after healing (liveness phase). */
  private firstAfterHeal = Number.MAX_SAFE_INTEGER;
  livenessMet = false;
  livenessLeader: NodeId = 0;
  /** issue()'s scratch view of the leader. */
  private readonly leaderView: RaftView = { role: 'follower', term: 0, commit: 0, firstIndex: 0, lastIndex: 0 };
  private nextProposal = 1;
  private nextRead = 1;
  private running = false;
  private readonly readsPending = new Map<string, number>();

  private readonly checker: SafetyChecker;
  private readonly options: WorkloadOptions;
  private readonly onLive: () => void;

  constructor(setup: WorkloadSetup) {
    super(setup);
    this.checker = setup.checker;
    this.options = setup.options;
    this.onLive = setup.onLive ?? ((): void => undefined);
  }

  start(): void {
    this.running = true;
    this.scheduleNext();
  }

  /** From now on, a proposal that commits shows liveness. */
  markHeal(): void {
    this.firstAfterHeal = this.nextProposal;
  }

  onApplied(id: NodeId, entry: Entry): void {
    const seq = proposalOf(entry);
    if (seq < 0) return;
    if (!this.acknowledged.has(seq)) this.acknowledged.set(seq, entry.index);
    if (seq >= this.firstAfterHeal && !this.livenessMet && this.cluster.running(id)?.status().role === 'leader') {
      this.livenessMet = true;
      this.livenessLeader = id;
      this.onLive();
    }
  }

  onReadReady({ id, context, index }: ReadReady): void {
    const committedWhenIssued = this.readsPending.get(context);
    if (committedWhenIssued === undefined) return; // a duplicate release, or from another member
    this.readsPending.delete(context);
    this.readsServed++;
    this.checker.onReadServed({ id, index, committedWhenIssued });
  }

  private scheduleNext(): void {
    const delayUs = 1000 * this.random.exponential(this.options.proposalMeanIntervalMs);
    this.scheduler.after(delayUs, {
      kind: 'propose', node: 0, a: this.nextProposal,
      run: () => {
        this.issue();
        if (this.running) this.scheduleNext();
      },
    });
  }

  private issue(): void {
    const leader = this.cluster.leader();
    if (leader === null) return;
    const status = leader.raft.inspect(this.leaderView);
    const member = this.cluster.member(leader.id);
    if (this.random.chance(this.options.readIndexProbability)) {
      const context = `r${this.nextRead++}`;
      this.readsPending.set(context, this.checker.appliedMax);
      this.readsIssued++;
      this.cluster.runOn(member, () => { leader.readIndex(context); }, false);
      return;
    }
    // A client backs off from a leader that cannot keep up (etcd answers "too many
    // requests"): a backlog this client alone fed grew to 6,400 uncommitted entries on a
    // cluster of one entry per message (seed 4532 of 10,000, proposals every 2 ms), and
    // the liveness phase's proposal waited behind all of it.
    if (status.lastIndex - status.commit >= UNCOMMITTED_BACKLOG_MAX) {
      this.heldBack++;
      return;
    }
    const seq = this.nextProposal++;
    const data = this.payload(seq);
    this.proposed++;
    this.cluster.runOn(member, () => {
      if (!leader.propose(data).ok) this.refused++;
    }, true);
  }

  private payload(seq: number): Uint8Array {
    const length = PAYLOAD_HEADER_BYTES + this.random.intBelow(this.options.payloadBytesMax);
    const data = new Uint8Array(length);
    data[0] = PAYLOAD_TAG;
    data[1] = seq & 0xff;
    data[2] = (seq >>> 8) & 0xff;
    data[3] = (seq >>> 16) & 0xff;
    data[4] = (seq >>> 24) & 0xff;
    for (let i = PAYLOAD_HEADER_BYTES; i < length; i++) data[i] = (seq + i) & 0xff;
    return data;
  }
}
