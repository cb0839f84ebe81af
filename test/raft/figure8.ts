// The Raft paper's Figure 8 scenario (§5.4.2) as a function, so that the paper test can
// run it with and without the planted commit-rule bug.
import type { PlantedBugs } from '../../core/raft/plantedBugs.js';
import type { Message, NodeId } from '../../core/raft/types.js';
import { Network } from './harness.js';
import { drop, terms } from './paper-util.js';

export interface Figure8 {
  /** S1's commit index right after (c): its old-term entry is on a majority. */
  readonly s1CommitAfterC: number;
  /** Who won the last election of the run. */
  readonly finalLeader: NodeId | undefined;
  /** Committed entries that disagree between members (state machine safety). */
  readonly violations: string[];
  readonly logs: ReadonlyMap<NodeId, number[]>;
  readonly commits: ReadonlyMap<NodeId, number>;
}

/** Processes every Ready, drops what `dropIf` matches, delivers the rest; until `done`. */
function runUntil(net: Network, done: () => boolean, dropIf: (m: Message) => boolean, rounds = 50): boolean {
  for (let r = 0; r < rounds && !done(); r++) {
    for (const id of net.nodes.keys()) net.processReady(id);
    drop(net, dropIf);
    net.deliver();
  }
  return done();
}

function expect(reached: boolean, state: string): void {
  if (!reached) throw new Error(`figure 8: the scenario did not reach ${state}`);
}

function campaignUntilLeader(net: Network, id: NodeId, attempts = 4): boolean {
  for (let i = 0; i < attempts && net.get(id).node.raft.role !== 'leader'; i++) {
    net.get(id).node.campaign();
    net.stabilize();
  }
  return net.get(id).node.raft.role === 'leader';
}

/**
 * Figure 8 with five servers (pre-vote and check-quorum off, as in the paper; one entry
 * per MsgApp so that replication can be stopped between two entries).
 *   (a) S1 leads, and its entry x at index 2 reaches S2 only.
 *   (b) S1 crashes; S5 is elected by S3, S4, S5 and appends its own entry at index 2, of a
 *       later term — and crashes before sending it.
 *   (c) S1 comes back, is elected by S3 and S4, and replicates x to S3 and S4: x is on a
 *       majority (S1–S4). S1's own new entry at index 3 has reached nobody yet.
 * Then one of the paper's two endings:
 *   (d) S1 crashes again; S5 is elected by S2, S3, S4 (its last term is higher) and
 *       overwrites index 2 everywhere. Safe only if x was never committed.
 *   (e) S1 first gets its index-3 entry onto a majority: that commits x too, and S5 can
 *       no longer win.
 */
export function figure8(ending: 'd' | 'e', bugs: PlantedBugs): Figure8 {
  const net = new Network({ voters: [1, 2, 3, 4, 5], preVote: false, checkQuorum: false, maxSizePerMsgBytes: 1, bugs });
  net.elect(1);
  // (a)
  net.partition([1, 2], [3, 4, 5]);
  net.propose(1, 'x');
  net.stabilize();
  // (b)
  net.heal();
  net.isolate(1);
  net.get(5).node.campaign();
  expect(runUntil(net, () => net.get(5).node.raft.role === 'leader', () => false), '(b)');
  net.isolate(5); // crashes before its appends leave
  net.stabilize();
  // (c)
  net.restart(1);
  net.heal();
  net.isolate(5);
  net.cutLink(1, 2);
  net.cutLink(2, 1);
  const s1 = net.get(1).node.raft; // (after the restart: the new RawNode's state machine)
  const hasX = (id: NodeId): boolean => (s1.progressOf(id)?.match ?? 0) >= 2;
  // Appends that would land S1's new (index 3) entry on a follower are lost; probes that
  // the follower rejects still arrive, so S1 backtracks and sends x alone.
  const newEntryOfS1 = (m: Message): boolean => m.from === 1 && m.type === 'MsgApp'
    && m.entries.some((e) => e.term > 1) && net.get(m.to).node.raft.log.matchTerm(m.index, m.logTerm);
  for (let attempt = 0; attempt < 4 && !(s1.role === 'leader' && hasX(3) && hasX(4)); attempt++) {
    if (s1.role !== 'leader') net.get(1).node.campaign();
    runUntil(net, () => s1.role === 'leader' && hasX(3) && hasX(4), newEntryOfS1, 10);
  }
  expect(s1.role === 'leader' && hasX(3) && hasX(4), '(c)');
  const s1CommitAfterC = s1.log.committed;
  if (ending === 'd') {
    net.isolate(1); // crashes: nothing it sends from now on arrives
    net.processReady(1); // ...but it applies what it believes committed
    net.restart(5); // S5 comes back
    net.heal();
    net.isolate(1);
    campaignUntilLeader(net, 5);
  } else {
    net.heal();
    net.isolate(5);
    net.get(1).node.tick(); // a heartbeat round: S2–S4 are sent the index-3 entry
    net.stabilize();
    net.restart(5);
    net.heal();
    net.isolate(1);
    campaignUntilLeader(net, 5);
  }
  net.stabilize();
  const violations: string[] = [];
  const logs = new Map([...net.nodes.values()].map((n) => [n.id, terms(n)]));
  for (const a of net.nodes.values()) {
    for (const b of net.nodes.values()) {
      if (a.id >= b.id) continue;
      const upTo = Math.min(a.node.raft.log.committed, b.node.raft.log.committed);
      for (let i = 1; i <= upTo; i++) {
        const ta = logs.get(a.id)?.[i - 1];
        const tb = logs.get(b.id)?.[i - 1];
        if (ta !== tb) violations.push(`index ${i} committed as term ${ta} on S${a.id} but term ${tb} on S${b.id}`);
      }
    }
  }
  const commits = new Map([...net.nodes.values()].map((n) => [n.id, n.node.raft.log.committed]));
  return { s1CommitAfterC, finalLeader: net.leaders().find((id) => id !== 1), violations, logs, commits };
}

