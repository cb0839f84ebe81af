// A learner serves only what etcd 3.4 lets it serve (api/v3rpc's interceptors,
// isRPCSupportedForLearner): Maintenance.Status and serializable Ranges. Every other
// unary call, and every streaming call, is refused with "etcdserver: rpc not supported
// for learner" (Unavailable, so clients move to another endpoint) — nothing is
// forwarded to the leader on its behalf.

import * as grpc from '@grpc/grpc-js';
import { etcdError } from '../../core/errors.js';
import { grpcError } from '../wire/status.js';

const STATUS = '/etcdserverpb.Maintenance/Status';
const RANGE = '/etcdserverpb.KV/Range';

/** Whether a learner may serve this unary call with this request. */
export function supportedForLearner(path: string, request: unknown): boolean {
  if (path === STATUS) return true;
  if (path !== RANGE) return false;
  return typeof request === 'object' && request !== null && (request as { serializable?: unknown }).serializable === true;
}

export function learnerGuard(isLearner: () => boolean): grpc.ServerInterceptor {
  return (descriptor, call) => {
    // Decided when the call starts: a voter's calls only pass through.
    if (!isLearner()) return new grpc.ServerInterceptingCall(call);
    const streaming = descriptor.requestStream || descriptor.responseStream;
    let refused = false;
    const intercepting: grpc.ServerInterceptingCall = new grpc.ServerInterceptingCall(call, new grpc.ResponderBuilder()
      .withStart((next) => {
        next(new grpc.ServerListenerBuilder()
          .withOnReceiveMetadata((metadata, nextMetadata) => {
            // Streams are refused at once, as etcd's stream interceptor does.
            if (streaming) refuse();
            else nextMetadata(metadata);
          })
          .withOnReceiveMessage((message, nextMessage) => {
            if (refused) return;
            if (!streaming && !supportedForLearner(descriptor.path, message)) refuse();
            else nextMessage(message);
          })
          .withOnReceiveHalfClose((nextHalfClose) => { if (!refused) nextHalfClose(); })
          .build());
      })
      .build());
    const refuse = (): void => {
      refused = true;
      const { code, details } = grpcError(etcdError('notSupportedForLearner'));
      intercepting.sendStatus({ code: code ?? grpc.status.UNAVAILABLE, details: details ?? '', metadata: new grpc.Metadata() });
    };
    return intercepting;
  };
}
