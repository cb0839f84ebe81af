// The Peer service a member serves on --listen-peer-urls: incoming Raft streams,
// the membership exchange, and leader-only work forwarded by followers.

import * as grpc from '@grpc/grpc-js';
import type { EtcdError } from '../../core/errors.js';
import type { LeaseId } from '../../core/lease/leaseId.js';
import type { TimeToLive } from '../../core/lease/lessor.js';
import { leaseId, wireLeaseId } from '../wire/message.js';
import type { Message } from '../../core/raft/types.js';
import { DecodeError, decodeMessage, type WireObject } from './codec.js';
import type { Membership } from '../../core/membership/members.js';
import { memberFromWire, memberToWire } from './wireMembers.js';

export interface PeerServiceDeps {
  readonly membership: Membership;
  deliver(message: Message): void;
  /** A peer (by etcd member id) reached this member: it is up. */
  peerSeen(memberId: bigint): void;
  /** A peer's Raft stream to this member opened; the returned call marks it closed (for ActiveSince). */
  peerStreamOpened?(memberId: bigint): () => void;
  /** Leader-side keep-alive (EtcdServer.leaseKeepAlive's answer, reduced to what crosses). */
  keepAlive(id: LeaseId, reply: (result: { ttlSeconds: number } | EtcdError) => void): void;
  timeToLive(id: LeaseId, reply: (result: TimeToLive | EtcdError) => void): void;
  /** Leader-side: may learner `id` be promoted (null), or why not. */
  learnerReady(id: bigint): EtcdError | null;
  /** This member's HashKV at a revision (0: now), for a peer's corruption check. */
  hashKv(revision: number): { hash: number; currentRevision: number; compactRevision: number } | EtcdError;
  log(line: string): void;
}

/** The peer is up; its stream counts as open until the call ends, however it ends. */
function trackStream(deps: PeerServiceDeps, from: bigint, call: grpc.ServerReadableStream<Buffer, WireObject>): void {
  deps.peerSeen(from);
  const closed = deps.peerStreamOpened?.(from);
  if (closed === undefined) return;
  let once = false;
  const close = (): void => {
    if (once) return;
    once = true;
    closed();
  };
  for (const event of ['end', 'error', 'close', 'cancelled']) call.once(event, close);
}

export function peerHandlers(deps: PeerServiceDeps): grpc.UntypedServiceImplementation {
  const { membership } = deps;
  const stream = (call: grpc.ServerReadableStream<Buffer, WireObject>, callback: grpc.sendUnaryData<WireObject>): void => {
    const clusterId = call.metadata.get('tern-cluster-id')[0];
    if (clusterId !== membership.clusterId.toString()) {
      // etcd's peers refuse a stranger with "cluster ID mismatch" as well.
      deps.log(`refused a peer stream from cluster ${String(clusterId)}: cluster ID mismatch`);
      callback({ code: grpc.status.FAILED_PRECONDITION, details: 'cluster ID mismatch' });
      return;
    }
    call.sendMetadata(new grpc.Metadata()); // tells the sender it reached us
    const from = call.metadata.get('tern-from')[0];
    if (typeof from === 'string' && /^\d+$/.test(from)) trackStream(deps, BigInt(from), call);
    call.on('data', (wire: Buffer) => {
      let message: Message;
      try {
        message = decodeMessage(wire);
      } catch (error) {
        if (!(error instanceof DecodeError)) throw error;
        deps.log(`dropped an undecodable peer message: ${error.message}`);
        return;
      }
      if (message.to === membership.selfRaftId) deps.deliver(message);
    });
    call.on('error', () => undefined); // the peer went away; its sender reconnects
    call.on('end', () => { callback(null, {}); });
  };
  const members: grpc.handleUnaryCall<WireObject, WireObject> = (call, callback) => {
    const self = call.request['self'];
    if (typeof self === 'object' && self !== null) {
      // Names and client URLs are learned through Raft (the caller publishes them), not here.
      deps.peerSeen(memberFromWire(self as WireObject).id);
    }
    callback(null, { cluster_id: membership.clusterId.toString(), members: membership.list().map(memberToWire) });
  };
  const keepAlive: grpc.handleUnaryCall<WireObject, WireObject> = (call, callback) => {
    const id = leaseId(call.request['id']);
    deps.keepAlive(id, (result) => {
      if ('kind' in result) callback(null, { id: wireLeaseId(id), ttl: '0', error_name: result.name });
      else callback(null, { id: wireLeaseId(id), ttl: String(result.ttlSeconds), error_name: '' });
    });
  };
  const timeToLive: grpc.handleUnaryCall<WireObject, WireObject> = (call, callback) => {
    const id = leaseId(call.request['id']);
    deps.timeToLive(id, (result) => {
      if ('kind' in result) {
        callback(null, { id: wireLeaseId(id), ttl: '0', granted_ttl: '0', keys: [], error_name: result.name });
        return;
      }
      callback(null, {
        id: wireLeaseId(id), ttl: String(result.ttlSeconds), granted_ttl: String(result.grantedTtlSeconds),
        keys: result.keys.map((k) => Buffer.from(k, 'latin1')), error_name: '', // keys are binary strings
      });
    });
  };
  const learnerReady: grpc.handleUnaryCall<WireObject, WireObject> = (call, callback) => {
    const raw = String(call.request['id']);
    const refusal = /^\d+$/.test(raw) ? deps.learnerReady(BigInt(raw)) : null;
    callback(null, { error_name: refusal?.name ?? '' });
  };
  const hashKv: grpc.handleUnaryCall<WireObject, WireObject> = (call, callback) => {
    const result = deps.hashKv(Number(call.request['revision'] ?? 0));
    const memberId = membership.selfId.toString();
    if ('kind' in result) {
      callback(null, { member_id: memberId, revision: '0', compact_revision: '0', hash: 0, error_name: result.name });
      return;
    }
    callback(null, {
      member_id: memberId, revision: String(result.currentRevision), compact_revision: String(result.compactRevision),
      hash: result.hash, error_name: '',
    });
  };
  return { HashKv: hashKv, Stream: stream, Members: members, LeaseKeepAlive: keepAlive, LeaseTimeToLive: timeToLive, LearnerReady: learnerReady };
}
