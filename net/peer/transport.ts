// The Transport port over gRPC: routes each Raft message to the sender for its
// destination, created from the member's peer URLs and replaced when they change.

import type { ChannelCredentials } from '@grpc/grpc-js';
import type { Transport } from '../../core/node/ports.js';
import type { Message, NodeId } from '../../core/raft/types.js';
import { peerDialTarget } from '../config/urls.js';
import type { Membership } from './membership.js';
import { PeerSender, type SenderStats } from './sender.js';

export interface TransportOptions {
  readonly queueLimit?: number;
  readonly backoffMinMs?: number;
  readonly backoffMaxMs?: number;
  readonly log: (line: string) => void;
  /** For every peer stream; plain if absent. */
  readonly credentials?: ChannelCredentials;
}

export class PeerTransport implements Transport {
  private readonly senders = new Map<NodeId, { readonly address: string; readonly sender: PeerSender }>();
  /** Peers' streams to this member: since when one has been open, and how many are (at most a few per peer). */
  private readonly incoming = new Map<NodeId, { readonly sinceMs: number; streams: number }>();
  /** Peers this member has had a stream with, either way (bounded by the members it knew). */
  private readonly talkedTo = new Set<NodeId>();
  /** Messages to a member this one does not know (yet): Raft will retry. */
  unroutable = 0;

  constructor(private readonly membership: Membership, private readonly options: TransportOptions) {
    membership.onChange(() => { this.prune(); });
  }

  send(message: Message): void {
    const sender = this.senderFor(message.to);
    if (sender === null) this.unroutable++;
    else sender.send(message);
  }

  /** A peer called this member (it is up): retry its stream now rather than after a backoff. */
  peerSeen(raftId: NodeId): void {
    this.senders.get(raftId)?.sender.reconnectNow();
  }

  /**
   * Since when this member's stream to the peer has been up (ms since the epoch), or null
   * when it is down or was never needed (etcd's Transport.ActiveSince; etcdserver's
   * mayRemoveMember counts the peers connected for its health interval).
   */
  activeSince(raftId: NodeId): number | null {
    const out = this.senders.get(raftId)?.sender.activeSinceMs ?? null;
    const incoming = this.incoming.get(raftId)?.sinceMs ?? null;
    if (out !== null || incoming !== null) return Math.min(out ?? Infinity, incoming ?? Infinity);
    // Unlike etcd's, Tern's members open streams only to whom Raft sends: a follower has
    // none to the other followers and cannot tell whether they are up. It takes them as
    // up since always (0), which leaves the refusal to the members that know: the leader.
    return this.talkedTo.has(raftId) ? null : 0;
  }

  /** A peer's stream to this member opened (the peer service); the result marks it closed. */
  incomingStreamOpened(raftId: NodeId): () => void {
    this.talkedTo.add(raftId);
    const known = this.incoming.get(raftId);
    if (known === undefined) this.incoming.set(raftId, { sinceMs: Date.now(), streams: 1 });
    else known.streams++;
    return () => {
      const entry = this.incoming.get(raftId);
      if (entry === undefined) return;
      entry.streams--;
      if (entry.streams <= 0) this.incoming.delete(raftId);
    };
  }

  stats(): Map<NodeId, SenderStats> {
    return new Map([...this.senders].map(([id, s]) => [id, { ...s.sender.stats }]));
  }

  close(): void {
    for (const { sender } of this.senders.values()) sender.close();
    this.senders.clear();
  }

  private senderFor(raftId: NodeId): PeerSender | null {
    const known = this.senders.get(raftId);
    if (known !== undefined) return known.sender;
    const address = this.addressOf(raftId);
    if (address === null) return null;
    const sender = new PeerSender({
      address,
      clusterId: this.membership.clusterId.toString(),
      fromId: this.membership.selfId.toString(),
      queueLimit: this.options.queueLimit ?? 4096, // etcd's streamBufSize
      backoffMinMs: this.options.backoffMinMs ?? 50,
      backoffMaxMs: this.options.backoffMaxMs ?? 500,
      log: this.options.log,
      ...(this.options.credentials === undefined ? {} : { credentials: this.options.credentials }),
    });
    this.senders.set(raftId, { address, sender });
    this.talkedTo.add(raftId);
    return sender;
  }

  private addressOf(raftId: NodeId): string | null {
    const url = this.membership.byRaftId(raftId)?.peerUrls[0];
    return url === undefined ? null : peerDialTarget(url);
  }

  /** Members removed or moved: close their senders (a new one is made on the next send). */
  private prune(): void {
    for (const [id, { address, sender }] of this.senders) {
      if (this.addressOf(id) === address) continue;
      sender.close();
      this.senders.delete(id);
    }
  }
}
