// Raft's safety properties (paper §5, Figure 3), checked over a harness Network
// after every step of a random schedule. Each check returns a description of the
// first violation, or null.

import type { Entry, NodeId } from '../../core/raft/types.js';
import type { Network } from './harness.js';

function sameEntry(a: Entry, b: Entry): boolean {
  if (a.term !== b.term || a.index !== b.index || a.type !== b.type) return false;
  if (a.data === b.data) return true;
  if (a.data.byteLength !== b.data.byteLength) return false;
  return a.data.every((byte, i) => b.data[i] === byte);
}

export class SafetyChecker {
  /** term -> the leader seen in it (Election Safety). */
  private readonly leaderOfTerm = new Map<number, NodeId>();
  /** node -> (term, log) the last time it was seen leading (Leader Append-Only). */
  private readonly leaderLogs = new Map<NodeId, { term: number; log: readonly Entry[] }>();
  /** index -> the entry known committed there (Leader Completeness). */
  private readonly committed = new Map<number, Entry>();
  /** index -> the entry applied there by anyone (State Machine Safety). */
  private readonly appliedAt = new Map<number, Entry>();
  private readonly appliedSeen = new Map<NodeId, number>();

  check(net: Network): string | null {
    const logs = new Map<NodeId, readonly Entry[]>();
    for (const [id, n] of net.nodes) logs.set(id, n.node.logEntries());
    return this.electionSafety(net)
      ?? this.leaderAppendOnly(net, logs)
      ?? this.logMatching(logs)
      ?? this.recordCommitted(net, logs)
      ?? this.leaderCompleteness(net, logs)
      ?? this.stateMachineSafety(net);
  }

  private electionSafety(net: Network): string | null {
    for (const [id, n] of net.nodes) {
      if (n.node.raft.role !== 'leader') continue;
      const term = n.node.raft.term;
      const known = this.leaderOfTerm.get(term);
      if (known !== undefined && known !== id) return `election safety: ${known} and ${id} both led term ${term}`;
      this.leaderOfTerm.set(term, id);
    }
    return null;
  }

  private leaderAppendOnly(net: Network, logs: Map<NodeId, readonly Entry[]>): string | null {
    for (const [id, n] of net.nodes) {
      const log = logs.get(id) ?? [];
      if (n.node.raft.role !== 'leader') {
        this.leaderLogs.delete(id);
        continue;
      }
      const before = this.leaderLogs.get(id);
      if (before !== undefined && before.term === n.node.raft.term) {
        for (const old of before.log) {
          const now = log[old.index - 1];
          if (now === undefined || !sameEntry(now, old)) {
            return `leader append-only: leader ${id} of term ${before.term} lost or changed entry ${old.index}`;
          }
        }
      }
      this.leaderLogs.set(id, { term: n.node.raft.term, log });
    }
    return null;
  }

  /** If two logs hold an entry with the same index and term, they agree on everything up to it. */
  private logMatching(logs: Map<NodeId, readonly Entry[]>): string | null {
    const all = [...logs.entries()];
    for (let a = 0; a < all.length; a++) {
      for (let b = a + 1; b < all.length; b++) {
        const [idA, logA] = all[a] ?? [0, []];
        const [idB, logB] = all[b] ?? [0, []];
        let diverged = 0;
        const common = Math.min(logA.length, logB.length);
        for (let i = 0; i < common; i++) {
          const x = logA[i];
          const y = logB[i];
          if (x === undefined || y === undefined) break;
          if (x.term !== y.term) {
            if (diverged === 0) diverged = x.index;
            continue;
          }
          if (!sameEntry(x, y)) return `log matching: ${idA} and ${idB} hold different entries ${x.index}/${x.term}`;
          if (diverged !== 0) {
            return `log matching: ${idA} and ${idB} agree at ${x.index}/${x.term} but differ at ${diverged}`;
          }
        }
      }
    }
    return null;
  }

  private recordCommitted(net: Network, logs: Map<NodeId, readonly Entry[]>): string | null {
    for (const [id, n] of net.nodes) {
      const log = logs.get(id) ?? [];
      const commit = n.node.raft.log.committed;
      for (let i = commit; i >= 1; i--) {
        const entry = log[i - 1];
        if (entry === undefined) break;
        const known = this.committed.get(i);
        if (known === undefined) {
          this.committed.set(i, entry);
          continue;
        }
        if (!sameEntry(known, entry)) return `committed entry ${i} differs: ${known.term} vs ${entry.term} at ${id}`;
        break; // everything below was recorded when this index was
      }
    }
    return null;
  }

  /** A leader holds every entry committed in an earlier term (§5.4). */
  private leaderCompleteness(net: Network, logs: Map<NodeId, readonly Entry[]>): string | null {
    for (const [id, n] of net.nodes) {
      if (n.node.raft.role !== 'leader') continue;
      const log = logs.get(id) ?? [];
      for (const [index, entry] of this.committed) {
        if (entry.term >= n.node.raft.term) continue;
        const mine = log[index - 1];
        if (mine === undefined || !sameEntry(mine, entry)) {
          return `leader completeness: leader ${id} (term ${n.node.raft.term}) lacks committed entry ${index}/${entry.term}`;
        }
      }
    }
    return null;
  }

  private stateMachineSafety(net: Network): string | null {
    for (const [id, n] of net.nodes) {
      const seen = this.appliedSeen.get(id) ?? 0;
      if (n.applied.length < seen) this.appliedSeen.set(id, 0); // restarted: replays from the start
      for (let i = this.appliedSeen.get(id) ?? 0; i < n.applied.length; i++) {
        const entry = n.applied[i];
        if (entry === undefined) continue;
        const known = this.appliedAt.get(entry.index);
        if (known === undefined) this.appliedAt.set(entry.index, entry);
        else if (!sameEntry(known, entry)) {
          return `state machine safety: ${id} applied ${entry.index}/${entry.term}, another member applied ${known.index}/${known.term}`;
        }
      }
      this.appliedSeen.set(id, n.applied.length);
    }
    return null;
  }
}
