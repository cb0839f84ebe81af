// Since when this member's streams with each peer have been up (etcd's
// Transport.ActiveSince), stamped with the member's clock: the transport reports
// streams opening and closing, and the removal health check
// (core/membership/removalHealth.ts) reads the times.
//
// Unlike etcd's, Tern's members open streams only to whom Raft sends: a follower has
// none to the other followers and cannot tell whether they are up. A peer never
// contacted either way counts as up since always (0), which leaves the refusal to the
// members that know: the leader.

import type { Clock, NodeId } from '../node/ports.js';
import { invariant } from '../util/invariant.js';

export type StreamDirection = 'out' | 'in';

interface Streams {
  out: number;
  in: number;
  /** When the first of the open streams opened (this member's clock, ms). */
  sinceMs: number;
}

export class PeerActivity {
  private readonly open = new Map<NodeId, Streams>();
  /** Peers this member has had a stream with, either way (bounded by the members it knew). */
  private readonly contacted = new Set<NodeId>();

  constructor(private readonly clock: Clock) {}

  /** This member will talk to the peer (it made a sender for it). */
  noteContact(peer: NodeId): void {
    this.contacted.add(peer);
  }

  opened(peer: NodeId, direction: StreamDirection): void {
    this.contacted.add(peer);
    const known = this.open.get(peer);
    if (known === undefined) {
      this.open.set(peer, { out: direction === 'out' ? 1 : 0, in: direction === 'in' ? 1 : 0, sinceMs: this.clock.nowMs() });
      return;
    }
    known[direction]++;
  }

  closed(peer: NodeId, direction: StreamDirection): void {
    const known = this.open.get(peer);
    if (known === undefined) return;
    invariant(known[direction] > 0, () => `no ${direction} stream with ${peer} is open`);
    known[direction]--;
    if (known.out === 0 && known.in === 0) this.open.delete(peer);
  }

  /** Since when a stream with the peer has been up (this member's clock), or null when none is. */
  activeSinceMs(peer: NodeId): number | null {
    const known = this.open.get(peer);
    if (known !== undefined) return known.sinceMs;
    return this.contacted.has(peer) ? null : 0;
  }

  /** Forgets a peer that left the cluster. */
  forget(peer: NodeId): void {
    this.open.delete(peer);
    this.contacted.delete(peer);
  }
}
