// What every service handler needs: the member's core server and the mapping between
// the core's ids and etcd's 64-bit wire ids, plus adapters shared by the handlers.

import * as grpc from '@grpc/grpc-js';
import { isEtcdError } from '../../core/errors.js';
import type { EtcdError } from '../../core/errors.js';
import type { LeaseId } from '../../core/lease/leaseId.js';
import type { TimeToLive } from '../../core/lease/lessor.js';
import type { NodeId } from '../../core/raft/types.js';
import type { Credentials } from '../../core/server/authGate.js';
import type { EtcdServer, Reply, ResponseHeader } from '../../core/server/server.js';
import type { Passwords } from '../auth/passwords.js';
import type { MemberRecord } from '../../core/membership/members.js';
import { header, type Wire, type WireIds } from '../wire/message.js';
import { grpcError, unconvertedAuthError } from '../wire/status.js';

/** The etcd version Tern answers as (clients and tools check it). */
export const ETCD_VERSION = '3.4.23';

export interface ServiceContext {
  readonly server: EtcdServer;
  readonly ids: WireIds;
  /** The core's Raft id of the member etcd calls `wireId` (decimal uint64); null if none. */
  readonly coreIdOf: (wireId: string) => NodeId | null;
  /** etcd's id (decimal uint64) of the member the core calls `id`. */
  readonly wireIdOf: (id: NodeId) => string;
  /**
   * Renews a lease. Only the leader renews; a multi-member host forwards a follower's
   * renewals to the leader here. Default: the local server (right for one member).
   */
  readonly leaseKeepAlive?: (id: LeaseId, reply: Reply<{ id: LeaseId; ttlSeconds: number }>) => void;
  /** A lease's time to live: only the leader knows it; a follower forwards here. Default: the local server. */
  readonly leaseTimeToLive?: (id: LeaseId, reply: Reply<TimeToLive>) => void;
  /** The election timeout, ms: streams that require a leader end after 3 without one. */
  readonly electionMs?: number;
  /** bcrypt at the member's --bcrypt-cost (net/auth/passwords.ts); cost 10 if absent. */
  readonly passwords?: Passwords;
  /** --client-cert-auth: a verified client certificate's CN names the user when no token is sent. */
  readonly clientCertAuth?: boolean;
  /** The cluster's members, for the `members` bucket of snapshots and Hash; none if absent. */
  readonly members?: () => readonly MemberRecord[];
  /** Seconds a Hash ('hash') or HashKV ('hashRev') took (etcd_mvcc_hash[_rev]_duration_seconds); untimed if absent. */
  readonly observeHash?: (kind: 'hash' | 'hashRev', seconds: number) => void;
}

/** What credentialsOf reads of a call. */
export interface CallerView {
  readonly metadata: grpc.Metadata;
  getAuthContext(): { readonly sslPeerCertificate?: { readonly subject: { readonly CN?: string | string[] } } };
}

/**
 * What a call presents for auth (etcd's AuthInfoFromCtx): the `token` metadata clientv3
 * sends (or `authorization`, the JSON gateway's name for it); else, with
 * --client-cert-auth, the common name of the client's verified certificate — except for
 * the gateway's own calls (etcd ignores the CN when `grpcgateway-accept` is set).
 * undefined: nothing, the common case without auth.
 */
export function credentialsOf(context: Pick<ServiceContext, 'clientCertAuth'>, call: CallerView): Credentials | undefined {
  const token = call.metadata.get('token')[0] ?? call.metadata.get('authorization')[0];
  if (token !== undefined) return { token: token.toString() };
  if (context.clientCertAuth !== true || call.metadata.get('grpcgateway-accept').length > 0) return undefined;
  // Go takes the subject's (first) CommonName; node lists several as an array.
  const cn = call.getAuthContext().sslPeerCertificate?.subject.CN;
  const commonName = Array.isArray(cn) ? cn[0] : cn;
  return commonName === undefined || commonName === '' ? undefined : { commonName };
}

/** A single member: its only core id maps to the member's etcd id. */
export function singleMemberContext(server: EtcdServer, ids: WireIds, electionMs?: number): ServiceContext {
  return {
    server,
    ids,
    ...(electionMs === undefined ? {} : { electionMs }),
    coreIdOf: (wireId) => (wireId === ids.memberId ? server.memberId : null),
    wireIdOf: (id) => (id === server.memberId ? ids.memberId : String(id)),
  };
}

/** Answers with a wire object, or with protobuf bytes already encoded (net/wire/kvEncoding.ts). */
export type UnaryHandler = grpc.handleUnaryCall<Wire, Wire | Buffer>;

export function wireHeader(context: ServiceContext, h: ResponseHeader): Wire {
  return header(h, context.ids);
}

/** Adapts a core call with a callback reply to a grpc-js unary handler. */
export function unary<T extends { header: ResponseHeader }>(
  context: Pick<ServiceContext, 'clientCertAuth'>,
  call: (request: Wire, reply: (result: T | EtcdError) => void, credentials: Credentials | undefined) => void,
  encode: (result: T) => Wire | Buffer,
): UnaryHandler {
  return (rpc, callback) => {
    call(rpc.request, (result) => {
      if (isEtcdError(result)) callback(grpcError(result));
      else callback(null, encode(result));
    }, credentialsOf(context, rpc));
  };
}

/** A unary handler that answers at once (no core round trip). */
export function immediate(answer: (request: Wire) => Wire | EtcdError): UnaryHandler {
  return (rpc, callback) => {
    const result = answer(rpc.request);
    if (isEtcdError(result)) callback(grpcError(result));
    else callback(null, result);
  };
}

/**
 * clientv3's WithRequireLeader (etcdctl watch, lease keep-alive) sets `hasleader`:
 * such a stream must fail at once with `no leader` while the member knows none.
 */
export function requiresLeader(call: Pick<CallerView, 'metadata'>): boolean {
  return call.metadata.get('hasleader').some((v) => v.toString() === 'true');
}

export function hasLeader(server: EtcdServer): boolean {
  return server.driver.status().lead !== 0;
}

/** Ends a stream with an etcd error as its gRPC status. */
export function failStream(call: grpc.ServerDuplexStream<Wire, Wire> | grpc.ServerWritableStream<Wire, Wire>, e: EtcdError): void {
  const status = grpcError(e);
  call.emit('error', { code: status.code ?? grpc.status.UNKNOWN, details: status.details ?? e.message, metadata: new grpc.Metadata() });
}

/**
 * etcd's admin-only calls (authMaintenanceServer: Hash, HashKV, Snapshot, Defragment;
 * member changes): with auth on, only a holder of role root gets past.
 */
export function adminOnly(
  context: Pick<ServiceContext, 'server' | 'clientCertAuth'>, handler: UnaryHandler, status: (e: EtcdError) => Partial<grpc.StatusObject> = grpcError,
): UnaryHandler {
  return (rpc, callback) => {
    context.server.authApi.checkAdmin(credentialsOf(context, rpc), (refusal) => {
      if (refusal === null) handler(rpc, callback);
      else callback(status(refusal));
    });
  };
}

/** adminOnly for a server-streaming call (Snapshot), refused as the Maintenance service refuses. */
export function adminOnlyStream(context: Pick<ServiceContext, 'server' | 'clientCertAuth'>, handler: grpc.handleServerStreamingCall<Wire, Wire>): grpc.handleServerStreamingCall<Wire, Wire> {
  return (call) => {
    context.server.authApi.checkAdmin(credentialsOf(context, call), (refusal) => {
      if (refusal === null) {
        handler(call);
        return;
      }
      const status = unconvertedAuthError(refusal);
      call.emit('error', { code: status.code ?? grpc.status.UNKNOWN, details: status.details ?? refusal.message, metadata: new grpc.Metadata() });
    });
  };
}
