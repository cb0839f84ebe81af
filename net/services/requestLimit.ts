// etcd's --max-request-bytes: a request that would become a Raft proposal larger than
// the limit (1.5 MiB by default) is refused with InvalidArgument "etcdserver: request
// is too large" before it is proposed; gRPC itself refuses anything above the limit +
// 512 KiB (etcd's grpcOverheadBytes) while receiving.
//
// etcd measures the marshalled InternalRaftRequest, i.e. the client's request plus a
// header of a dozen bytes; Tern measures the request as received on the wire (its own
// Raft envelope is JSON and would be a different size), so the two limits agree to
// within those few bytes.
//
// grpc-js hands handlers the decoded message only, so the service definition's
// deserializer is wrapped to remember which decoded requests came from too many bytes.

import type * as grpc from '@grpc/grpc-js';
import { etcdError } from '../../core/errors.js';
import { grpcError } from '../wire/status.js';

/** etcd 3.4's default --max-request-bytes. */
export const DEFAULT_MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;
/** etcd's grpcOverheadBytes: the gRPC receive limit is the request limit plus this. */
export const GRPC_OVERHEAD_BYTES = 512 * 1024;

/** The methods whose requests become Raft proposals (Range and Maintenance do not). */
const PROPOSING = new Set([
  '/etcdserverpb.KV/Put', '/etcdserverpb.KV/DeleteRange', '/etcdserverpb.KV/Txn', '/etcdserverpb.KV/Compact',
  '/etcdserverpb.Lease/LeaseGrant', '/etcdserverpb.Lease/LeaseRevoke',
]);

type Definition = grpc.ServiceDefinition;
type Implementation = grpc.UntypedServiceImplementation;

/**
 * The service with its proposing unary methods refusing requests above `maxBytes`:
 * pass both results to `grpc.Server.addService`.
 */
export function limitRequestSize(definition: Definition, handlers: Implementation, maxBytes: number): [Definition, Implementation] {
  const tooLarge = new WeakSet<object>();
  const limitedDefinition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const limitedHandlers: Implementation = { ...handlers };
  for (const [name, method] of Object.entries(definition)) {
    const handler = handlers[name];
    if (!PROPOSING.has(method.path) || method.requestStream || method.responseStream || handler === undefined) {
      limitedDefinition[name] = method;
      continue;
    }
    limitedDefinition[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer): unknown => {
        const decoded: unknown = method.requestDeserialize(bytes);
        if (bytes.length > maxBytes && typeof decoded === 'object' && decoded !== null) tooLarge.add(decoded);
        return decoded;
      },
    };
    const unary = handler as grpc.handleUnaryCall<object, unknown>;
    limitedHandlers[name] = ((call, callback) => {
      if (tooLarge.has(call.request)) {
        callback(grpcError(etcdError('requestTooLarge')));
        return;
      }
      unary(call, callback);
    }) satisfies grpc.handleUnaryCall<object, unknown>;
  }
  return [limitedDefinition, limitedHandlers];
}
