// Unary calls to a peer's Peer service: the membership exchange and forwarded
// calls (keep-alives, time-to-live, learner readiness). One channel per peer address, reused.

import * as grpc from '@grpc/grpc-js';
import { etcdError, type EtcdError, type EtcdErrorName } from '../../core/errors.js';
import type { TimeToLive } from '../../core/lease/lessor.js';
import type { LeaseId } from '../../core/lease/leaseId.js';
import { wireLeaseId } from '../wire/message.js';
import { peerService } from '../proto/load.js';
import { PEER_CHANNEL_OPTIONS } from './channelOptions.js';
import type { WireObject } from './codec.js';
import type { MemberRecord } from '../../core/membership/members.js';
import { UNREACHABLE, type Cancel, type Unreachable } from '../../core/membership/leaderForwarding.js';
import { memberFromWire, memberToWire } from './wireMembers.js';

export interface ClusterView {
  readonly clusterId: bigint;
  readonly members: readonly MemberRecord[];
}

export interface PeerHashKv {
  readonly memberId: bigint;
  readonly hash: number;
  readonly revision: number;
  readonly compactRevision: number;
}

export class PeerClients {
  private readonly clients = new Map<string, grpc.Client>();

  /** Plain, or the member's peer TLS (net/tls/memberTls.ts). */
  constructor(private readonly credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure()) {}

  /** Tells a peer who we are; learns its view of the cluster. */
  async members(address: string, self: MemberRecord, timeoutMs: number): Promise<ClusterView> {
    const response = await this.unary(address, 'Members', { self: memberToWire(self) }, timeoutMs);
    const members = Array.isArray(response['members']) ? (response['members'] as WireObject[]).map(memberFromWire) : [];
    return { clusterId: BigInt(String(response['cluster_id'])), members };
  }

  // The three calls a follower forwards to the leader. They carry no deadline of their
  // own: core/membership/leaderForwarding.ts keeps the deadline on the member's clock
  // and cancels the call when it passes.

  /** Renews a lease on the leader at `address`. */
  keepAlive(address: string, id: LeaseId, done: (result: { ttlSeconds: number } | EtcdError | Unreachable) => void): Cancel {
    return this.call(address, 'LeaseKeepAlive', { id: wireLeaseId(id) }, (response) => {
      if (response === UNREACHABLE) { done(response); return; }
      const refusal = refusalOf(response);
      done(refusal ?? { ttlSeconds: Number(response['ttl']) });
    });
  }

  /** Asks the leader at `address` for a lease's remaining TTL and keys. */
  timeToLive(address: string, id: LeaseId, done: (result: TimeToLive | EtcdError | Unreachable) => void): Cancel {
    return this.call(address, 'LeaseTimeToLive', { id: wireLeaseId(id) }, (response) => {
      if (response === UNREACHABLE) { done(response); return; }
      const refusal = refusalOf(response);
      if (refusal !== null) { done(refusal); return; }
      const keys = Array.isArray(response['keys']) ? (response['keys'] as unknown[]) : [];
      done({
        id, ttlSeconds: Number(response['ttl']), grantedTtlSeconds: Number(response['granted_ttl']),
        keys: keys.filter((k): k is Buffer => Buffer.isBuffer(k)).map((k) => k.toString('latin1')),
      });
    });
  }

  /** Asks the leader at `address` whether learner `id` may be promoted; null: it may. */
  learnerReady(address: string, id: bigint, done: (result: EtcdError | null | Unreachable) => void): Cancel {
    return this.call(address, 'LearnerReady', { id: id.toString() }, (response) => {
      done(response === UNREACHABLE ? response : refusalOf(response));
    });
  }

  /** A peer's HashKV at `revision` (etcd's getPeerHashKVHTTP); its etcd member id in decimal. */
  async hashKv(address: string, revision: number, timeoutMs: number): Promise<PeerHashKv | EtcdError> {
    const response = await this.unary(address, 'HashKv', { revision: String(revision) }, timeoutMs);
    const refusal = refusalOf(response);
    if (refusal !== null) return refusal;
    return {
      memberId: BigInt(String(response['member_id'])), hash: Number(response['hash'] ?? 0),
      revision: Number(response['revision'] ?? 0), compactRevision: Number(response['compact_revision'] ?? 0),
    };
  }

  close(): void {
    for (const client of this.clients.values()) client.close();
    this.clients.clear();
  }

  private unary(address: string, method: string, request: WireObject, timeoutMs: number): Promise<WireObject> {
    return new Promise((resolve, reject) => {
      this.start(address, method, request, { deadline: Date.now() + timeoutMs }, (error, response) => {
        if (error !== null) reject(error);
        else resolve(response ?? {});
      });
    });
  }

  /** A call without a deadline; any failure (cancellation too) is `unreachable`. */
  private call(address: string, method: string, request: WireObject, done: (response: WireObject | Unreachable) => void): Cancel {
    let call: grpc.ClientUnaryCall;
    try {
      call = this.start(address, method, request, {}, (error, response) => { done(error !== null ? UNREACHABLE : response ?? {}); });
    } catch {
      done(UNREACHABLE);
      return () => undefined;
    }
    return () => { call.cancel(); };
  }

  private start(
    address: string, method: string, request: WireObject, options: grpc.CallOptions,
    callback: (error: grpc.ServiceError | null, response: WireObject | undefined) => void,
  ): grpc.ClientUnaryCall {
    const definition = peerService().service[method];
    if (definition === undefined) throw new Error(`peer.proto has no ${method}`);
    let client = this.clients.get(address);
    if (client === undefined) {
      client = new grpc.Client(address, this.credentials, PEER_CHANNEL_OPTIONS);
      this.clients.set(address, client);
    }
    return client.makeUnaryRequest<WireObject, WireObject>(
      definition.path,
      definition.requestSerialize as (value: WireObject) => Buffer,
      definition.responseDeserialize as (bytes: Buffer) => WireObject,
      request,
      new grpc.Metadata(),
      options,
      callback,
    );
  }
}

/** The peer's answer as an etcd error, when it carries one (`error_name`). */
function refusalOf(response: WireObject): EtcdError | null {
  const name = response['error_name'];
  return typeof name === 'string' && name !== '' ? etcdError(name as EtcdErrorName) : null;
}
