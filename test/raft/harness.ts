// The core's own unit-test harness: RawNodes over MemoryStorage and an in-memory
// network whose delivery the test controls (deliver, drop, duplicate, reorder,
// partition). Persisting is synchronous here; the simulator (sim/) models disks.

import { decodeConfChange } from '../../core/raft/confchange.js';
import { MemoryStorage } from '../../core/raft/memoryStorage.js';
import { RawNode, type PlantedBugs, type RaftConfig, type Ready } from '../../core/raft/rawNode.js';
import type { Entry, Message, NodeId } from '../../core/raft/types.js';
import type { Random } from '../../core/util/random.js';

/** A tiny deterministic generator (mulberry32) so tests need no seedrandom. */
export class TestRandom implements Random {
  private state: number;
  constructor(seed: number) {
    this.state = seed >>> 0;
  }
  intBelow(bound: number): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    const u = ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    return Math.floor(u * bound);
  }
}

export interface TestNode {
  readonly id: NodeId;
  readonly storage: MemoryStorage;
  node: RawNode;
  /** Entries applied, in order (only normal entries with data, and conf changes). */
  readonly applied: Entry[];
  /** ReadIndex results served: context -> index. */
  readonly reads: Map<string, number>;
}

export interface NetworkOptions {
  readonly voters: readonly NodeId[];
  readonly learners?: readonly NodeId[];
  readonly seed?: number;
  readonly preVote?: boolean;
  readonly checkQuorum?: boolean;
  readonly electionTicks?: number;
  readonly maxSizePerMsgBytes?: number;
  readonly maxInflightMsgs?: number;
  /** Lower limits than the core's defaults (core/raft/limits.ts), to reach them in a test. */
  readonly limits?: Pick<RaftConfig, 'maxUncommittedEntriesSizeBytes' | 'maxPendingReadIndexRequests'>;
  readonly bugs?: PlantedBugs;
}

export class Network {
  readonly nodes = new Map<NodeId, TestNode>();
  /** Messages sent and not yet delivered, in send order. */
  inFlight: Message[] = [];
  /** Ordered pairs whose messages are dropped (a partition). Key: "from-to". */
  private readonly cut = new Set<string>();
  private readonly random: TestRandom;
  private readonly options: NetworkOptions;
  /** When set, every message queued for delivery is also recorded here (tests inspect it). */
  trace: Message[] | null = null;

  constructor(options: NetworkOptions) {
    this.options = options;
    this.random = new TestRandom(options.seed ?? 1);
    const conf = { voters: [...options.voters], learners: [...(options.learners ?? [])] };
    for (const id of [...conf.voters, ...conf.learners]) {
      const storage = new MemoryStorage(conf);
      this.nodes.set(id, { id, storage, node: this.newRawNode(id, storage, 0), applied: [], reads: new Map() });
    }
  }

  private newRawNode(id: NodeId, storage: MemoryStorage, applied: number): RawNode {
    const o = this.options;
    const config: RaftConfig = {
      id, storage, random: this.random, applied,
      preVote: o.preVote ?? true,
      checkQuorum: o.checkQuorum ?? true,
      electionTicks: o.electionTicks ?? 10,
      heartbeatTicks: 1,
      ...(o.maxSizePerMsgBytes === undefined ? {} : { maxSizePerMsgBytes: o.maxSizePerMsgBytes }),
      ...(o.maxInflightMsgs === undefined ? {} : { maxInflightMsgs: o.maxInflightMsgs }),
      ...(o.bugs === undefined ? {} : { bugs: o.bugs }),
      ...o.limits,
    };
    return new RawNode(config);
  }

  get(id: NodeId): TestNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  /** Adds a fresh member (empty log) with the given configuration. */
  addNode(id: NodeId, conf: { voters: readonly NodeId[]; learners: readonly NodeId[] }): TestNode {
    const storage = new MemoryStorage(conf);
    const n: TestNode = { id, storage, node: this.newRawNode(id, storage, 0), applied: [], reads: new Map() };
    this.nodes.set(id, n);
    return n;
  }

  /** Restarts a member from its storage (what survives a crash in this harness). */
  restart(id: NodeId): void {
    const n = this.get(id);
    n.node = this.newRawNode(id, n.storage, 0);
    n.applied.length = 0;
    this.inFlight = this.inFlight.filter((m) => m.to !== id);
  }

  /**
   * Replaces a member's durable state with a log whose entry i+1 has term terms[i]
   * (data "t<term>i<index>"), and the given hard state, then restarts it from there.
   * For setting up the paper's figures (Figure 7's logs, Figure 8's).
   */
  load(id: NodeId, state: { readonly terms: readonly number[]; readonly term: number; readonly vote?: NodeId; readonly commit?: number }): void {
    const n = this.get(id);
    const entries: Entry[] = state.terms.map((term, i) => ({
      term, index: i + 1, type: 'normal', data: new TextEncoder().encode(`t${term}i${i + 1}`),
    }));
    n.storage.append(entries);
    n.storage.setHardState({ term: state.term, vote: state.vote ?? 0, commit: state.commit ?? 0 });
    this.restart(id);
  }

  /** Handles every Ready of one node, synchronously persisting, and queues its messages. */
  processReady(id: NodeId): boolean {
    const n = this.get(id);
    let any = false;
    for (let rounds = 0; n.node.hasReady(); rounds++) {
      if (rounds > 1000) throw new Error(`node ${id} never settles`);
      any = true;
      const rd = n.node.ready();
      this.queue(rd.messages);
      this.queue(this.completeReady(n, rd));
    }
    return any;
  }

  /**
   * Persists a Ready into the member's storage, applies it and advances; returns the
   * messages that were held until persisting (the caller decides how to queue them).
   */
  completeReady(n: TestNode, rd: Ready): readonly Message[] {
    if (rd.snapshot !== null) n.storage.applySnapshot(rd.snapshot);
    n.storage.append(rd.entries);
    if (rd.hardState !== null) n.storage.setHardState(rd.hardState);
    const held = n.node.persisted(rd);
    for (const entry of rd.committedEntries) {
      if (entry.type === 'confChange') {
        const change = decodeConfChange(entry.data);
        if (change !== null) n.node.applyConfChange(change);
        n.applied.push(entry);
      } else if (entry.data.byteLength > 0) {
        n.applied.push(entry);
      }
    }
    for (const rs of rd.readStates) n.reads.set(rs.context, rs.index);
    n.node.advance(rd);
    return held;
  }

  private queue(messages: readonly Message[]): void {
    for (const m of messages) {
      if (this.cut.has(`${m.from}-${m.to}`)) continue;
      this.trace?.push(m);
      this.inFlight.push(m);
    }
  }

  /** Delivers the in-flight messages (optionally only those matching), one round. */
  deliver(filter: (m: Message) => boolean = () => true): number {
    const now = this.inFlight.filter(filter);
    this.inFlight = this.inFlight.filter((m) => !filter(m));
    for (const m of now) {
      const target = this.nodes.get(m.to);
      if (target === undefined || this.cut.has(`${m.from}-${m.to}`)) continue;
      target.node.step(m);
    }
    return now.length;
  }

  /** Processes readies and delivers messages until nothing moves. */
  stabilize(maxRounds = 10_000): void {
    for (let round = 0; round < maxRounds; round++) {
      let moved = false;
      for (const id of this.nodes.keys()) moved = this.processReady(id) || moved;
      if (this.inFlight.length > 0) {
        this.deliver();
        moved = true;
      }
      if (!moved) return;
    }
    throw new Error('the network did not stabilize');
  }

  /** Cuts both directions between the groups (a symmetric partition). */
  partition(...groups: readonly (readonly NodeId[])[]): void {
    for (const a of groups) {
      for (const b of groups) {
        if (a === b) continue;
        for (const x of a) for (const y of b) this.cut.add(`${x}-${y}`);
      }
    }
  }

  isolate(id: NodeId): void {
    const others = [...this.nodes.keys()].filter((x) => x !== id);
    this.partition([id], others);
  }

  /** Drops messages from one member to another (one direction). */
  cutLink(from: NodeId, to: NodeId): void {
    this.cut.add(`${from}-${to}`);
  }

  heal(): void {
    this.cut.clear();
  }

  tickAll(ticks = 1): void {
    for (let i = 0; i < ticks; i++) for (const n of this.nodes.values()) n.node.tick();
  }

  /** Ticks `id` until it campaigns, then stabilizes. */
  elect(id: NodeId): void {
    this.get(id).node.campaign();
    this.stabilize();
  }

  leaders(): NodeId[] {
    return [...this.nodes.values()].filter((n) => n.node.raft.role === 'leader').map((n) => n.id);
  }

  propose(id: NodeId, text: string): boolean {
    const result = this.get(id).node.propose(new TextEncoder().encode(text));
    return result.ok;
  }
}

export function text(entry: Entry): string {
  return new TextDecoder().decode(entry.data);
}

export function appliedTexts(n: TestNode): string[] {
  return n.applied.filter((e) => e.type === 'normal').map(text);
}

