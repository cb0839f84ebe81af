// etcd's KV service: Range, Put, DeleteRange, Txn, Compact over the core.

import type * as grpc from '@grpc/grpc-js';
import type {
  CompactionResponse, DeleteRangeResponse, PutResponse, RangeResponse, TxnResponse,
} from '../../core/mvcc/types.js';
import type { ResponseHeader } from '../../core/server/server.js';
import { deleteRangeRequest, deleteRangeResponse, putRequest, putResponse, rangeRequest, rangeResponse, txnRequest, txnResponse } from '../wire/kv.js';
import { int } from '../wire/message.js';
import { unary, wireHeader, type ServiceContext } from './context.js';

type WithHeader<T> = { readonly header: ResponseHeader } & T;

export function kvHandlers(context: ServiceContext): grpc.UntypedServiceImplementation {
  const { server } = context;
  const head = (h: ResponseHeader): ReturnType<typeof wireHeader> => wireHeader(context, h);
  return {
    Range: unary<WithHeader<RangeResponse>>((w, reply) => { server.range(rangeRequest(w), reply); }, (r) => rangeResponse(r, head(r.header))),
    Put: unary<WithHeader<PutResponse>>((w, reply) => { server.put(putRequest(w), reply); }, (r) => putResponse(r, head(r.header))),
    DeleteRange: unary<WithHeader<DeleteRangeResponse>>((w, reply) => { server.deleteRange(deleteRangeRequest(w), reply); },
      (r) => deleteRangeResponse(r, head(r.header))),
    Txn: unary<WithHeader<TxnResponse>>((w, reply) => { server.txn(txnRequest(w), reply); }, (r) => txnResponse(r, head(r.header))),
    Compact: unary<WithHeader<CompactionResponse>>(
      (w, reply) => { server.compact({ revision: int(w['revision']), physical: w['physical'] === true }, reply); },
      (r) => ({ header: head(r.header) }),
    ),
  };
}
