// The standard gRPC health service (grpc.health.v1.Health), which etcd registers:
// the overall service "" is SERVING while the member knows a leader, NOT_SERVING
// otherwise; any other service name is unknown (NOT_FOUND, as grpc-go's server says).

import * as grpc from '@grpc/grpc-js';
import type { Wire } from '../wire/message.js';
import { hasLeader, type ServiceContext } from './context.js';

export function healthHandlers(context: ServiceContext): grpc.UntypedServiceImplementation {
  const check: grpc.handleUnaryCall<Wire, Wire> = (rpc, callback) => {
    if (rpc.request['service'] !== '') {
      callback({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
      return;
    }
    callback(null, { status: hasLeader(context.server) ? 'SERVING' : 'NOT_SERVING' });
  };
  // Watch is not offered by etcd 3.4's health server either.
  const watch: grpc.handleServerStreamingCall<Wire, Wire> = (call) => {
    call.emit('error', { code: grpc.status.UNIMPLEMENTED, details: 'unknown method Watch', metadata: new grpc.Metadata() });
  };
  return { Check: check, Watch: watch };
}
