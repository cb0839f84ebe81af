// The stream of Raft messages from this member to one peer: a bounded queue, one
// client-streaming call, reconnection with capped exponential backoff.
//
// Raft tolerates lost messages (it retransmits on heartbeats and probes), so the
// sender never blocks the driver: beyond the queue bound, or while the peer is
// unreachable, messages are dropped and counted. When the stream breaks, what is
// queued is dropped too: it is stale by the time the peer is back.

import * as grpc from '@grpc/grpc-js';
import type { Message } from '../../core/raft/types.js';
import { peerService } from '../proto/load.js';
import { RereadingCredentials } from '../tls/rereadingCredentials.js';
import { PEER_CHANNEL_OPTIONS } from './channelOptions.js';
import { encodeMessage, type WireObject } from './codec.js';

export interface SenderOptions {
  /** host:port of the peer's --listen-peer-urls. */
  readonly address: string;
  /** Sent as call metadata so the receiver can refuse a stranger's messages. */
  readonly clusterId: string;
  readonly fromId: string;
  readonly queueLimit: number;
  readonly backoffMinMs: number;
  readonly backoffMaxMs: number;
  readonly log: (line: string) => void;
  /** Plain if absent. */
  readonly credentials?: grpc.ChannelCredentials;
  /** The stream reached the peer, and (after that) it ended: for core/membership/peerActivity.ts. */
  readonly onReached?: () => void;
  readonly onLost?: () => void;
}

export interface SenderStats {
  sent: number;
  dropped: number;
  connects: number;
}

type State = 'idle' | 'open' | 'backoff' | 'closed';

/** grpc-js's details when no connection could be made (refused, reset, TLS failure). */
const NO_CONNECTION = 'No connection established';
/** The least time between two probes of one peer for a refusal of our certificate. */
const PROBE_INTERVAL_MS = 5_000;

export class PeerSender {
  readonly stats: SenderStats = { sent: 0, dropped: 0, connects: 0 };
  private readonly client: grpc.Client;
  private queue: Message[] = [];
  private state: State = 'idle';
  private stream: grpc.ClientWritableStream<Buffer> | null = null;
  /** grpc-js asked us to wait for 'drain' before writing more. */
  private full = false;
  private backoffMs: number;
  private retry: NodeJS.Timeout | null = null;
  /** Whether the current stream got the peer's headers (it is really connected). */
  private reached = false;
  /** The last failure logged: a peer that stays down is reported once, not per retry. */
  private lastFailure = '';
  /** When the last probe for a refusal of our certificate started (ms), and whether one runs. */
  private probedAt = -Infinity;
  private probing = false;
  private lastRefusal = '';

  constructor(private readonly options: SenderOptions) {
    this.client = new grpc.Client(options.address, options.credentials ?? grpc.credentials.createInsecure(), PEER_CHANNEL_OPTIONS);
    this.backoffMs = options.backoffMinMs;
  }

  send(message: Message): void {
    if (this.state === 'closed' || this.state === 'backoff' || this.queue.length >= this.options.queueLimit) {
      this.stats.dropped++;
      return;
    }
    this.queue.push(message);
    if (this.state === 'idle') this.open();
    this.flush();
  }

  /**
   * The peer has just shown it is up (it called us): end a backoff at once instead of
   * waiting it out, so a restarted member hears its leader within a heartbeat. Without
   * this, a member down for a second waits out the grown backoff (up to backoffMaxMs)
   * before the leader's heartbeats reach it again.
   */
  reconnectNow(): void {
    this.backoffMs = this.options.backoffMinMs;
    if (this.state !== 'backoff') return;
    if (this.retry !== null) clearTimeout(this.retry);
    this.retry = null;
    this.state = 'idle';
  }

  close(): void {
    this.state = 'closed';
    this.lose();
    if (this.retry !== null) clearTimeout(this.retry);
    this.stream?.end();
    this.stream = null;
    this.client.close();
  }

  /** The stream that reached the peer is gone (told once per stream). */
  private lose(): void {
    if (!this.reached) return;
    this.reached = false;
    this.options.onLost?.();
  }

  private open(): void {
    const definition = peerService().service['Stream'];
    if (definition === undefined) throw new Error('peer.proto has no Stream method');
    const metadata = new grpc.Metadata();
    metadata.set('tern-cluster-id', this.options.clusterId);
    metadata.set('tern-from', this.options.fromId);
    this.reached = false;
    const stream = this.client.makeClientStreamRequest<Buffer, WireObject>(
      definition.path,
      (bytes: Buffer): Buffer => bytes, // encoded by net/peer/codec.ts
      definition.responseDeserialize as (bytes: Buffer) => WireObject,
      metadata,
      {},
      (error) => { this.broken(stream, error); },
    );
    stream.on('metadata', () => {
      this.reached = true;
      this.options.onReached?.();
      this.stats.connects++;
      this.backoffMs = this.options.backoffMinMs;
    });
    stream.on('error', () => undefined); // the callback above handles it
    this.stream = stream;
    this.full = false;
    this.state = 'open';
  }

  private flush(): void {
    const stream = this.stream;
    if (this.state !== 'open' || stream === null) return;
    while (!this.full && this.queue.length > 0) {
      const message = this.queue.shift();
      if (message === undefined) break;
      this.stats.sent++;
      if (!stream.write(encodeMessage(message))) {
        this.full = true;
        stream.once('drain', () => {
          if (this.stream !== stream) return;
          this.full = false;
          this.flush();
        });
      }
    }
  }

  /**
   * A TLS peer that keeps refusing the connection may be refusing our certificate: ask
   * it (refusalNotice.ts) and log the refusal as etcd's dialer does. At most one probe
   * at a time and one per PROBE_INTERVAL_MS, so a peer that is down costs little.
   */
  private probeRefusal(): void {
    const credentials = this.options.credentials;
    if (!(credentials instanceof RereadingCredentials) || this.probing || Date.now() - this.probedAt < PROBE_INTERVAL_MS) return;
    this.probing = true;
    this.probedAt = Date.now();
    void credentials.refusalBy(this.options.address).then((alert) => {
      this.probing = false;
      const refusal = alert === null ? '' : `remote error: tls: ${alert}`;
      if (refusal !== '' && refusal !== this.lastRefusal && this.state !== 'closed') {
        this.options.log(`rafthttp: failed to dial ${this.options.address} on stream Message (${refusal})`);
      }
      this.lastRefusal = refusal;
    });
  }

  /** The call ended (peer gone, restarted, refused us): drop the queue, retry later. */
  private broken(stream: grpc.ClientWritableStream<Buffer>, error: grpc.ServiceError | null): void {
    if (this.stream !== stream || this.state === 'closed') return;
    this.stream = null;
    const reached = this.reached;
    this.lose();
    this.stats.dropped += this.queue.length;
    this.queue = [];
    const failure = error?.details ?? 'closed';
    if (reached || failure !== this.lastFailure) this.options.log(`peer stream to ${this.options.address} ended: ${failure}`);
    this.lastFailure = failure;
    if (!reached && failure.startsWith(NO_CONNECTION)) this.probeRefusal();
    const delay = this.backoffMs;
    this.backoffMs = Math.min(this.options.backoffMaxMs, this.backoffMs * 2);
    this.state = 'backoff';
    this.retry = setTimeout(() => {
      this.retry = null;
      if (this.state === 'backoff') this.state = 'idle';
    }, delay);
  }
}
