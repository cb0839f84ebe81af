// etcd's KV and Maintenance gRPC services over the EtcdServer core: decode the wire
// request, call the core, encode its reply or its etcd error.

import type * as grpc from '@grpc/grpc-js';
import type { EtcdError } from '../core/errors.js';
import { isEtcdError } from '../core/errors.js';
import type {
  CompactionResponse, DeleteRangeResponse, PutResponse, RangeResponse, TxnResponse,
} from '../core/mvcc/types.js';
import type { EtcdServer, ResponseHeader } from '../core/server/server.js';
import {
  deleteRangeRequest, deleteRangeResponse, grpcError, header, int, putRequest, putResponse, rangeRequest, rangeResponse,
  txnRequest, txnResponse, type Wire, type WireIds,
} from './wire.js';

/** The etcd version Tern answers as (clients and tools check it). */
export const ETCD_VERSION = '3.4.23';

type Handler = grpc.handleUnaryCall<Wire, Wire>;
type WithHeader<T> = { readonly header: ResponseHeader } & T;

/** Adapts a core call with a callback reply to a grpc-js unary handler. */
function unary<T extends { header: ResponseHeader }>(
  call: (request: Wire, reply: (result: T | EtcdError) => void) => void,
  encode: (result: T) => Wire,
): Handler {
  return (rpc, callback) => {
    call(rpc.request, (result) => {
      if (isEtcdError(result)) callback(grpcError(result));
      else callback(null, encode(result));
    });
  };
}

export function kvHandlers(server: EtcdServer, ids: WireIds): grpc.UntypedServiceImplementation {
  const head = (h: ResponseHeader): Wire => header(h, ids);
  return {
    Range: unary<WithHeader<RangeResponse>>((w, reply) => { server.range(rangeRequest(w), reply); }, (r) => rangeResponse(r, head(r.header))),
    Put: unary<WithHeader<PutResponse>>((w, reply) => { server.put(putRequest(w), reply); }, (r) => putResponse(r, head(r.header))),
    DeleteRange: unary<WithHeader<DeleteRangeResponse>>((w, reply) => { server.deleteRange(deleteRangeRequest(w), reply); },
      (r) => deleteRangeResponse(r, head(r.header))),
    Txn: unary<WithHeader<TxnResponse>>((w, reply) => { server.txn(txnRequest(w), reply); }, (r) => txnResponse(r, head(r.header))),
    Compact: unary<WithHeader<CompactionResponse>>((w, reply) => { server.compact({ revision: int(w['revision']), physical: w['physical'] === true }, reply); },
      (r) => ({ header: head(r.header) })),
  };
}

/** `etcdIdOf` maps the core's Raft ids to etcd member ids (decimal), for Status.leader. */
export function maintenanceHandlers(
  server: EtcdServer, ids: WireIds, etcdIdOf: (raftId: number) => string = (id) => (id === server.memberId ? ids.memberId : String(id)),
): grpc.UntypedServiceImplementation {
  const status: Handler = (_rpc, callback) => {
    const s = server.driver.status();
    const leader = s.lead === 0 ? '0' : etcdIdOf(s.lead);
    callback(null, {
      header: header(server.header(), ids),
      version: ETCD_VERSION,
      dbSize: String(0),
      leader,
      raftIndex: String(s.hardState.commit),
      raftTerm: String(s.hardState.term),
      raftAppliedIndex: String(s.applied),
      errors: s.lead === 0 ? ['etcdserver: no leader'] : [],
      dbSizeInUse: String(0),
      isLearner: s.confState.learners.includes(server.memberId),
    });
  };
  return { Status: status };
}
