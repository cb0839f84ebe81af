// ReadIndex bookkeeping (thesis §6.4): a read asked at commit index c is safe to
// serve once a quorum has confirmed, by answering a heartbeat that carries the
// read's context, that this leader was still the leader after the read arrived.
// Reads are confirmed in order: an ack for a later read confirms the earlier ones.

import { invariant } from '../util/invariant.js';
import type { NodeId } from './types.js';

export interface ReadRequest {
  readonly index: number;
  readonly context: string;
  /** Who asked: this member (NONE or own id) or a follower that forwarded it. */
  readonly from: NodeId;
  readonly acks: Set<NodeId>;
}

export class ReadOnly {
  private readonly pending = new Map<string, ReadRequest>();
  private readonly queue: string[] = [];

  /** Records a read at `index`; a context already pending is ignored (a retry). */
  addRequest(index: number, context: string, from: NodeId): boolean {
    if (this.pending.has(context)) return false;
    this.pending.set(context, { index, context, from, acks: new Set() });
    this.queue.push(context);
    return true;
  }

  /** Records that `id` confirmed the round of `context`; returns the acks so far. */
  recvAck(id: NodeId, context: string): ReadonlySet<NodeId> | null {
    const request = this.pending.get(context);
    if (request === undefined) return null;
    request.acks.add(id);
    return request.acks;
  }

  /** Removes and returns every read up to and including `context`, oldest first. */
  advance(context: string): ReadRequest[] {
    const at = this.queue.indexOf(context);
    if (at < 0) return [];
    const released = this.queue.splice(0, at + 1).map((c) => {
      const request = this.pending.get(c);
      invariant(request !== undefined, () => `read ${c} queued but not pending`);
      this.pending.delete(c);
      return request;
    });
    invariant(this.queue.length === this.pending.size, 'read queue and pending map disagree');
    return released;
  }

  lastPendingContext(): string {
    return this.queue[this.queue.length - 1] ?? '';
  }

  size(): number {
    return this.queue.length;
  }
}
