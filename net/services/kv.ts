// etcd's KV service: Range, Put, DeleteRange, Txn, Compact over the core.

import type * as grpc from '@grpc/grpc-js';
import type {
  CompactionResponse, DeleteRangeResponse, PutResponse, RangeResponse, TxnResponse,
} from '../../core/mvcc/types.js';
import type { ResponseHeader } from '../../core/server/server.js';
import { deleteRangeRequest, putRequest, rangeRequest, txnRequest } from '../wire/kv.js';
import { encodeDeleteRangeResponse, encodePutResponse, encodeRangeResponse, encodeTxnResponse } from '../wire/kvEncoding.js';
import { CurrentHeaderIds, type HeaderIds, type HeaderNumbers } from '../wire/protoWriter.js';
import { int } from '../wire/message.js';
import { unary, wireHeader, type ServiceContext } from './context.js';

type WithHeader<T> = { readonly header: ResponseHeader } & T;

export function kvHandlers(context: ServiceContext): grpc.UntypedServiceImplementation {
  const { server } = context;
  const head = (h: ResponseHeader): ReturnType<typeof wireHeader> => wireHeader(context, h);
  // Range, Put, DeleteRange and Txn answer in protobuf bytes written by hand (kvEncoding.ts).
  const headerIds = new CurrentHeaderIds();
  const encoded = <R>(encode: (r: R, ids: HeaderIds, h: HeaderNumbers) => Buffer) => (r: WithHeader<R>): Buffer =>
    encode(r, headerIds.of(context.ids), r.header);
  return {
    Range: unary<WithHeader<RangeResponse>>(context, (w, reply, who) => { server.range(rangeRequest(w), reply, who); }, encoded(encodeRangeResponse)),
    Put: unary<WithHeader<PutResponse>>(context, (w, reply, who) => { server.put(putRequest(w), reply, who); }, encoded(encodePutResponse)),
    DeleteRange: unary<WithHeader<DeleteRangeResponse>>(context, (w, reply, who) => { server.deleteRange(deleteRangeRequest(w), reply, who); },
      encoded(encodeDeleteRangeResponse)),
    Txn: unary<WithHeader<TxnResponse>>(context, (w, reply, who) => { server.txn(txnRequest(w), reply, who); }, encoded(encodeTxnResponse)),
    Compact: unary<WithHeader<CompactionResponse>>(
      context,
      (w, reply, who) => { server.compact({ revision: int(w['revision']), physical: w['physical'] === true }, reply, who); },
      (r) => ({ header: head(r.header) }),
    ),
  };
}
