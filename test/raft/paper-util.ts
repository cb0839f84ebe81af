// Helpers shared by the paper tests (paper-*.test.ts): reading logs as term lists,
// stepping single messages into a member and catching what it answers, and a
// random-schedule runner that checks the five safety properties of Raft §5 (Figure 3).

import type { PlantedBugs } from '../../core/raft/plantedBugs.js';
import type { Ready } from '../../core/raft/rawNode.js';
import { message, type Message, type MessageType, type NodeId } from '../../core/raft/types.js';
import { Network, TestRandom, text, type TestNode } from './harness.js';

/** The terms of a member's log, index 1 first (the paper's way of drawing logs). */
export function terms(n: TestNode): number[] {
  return n.node.logEntries().map((e) => e.term);
}

/** Like terms(), but position i - 1 is index i even after compaction (compacted: undefined). */
function termsByIndex(n: TestNode): (number | undefined)[] {
  const first = n.node.status().firstIndex;
  return [...Array.from({ length: first - 1 }, (): number | undefined => undefined), ...terms(n)];
}

/** Steps one message into `to` (filling in zero fields), processes its Ready, and returns what it sent back. */
export function stepAndCollect(net: Network, m: Pick<Message, 'type' | 'from' | 'to'> & Partial<Message>): Message[] {
  const before = net.inFlight.length;
  net.get(m.to).node.step(message(m));
  net.processReady(m.to);
  const sent = net.inFlight.slice(before);
  net.inFlight = net.inFlight.slice(0, before);
  return sent;
}

/** Removes (drops) in-flight messages matching `pred`; returns how many. */
export function drop(net: Network, pred: (m: Message) => boolean): number {
  const before = net.inFlight.length;
  net.inFlight = net.inFlight.filter((m) => !pred(m));
  return before - net.inFlight.length;
}

/** One round: every member processes its Ready, then in-flight messages not matching `dropIf` are delivered. */
export function round(net: Network, dropIf: (m: Message) => boolean = () => false): void {
  for (const id of net.nodes.keys()) net.processReady(id);
  drop(net, dropIf);
  net.deliver();
  for (const id of net.nodes.keys()) net.processReady(id);
}

export function isType(type: MessageType): (m: Message) => boolean {
  return (m) => m.type === type;
}

// ------------------------------------------------------------------ safety runner

/** What a random run observed: every violation of the five properties, as text. */
export interface SafetyReport {
  readonly electionSafety: string[];
  readonly leaderAppendOnly: string[];
  readonly logMatching: string[];
  readonly leaderCompleteness: string[];
  readonly stateMachineSafety: string[];
  readonly leadersSeen: number;
  readonly commitsSeen: number;
  readonly snapshotsSent: number;
  /** Membership changes applied by the member that applied most. */
  readonly confChangesApplied: number;
}

interface Observed {
  readonly leaderOfTerm: Map<number, NodeId>;
  /** index -> { term of the entry, lowest current term of a member that saw it committed } */
  readonly committed: Map<number, { term: number; seenInTerm: number }>;
  /** member -> (term it leads, its log as "term" list) at the previous step */
  readonly leaderLogs: Map<NodeId, { term: number; log: (number | undefined)[] }>;
  /** index -> the applied entry's "term/data" */
  readonly applied: Map<number, string>;
}

function check(net: Network, seen: Observed, report: SafetyReport, step: number): void {
  const nodes = [...net.nodes.values()];
  for (const n of nodes) {
    const r = n.node.raft;
    const log = termsByIndex(n);
    // Election safety: at most one leader per term.
    if (r.role === 'leader') {
      const other = seen.leaderOfTerm.get(r.term);
      if (other === undefined) seen.leaderOfTerm.set(r.term, n.id);
      else if (other !== n.id) report.electionSafety.push(`step ${step}: ${other} and ${n.id} both lead term ${r.term}`);
      // Leader append-only: while it leads a term, its previous log is a prefix of its log.
      const prev = seen.leaderLogs.get(n.id);
      if (prev !== undefined && prev.term === r.term && !isPrefix(prev.log, log)) {
        report.leaderAppendOnly.push(`step ${step}: leader ${n.id} went from [${show(prev.log)}] to [${show(log)}]`);
      }
      seen.leaderLogs.set(n.id, { term: r.term, log });
    } else {
      seen.leaderLogs.delete(n.id);
    }
    // Record what this member regards as committed.
    for (let i = 1; i <= r.log.committed; i++) {
      const t = log[i - 1];
      if (t === undefined) continue;
      const c = seen.committed.get(i);
      if (c === undefined) seen.committed.set(i, { term: t, seenInTerm: r.term });
      else if (r.term < c.seenInTerm) c.seenInTerm = r.term;
    }
    // State machine safety: no two members apply different entries at one index.
    for (const e of n.applied) {
      const key = `${e.term}/${text(e)}`;
      const other = seen.applied.get(e.index);
      if (other === undefined) seen.applied.set(e.index, key);
      else if (other !== key) report.stateMachineSafety.push(`step ${step}: ${n.id} applied ${key} at ${e.index}, another applied ${other}`);
    }
  }
  // Leader completeness: a leader of a term ≥ the one in which an entry was seen committed holds it.
  for (const n of nodes) {
    const r = n.node.raft;
    if (r.role !== 'leader') continue;
    const log = termsByIndex(n);
    const first = n.node.status().firstIndex;
    for (const [index, c] of seen.committed) {
      if (index < first) continue; // compacted: in the leader's snapshot
      if (r.term >= c.seenInTerm && log[index - 1] !== c.term) {
        report.leaderCompleteness.push(`step ${step}: leader ${n.id} (term ${r.term}) lacks committed ${c.term}/${index}`);
      }
    }
  }
  // Log matching: if two logs hold an entry with the same index and term, they agree up to it.
  for (let a = 0; a < nodes.length; a++) {
    for (let b = a + 1; b < nodes.length; b++) {
      const x = nodes[a];
      const y = nodes[b];
      if (x === undefined || y === undefined) continue;
      const lx = termsByIndex(x);
      const ly = termsByIndex(y);
      for (let i = Math.min(lx.length, ly.length); i >= 1; i--) {
        if (lx[i - 1] === undefined || lx[i - 1] !== ly[i - 1]) continue;
        if (!isPrefix(lx.slice(0, i), ly)) {
          report.logMatching.push(`step ${step}: ${x.id} [${show(lx)}] and ${y.id} [${show(ly)}] match at ${i} but differ before`);
        }
        break;
      }
    }
  }
}

/** a is a prefix of b, where both hold the entry (compacted positions are skipped). */
/** The member snapshots its applied state and drops the log up to it (§7). */
function compact(n: TestNode): void {
  const applied = n.node.raft.log.applied;
  if (applied < n.node.status().firstIndex + 2 || applied > n.storage.lastIndex()) return;
  n.storage.createSnapshot(applied, n.node.status().confState, new TextEncoder().encode(`@${applied}`));
  n.storage.compact(applied);
}

function isPrefix(a: readonly (number | undefined)[], b: readonly (number | undefined)[]): boolean {
  return a.length <= b.length && a.every((t, i) => t === undefined || b[i] === undefined || b[i] === t);
}

function show(log: readonly (number | undefined)[]): string {
  return log.map((t) => t ?? '_').join(' ');
}

/**
 * Runs `steps` random actions on a cluster of `size` voters: ticks, Ready handling,
 * delivery of single messages out of order, drops, duplicates, proposals, partitions,
 * heals and restarts. Checks the five properties after every step.
 */
export interface RandomRunOptions {
  readonly seed: number;
  readonly size: number;
  readonly steps: number;
  readonly bugs?: PlantedBugs;
  /** Members now and then snapshot their applied state and compact their logs. */
  readonly compact?: boolean;
  /** Flow control: small windows and one entry per append exercise probe/replicate. */
  readonly maxInflightMsgs?: number;
  readonly maxSizePerMsgBytes?: number;
  /** Two spare members join, and random single-server membership changes are proposed. */
  readonly confChanges?: boolean;
  /**
   * Persisting takes time: a Ready is taken (its messages sent) and only later made
   * durable, persisted() and advanced, while the member keeps ticking and stepping.
   */
  readonly asyncPersist?: boolean;
}

/** Takes a Ready and sends what may go at once; persisting comes later (finishReady). */
function beginReady(net: Network, pending: Map<NodeId, Ready>, id: NodeId): void {
  const n = net.get(id);
  if (pending.has(id) || !n.node.hasReady()) return;
  const rd = n.node.ready();
  net.inFlight.push(...rd.messages);
  pending.set(id, rd);
}

/** Makes the pending Ready durable, sends what it held back, applies, advances. */
function finishReady(net: Network, pending: Map<NodeId, Ready>, id: NodeId): void {
  const rd = pending.get(id);
  if (rd === undefined) return;
  pending.delete(id);
  net.inFlight.push(...net.completeReady(net.get(id), rd));
}

const CHANGE_TYPES = ['addVoter', 'removeVoter', 'addLearner'] as const;

export function randomRun(options: RandomRunOptions): SafetyReport {
  const voters = Array.from({ length: options.size }, (_, i) => i + 1);
  const net = new Network({
    voters, seed: options.seed, electionTicks: 5,
    ...(options.bugs === undefined ? {} : { bugs: options.bugs }),
    ...(options.maxInflightMsgs === undefined ? {} : { maxInflightMsgs: options.maxInflightMsgs }),
    ...(options.maxSizePerMsgBytes === undefined ? {} : { maxSizePerMsgBytes: options.maxSizePerMsgBytes }),
  });
  const rnd = new TestRandom(options.seed * 7919 + 1);
  const pick = <T>(xs: readonly T[]): T | undefined => xs[rnd.intBelow(xs.length)];
  const members = [...voters];
  const pending = new Map<NodeId, Ready>();
  if (options.confChanges === true) {
    for (const spare of [options.size + 1, options.size + 2]) {
      net.addNode(spare, { voters, learners: [] });
      members.push(spare);
    }
  }
  const report: SafetyReport = {
    electionSafety: [], leaderAppendOnly: [], logMatching: [], leaderCompleteness: [], stateMachineSafety: [],
    leadersSeen: 0, commitsSeen: 0, snapshotsSent: 0, confChangesApplied: 0,
  };
  let snapshotsSent = 0;
  net.trace = [];
  const seen: Observed = { leaderOfTerm: new Map(), committed: new Map(), leaderLogs: new Map(), applied: new Map() };
  let proposals = 0;
  for (let step = 0; step < options.steps; step++) {
    const roll = rnd.intBelow(1000);
    const id = pick(members) ?? 1;
    // Reordering is bounded: a message is picked among the four oldest in flight, so that
    // a round trip takes a few ticks and leaders live long enough to commit.
    const early = (): Message | undefined => pick(net.inFlight.slice(0, 4));
    if (roll < 150) net.get(id).node.tick();
    else if (roll < 450) {
      if (options.asyncPersist !== true) net.processReady(id);
      else if (rnd.intBelow(2) === 0) beginReady(net, pending, id);
      else finishReady(net, pending, id);
      if (options.compact === true && rnd.intBelow(20) === 0 && !pending.has(id)) compact(net.get(id));
    }
    else if (roll < 900) {
      const m = early();
      if (m !== undefined) net.deliver((x) => x === m);
    } else if (roll < 920) {
      const m = early();
      if (m !== undefined) drop(net, (x) => x === m);
    } else if (roll < 935) {
      const m = early();
      if (m !== undefined) net.inFlight.push(m);
    } else if (roll < 975) {
      if (options.confChanges === true && rnd.intBelow(8) === 0) {
        const type = pick(CHANGE_TYPES) ?? 'addVoter';
        net.get(id).node.proposeConfChange({ type, nodeId: pick(members) ?? 1 });
      } else {
        net.propose(id, `v${++proposals}`);
      }
    }
    else if (roll < 980) net.isolate(id);
    else if (roll < 995) net.heal();
    else {
      pending.delete(id); // what was not yet durable is lost
      net.restart(id);
    }
    check(net, seen, report, step);
    snapshotsSent += net.trace.filter((m) => m.type === 'MsgSnap').length;
    net.trace.length = 0;
  }
  const confChangesApplied = Math.max(...[...net.nodes.values()].map((n) => n.applied.filter((e) => e.type === 'confChange').length));
  return { ...report, leadersSeen: seen.leaderOfTerm.size, commitsSeen: seen.committed.size, snapshotsSent, confChangesApplied };
}
