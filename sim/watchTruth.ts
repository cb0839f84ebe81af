// The ground truth the watch streams are judged against: every change the cluster
// committed, in revision order, as the members' MVCC stores applied it.
//
// Every applied write goes through a member's MVCC store, which hands its events to the
// member's watch hub and to the server's observer, where the simulator listens. A revision
// is recorded from the first member that applies it; every later application (another
// member, or the same member replaying after a restart) must produce the same events,
// else the members' states diverged (reported). A revision only ever installed through
// a snapshot was applied by the snapshot's maker first, so nothing committed is missed,
// and the log is not cut by compaction (it never forgets).
//
// Revisions are Tern's, which the checker model numbers the same way.

import { toKey } from '../core/mvcc/keys.js';
import type { StoredKv } from '../core/mvcc/backend.js';
import type { MvccEvent } from '../core/mvcc/store.js';
import type { NodeId } from '../core/raft/types.js';
import type { StoreEvent } from '../jepsen-like/etcd/store.js';
import type { KeyValue } from '../jepsen-like/etcd/types.js';
import { historyLeaseId } from './historyLeaseId.js';

export function modelKv(kv: StoredKv): KeyValue {
  return {
    key: kv.key, value: toKey(kv.value), createRevision: kv.createRevision,
    modRevision: kv.modRevision, version: kv.version, lease: historyLeaseId(kv.lease),
  };
}

/** A core MVCC event as the checker's store would log it. */
export function modelEvent(event: MvccEvent, mainRevision: number): StoreEvent {
  const revision = mainRevision;
  const prevKv = event.prevKv === null ? null : modelKv(event.prevKv);
  if (event.type === 'put') return { type: 'put', revision, kv: modelKv(event.kv), prevKv };
  // etcd's DELETE event carries only the key and the deletion's revision.
  return { type: 'delete', revision, kv: { key: event.kv.key, value: '', createRevision: 0, modRevision: revision, version: 0, lease: 0 }, prevKv };
}

/** What one member's store applied at one main revision. */
export interface AppliedEvents {
  readonly member: NodeId;
  readonly events: readonly MvccEvent[];
  readonly mainRevision: number;
}

export class WatchTruth {
  /** Events per model revision, in the order the store made them. */
  private readonly byRevision = new Map<number, { events: StoreEvent[]; text: string }>();
  /** The first disagreement between two applications of one revision, if any. */
  divergence: string | null = null;

  /**
   * A member's store applied a write (the server's `onEvents` observer, which also sees
   * the entries a member applies while it starts: a revision first applied by a restart's
   * replay, with no other member to apply it, would otherwise be missing).
   */
  record({ member, events, mainRevision }: AppliedEvents): void {
    const converted = events.map((e) => modelEvent(e, mainRevision));
    const text = JSON.stringify(converted);
    const revision = mainRevision;
    const known = this.byRevision.get(revision);
    if (known === undefined) {
      this.byRevision.set(revision, { events: converted, text });
      return;
    }
    if (known.text !== text && this.divergence === null) {
      this.divergence = `member ${member} applied revision ${revision} as ${text}, another member as ${known.text}`;
    }
  }

  /** Every committed change, in revision order. */
  log(): StoreEvent[] {
    const revisions = [...this.byRevision.keys()].sort((a, b) => a - b);
    const out: StoreEvent[] = [];
    for (const r of revisions) out.push(...(this.byRevision.get(r)?.events ?? []));
    return out;
  }

  /** The highest revision any member applied (model numbering), 0 if none. */
  lastRevision(): number {
    let last = 0;
    for (const r of this.byRevision.keys()) last = Math.max(last, r);
    return last;
  }
}
