// Unary calls to a peer's Peer service: the membership exchange and forwarded
// keep-alives. One channel per peer address, reused.

import * as grpc from '@grpc/grpc-js';
import { etcdError, type EtcdError, type EtcdErrorName } from '../../core/errors.js';
import type { TimeToLive } from '../../core/lease/lessor.js';
import type { LeaseId } from '../../core/lease/leaseId.js';
import { wireLeaseId } from '../wire/message.js';
import { peerService } from '../proto/load.js';
import { PEER_CHANNEL_OPTIONS } from './channelOptions.js';
import type { WireObject } from './codec.js';
import type { MemberRecord } from './membership.js';
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

  /** Renews a lease on the leader at `address`. */
  async keepAlive(address: string, id: LeaseId, timeoutMs: number): Promise<{ ttlSeconds: number } | EtcdError> {
    const response = await this.unary(address, 'LeaseKeepAlive', { id: wireLeaseId(id) }, timeoutMs);
    const name = response['error_name'];
    if (typeof name === 'string' && name !== '') return etcdError(name as EtcdErrorName);
    return { ttlSeconds: Number(response['ttl']) };
  }

  /** Asks the leader at `address` for a lease's remaining TTL and keys. */
  async timeToLive(address: string, id: LeaseId, timeoutMs: number): Promise<TimeToLive | EtcdError> {
    const response = await this.unary(address, 'LeaseTimeToLive', { id: wireLeaseId(id) }, timeoutMs);
    const name = response['error_name'];
    if (typeof name === 'string' && name !== '') return etcdError(name as EtcdErrorName);
    const keys = Array.isArray(response['keys']) ? (response['keys'] as unknown[]) : [];
    return {
      id, ttlSeconds: Number(response['ttl']), grantedTtlSeconds: Number(response['granted_ttl']),
      keys: keys.filter((k): k is Buffer => Buffer.isBuffer(k)).map((k) => k.toString('latin1')),
    };
  }

  /** Asks the leader at `address` whether learner `id` may be promoted; null: it may. */
  async learnerReady(address: string, id: bigint, timeoutMs: number): Promise<EtcdError | null> {
    const response = await this.unary(address, 'LearnerReady', { id: id.toString() }, timeoutMs);
    const name = response['error_name'];
    return typeof name === 'string' && name !== '' ? etcdError(name as EtcdErrorName) : null;
  }

  /** A peer's HashKV at `revision` (etcd's getPeerHashKVHTTP); its etcd member id in decimal. */
  async hashKv(address: string, revision: number, timeoutMs: number): Promise<PeerHashKv | EtcdError> {
    const response = await this.unary(address, 'HashKv', { revision: String(revision) }, timeoutMs);
    const name = response['error_name'];
    if (typeof name === 'string' && name !== '') return etcdError(name as EtcdErrorName);
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
    const definition = peerService().service[method];
    if (definition === undefined) throw new Error(`peer.proto has no ${method}`);
    let client = this.clients.get(address);
    if (client === undefined) {
      client = new grpc.Client(address, this.credentials, PEER_CHANNEL_OPTIONS);
      this.clients.set(address, client);
    }
    const target = client;
    return new Promise((resolve, reject) => {
      target.makeUnaryRequest<WireObject, WireObject>(
        definition.path,
        definition.requestSerialize as (value: WireObject) => Buffer,
        definition.responseDeserialize as (bytes: Buffer) => WireObject,
        request,
        new grpc.Metadata(),
        { deadline: Date.now() + timeoutMs },
        (error, response) => {
          if (error !== null) reject(error);
          else resolve(response ?? {});
        },
      );
    });
  }
}
