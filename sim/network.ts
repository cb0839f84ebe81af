// The simulated network between members: one link per ordered (from, to) pair.
//
// A message sent on a link is dropped if the link is partitioned (checked at send
// time; what is already in flight still arrives, as on a real network), dropped with
// the loss probability, and otherwise delivered after a latency drawn from the link's
// distribution (a floor plus an exponential tail). Independent draws reorder messages
// unless the link is FIFO. With the duplication probability a second copy arrives
// later. A clogged link holds its messages until the clog ends, then lets them go in a
// burst (FoundationDB's swizzle-clogging). Whether the target is up, paused or down is
// the cluster's business: the network hands every arriving message to `deliver`.

import type { Message, MessageType, NodeId } from '../core/raft/types.js';
import type { Transport } from '../core/node/ports.js';
import { invariant } from '../core/util/invariant.js';
import type { SimRandom } from './prng.js';
import type { EventSpec, Scheduler } from './scheduler.js';

export const MESSAGE_TYPES: readonly MessageType[] = [
  'MsgApp', 'MsgAppResp', 'MsgVote', 'MsgVoteResp', 'MsgPreVote', 'MsgPreVoteResp', 'MsgSnap',
  'MsgHeartbeat', 'MsgHeartbeatResp', 'MsgProp', 'MsgReadIndex', 'MsgReadIndexResp',
  'MsgTransferLeader', 'MsgTimeoutNow',
];
const TYPE_CODE: ReadonlyMap<MessageType, number> = new Map(MESSAGE_TYPES.map((type, code) => [type, code]));

/** The code a peer call's delivery is hashed with (beyond every message type's). */
const PEER_CALL_CODE = 254;

export function messageTypeCode(type: MessageType): number {
  return TYPE_CODE.get(type) ?? 255;
}

export interface NetworkFaults {
  /** One-way latency: at least the minimum, plus an exponential tail with this mean. */
  readonly latencyMsMin: number;
  readonly latencyMsMean: number;
  readonly lossProbability: number;
  readonly duplicateProbability: number;
  /** When false, every link is FIFO (like one TCP stream per pair). */
  readonly reorder: boolean;
}

export const CALM_NETWORK: NetworkFaults = {
  latencyMsMin: 0.5, latencyMsMean: 1, lossProbability: 0, duplicateProbability: 0, reorder: false,
};

export interface NetworkOptions {
  readonly scheduler: Scheduler;
  readonly random: SimRandom;
  /** Every message that arrives (not dropped) goes here. */
  readonly deliver: (message: Message) => void;
  readonly nodeIds: readonly NodeId[];
  readonly faults: NetworkFaults;
  /** Per-link latency factors are drawn in [1/spread, spread]; 1 makes all links alike. */
  readonly linkLatencySpread: number;
}

export interface NetworkStats {
  sent: number;
  delivered: number;
  dropped: number;
  duplicated: number;
}

/** A clog of one direction of one link: messages from → to wait until `untilUs`, then arrive in a burst. */
export interface Clog {
  readonly from: NodeId;
  readonly to: NodeId;
  /** Virtual time the clog ends, µs. */
  readonly untilUs: number;
}

export class SimNetwork {
  readonly stats: NetworkStats = { sent: 0, delivered: 0, dropped: 0, duplicated: 0 };
  private faults: NetworkFaults;
  private readonly width: number;
  private readonly blocked: Uint8Array;
  private readonly latencyFactor: Float64Array;
  private readonly clogUntilUs: Float64Array;
  /** For FIFO links: the time the last message on the link arrives. */
  private readonly lastArrivalUs: Float64Array;
  /** Per member: when it last lost power, µs (-1: never). What it sent in that instant never arrives. */
  private readonly powerLostAtUs: Float64Array;

  private readonly scheduler: Scheduler;
  private readonly random: SimRandom;
  private readonly deliver: (message: Message) => void;

  constructor(options: NetworkOptions) {
    this.scheduler = options.scheduler;
    this.random = options.random;
    this.deliver = options.deliver;
    const random = options.random;
    this.faults = options.faults;
    this.width = Math.max(...options.nodeIds) + 1;
    const links = this.width * this.width;
    this.blocked = new Uint8Array(links);
    this.latencyFactor = new Float64Array(links).fill(1);
    this.clogUntilUs = new Float64Array(links);
    this.lastArrivalUs = new Float64Array(links);
    this.powerLostAtUs = new Float64Array(this.width).fill(-1);
    invariant(options.linkLatencySpread >= 1, 'linkLatencySpread must be ≥ 1');
    if (options.linkLatencySpread > 1) {
      const logSpread = Math.log(options.linkLatencySpread);
      for (const from of options.nodeIds) {
        for (const to of options.nodeIds) {
          this.latencyFactor[from * this.width + to] = Math.exp((2 * random.float() - 1) * logSpread);
        }
      }
    }
  }

  /** The port a member sends through. */
  transportFor(id: NodeId): Transport {
    return {
      send: (message: Message): void => {
        // A follower forwards a client's MsgProp / MsgReadIndex to its leader with the
        // original sender kept (as etcd's raft does); the link is still this member's.
        invariant(message.from === id || message.type === 'MsgProp' || message.type === 'MsgReadIndex',
          () => `node ${id} sent a ${message.type} from ${message.from}`);
        this.sendFrom(id, message);
      },
    };
  }

  setFaults(faults: NetworkFaults): void {
    this.faults = faults;
  }

  send(message: Message): void {
    this.sendFrom(message.from, message);
  }

  /** Sends over the link from `sender` (the message's `from` unless it is forwarded). */
  private sendFrom(sender: NodeId, message: Message): void {
    invariant(message.to > 0 && message.to < this.width && message.to !== sender,
      () => `message to unknown or self member ${message.to} from ${sender}`);
    this.stats.sent++;
    const link = sender * this.width + message.to;
    if (this.blocked[link] === 1 || this.random.chance(this.faults.lossProbability)) {
      this.stats.dropped++;
      return;
    }
    this.schedule(message, link);
    // A client's proposal is never duplicated: between etcd members it travels over a
    // TCP stream, and a copy would be appended and applied twice (the KV workload saw
    // a put applied at two revisions). The draw is made either way (same trace).
    if (this.random.chance(this.faults.duplicateProbability) && message.type !== 'MsgProp') {
      this.stats.duplicated++;
      this.schedule(message, link);
    }
  }

  /** Blocks the links from every member of `from` to every member of `to` (one direction). */
  block(from: readonly NodeId[], to: readonly NodeId[]): void {
    for (const a of from) {
      for (const b of to) {
        if (a !== b) this.blocked[a * this.width + b] = 1;
      }
    }
  }

  /** A symmetric partition between two groups. */
  partition(sideA: readonly NodeId[], sideB: readonly NodeId[]): void {
    this.block(sideA, sideB);
    this.block(sideB, sideA);
  }

  /** Ends a partition of the link between `a` and `b`, both directions (the viewer's heal click). */
  healLink(a: NodeId, b: NodeId): void {
    invariant(a > 0 && a < this.width && b > 0 && b < this.width, () => `no link ${a}-${b}`);
    this.blocked[a * this.width + b] = 0;
    this.blocked[b * this.width + a] = 0;
  }

  /** When the clog on the link from → to ends, µs (0 or past: not clogged). */
  clogEndsUs(from: NodeId, to: NodeId): number {
    return this.clogUntilUs[from * this.width + to] ?? 0;
  }

  isBlocked(from: NodeId, to: NodeId): boolean {
    return this.blocked[from * this.width + to] === 1;
  }

  /** Holds messages on the link from → to until `untilUs`. */
  clog({ from, to, untilUs }: Clog): void {
    const link = from * this.width + to;
    this.clogUntilUs[link] = Math.max(this.clogUntilUs[link] ?? 0, untilUs);
  }

  /**
   * Member `id` lost power now: the messages it sent in this same instant were still in
   * the host (its send buffers, the NIC) and never arrive. Earlier ones are on the wire.
   */
  powerLoss(id: NodeId): void {
    invariant(id > 0 && id < this.width, () => `no member ${id}`);
    this.powerLostAtUs[id] = this.scheduler.nowUs;
  }

  /** Ends every partition and clog. */
  heal(): void {
    this.blocked.fill(0);
    this.clogUntilUs.fill(0);
  }

  private schedule(message: Message, link: number): void {
    const faults = this.faults;
    const factor = this.latencyFactor[link] ?? 1;
    const latencyUs = 1000 * factor * (faults.latencyMsMin + this.random.exponential(faults.latencyMsMean));
    let arrivalUs = Math.floor(this.scheduler.nowUs + latencyUs);
    arrivalUs = Math.max(arrivalUs, this.clogUntilUs[link] ?? 0);
    if (!faults.reorder) {
      arrivalUs = Math.max(arrivalUs, this.lastArrivalUs[link] ?? 0);
      this.lastArrivalUs[link] = arrivalUs;
    }
    this.scheduler.at(arrivalUs, new Delivery(this, message, Math.floor(link / this.width), this.scheduler.nowUs));
  }

  /**
   * A call between members outside Raft (a keep-alive a follower forwards to its leader),
   * on the same link as their messages: after a latency, held by a clog, and never
   * arriving when the link is blocked or loses it (a TCP call that hangs: the caller's
   * deadline ends it). `arrive` runs at the far end.
   */
  call(from: NodeId, to: NodeId, arrive: () => void): void {
    invariant(from > 0 && from < this.width && to > 0 && to < this.width, () => `no link ${from}-${to}`);
    const link = from * this.width + to;
    if (this.blocked[link] === 1 || this.random.chance(this.faults.lossProbability)) return;
    const faults = this.faults;
    const latencyUs = 1000 * (this.latencyFactor[link] ?? 1) * (faults.latencyMsMin + this.random.exponential(faults.latencyMsMean));
    const arrivalUs = Math.max(Math.floor(this.scheduler.nowUs + latencyUs), this.clogUntilUs[link] ?? 0);
    this.scheduler.at(arrivalUs, { kind: 'deliver', node: to, a: PEER_CALL_CODE, run: arrive });
  }

  /**
   * Called by a Delivery when its time has come: dropped if `sender`, whose link it left
   * on (its `from`, unless forwarded) at `sentUs`, lost power in that same instant.
   */
  arrive(message: Message, sender: NodeId, sentUs: number): void {
    if (this.powerLostAtUs[sender] === sentUs) {
      this.stats.dropped++;
      return;
    }
    this.stats.delivered++;
    this.deliver(message);
  }
}

/**
 * One message in flight, as the scheduler's event: a class rather than an object
 * literal with a closure, so that each message costs one allocation (there are
 * millions).
 */
class Delivery implements EventSpec {
  readonly kind = 'deliver';
  readonly node: number;
  readonly a: number;
  readonly b: number;

  constructor(
    private readonly network: SimNetwork, readonly message: Message,
    private readonly sender: NodeId, private readonly sentUs: number,
  ) {
    this.node = message.to;
    this.a = messageTypeCode(message.type) | (message.from << 8);
    this.b = message.index + message.term * 65536;
  }

  /** Read only when a trace sink is attached: on the prototype, not a closure per message. */
  info(): unknown {
    return describeMessage(this.message);
  }

  run(): void {
    this.network.arrive(this.message, this.sender, this.sentUs);
  }
}

/** The message a pending event will deliver, or null when the event is not a delivery (the viewer draws these). */
export function messageOf(spec: EventSpec): Message | null {
  return spec instanceof Delivery ? spec.message : null;
}

/** A compact, JSON-friendly view of a message for traces. */
export function describeMessage(message: Message): Record<string, unknown> {
  const view: Record<string, unknown> = {
    type: message.type, from: message.from, to: message.to, term: message.term,
  };
  if (message.index !== 0 || message.logTerm !== 0) {
    view['index'] = message.index;
    view['logTerm'] = message.logTerm;
  }
  if (message.entries.length > 0) view['entries'] = message.entries.length;
  if (message.commit !== 0) view['commit'] = message.commit;
  if (message.reject) {
    view['reject'] = true;
    view['rejectHint'] = message.rejectHint;
  }
  if (message.context !== '') view['context'] = message.context;
  if (message.snapshot !== null) view['snapshotIndex'] = message.snapshot.metadata.index;
  return view;
}
