// The Transport port over gRPC: routes each Raft message to the sender for its
// destination, created from the member's peer URLs and replaced when they change.

import type { ChannelCredentials } from '@grpc/grpc-js';
import type { Transport } from '../../core/node/ports.js';
import type { Message, NodeId } from '../../core/raft/types.js';
import { peerDialTarget } from '../config/urls.js';
import type { Membership } from '../../core/membership/members.js';
import type { PeerActivity } from '../../core/membership/peerActivity.js';
import { PeerSender, type SenderStats } from './sender.js';

export interface TransportOptions {
  readonly queueLimit?: number;
  readonly backoffMinMs?: number;
  readonly backoffMaxMs?: number;
  readonly log: (line: string) => void;
  /** For every peer stream; plain if absent. */
  readonly credentials?: ChannelCredentials;
  /** Told of every stream that opens or closes, either way (the removal health check reads it). */
  readonly activity?: PeerActivity;
}

export class PeerTransport implements Transport {
  private readonly senders = new Map<NodeId, { readonly address: string; readonly sender: PeerSender }>();
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

  /** A peer's stream to this member opened (the peer service); the result marks it closed. */
  incomingStreamOpened(raftId: NodeId): () => void {
    const activity = this.options.activity;
    activity?.opened(raftId, 'in');
    let open = true;
    return () => {
      if (!open) return;
      open = false;
      activity?.closed(raftId, 'in');
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
      onReached: () => { this.options.activity?.opened(raftId, 'out'); },
      onLost: () => { this.options.activity?.closed(raftId, 'out'); },
    });
    this.senders.set(raftId, { address, sender });
    this.options.activity?.noteContact(raftId);
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
