// etcd's gRPC services over a member's EtcdServer core, one module per service under
// services/: this registers them all on a grpc-js server.

import type * as grpc from '@grpc/grpc-js';
import { loadEtcdServices } from '../proto/load.js';
import { bcryptPasswords } from '../auth/passwords.js';
import { authHandlers } from './auth.js';
import type { ServiceContext } from './context.js';
import { healthHandlers } from './health.js';
import { kvHandlers } from './kv.js';
import { addLaterMethods } from './laterMethods.js';
import { LeaderMonitor } from './leaderMonitor.js';
import { leaseHandlers } from './lease.js';
import { maintenanceHandlers } from './maintenance.js';
import { DEFAULT_MAX_REQUEST_BYTES, limitRequestSize } from './requestLimit.js';
import { watchHandlers } from './watch.js';

export { ETCD_VERSION, singleMemberContext, type ServiceContext } from './context.js';

/** `maxRequestBytes`: etcd's --max-request-bytes for the requests that become proposals. */
export function addEtcdServices(grpcServer: grpc.Server, context: ServiceContext, maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES): void {
  const services = loadEtcdServices();
  const monitor = new LeaderMonitor(context.server, context.electionMs ?? 1000);
  grpcServer.addService(...limitRequestSize(services.kv, kvHandlers(context), maxRequestBytes));
  grpcServer.addService(services.watch, watchHandlers(context, monitor));
  grpcServer.addService(...limitRequestSize(services.lease, leaseHandlers(context, monitor), maxRequestBytes));
  grpcServer.addService(services.maintenance, maintenanceHandlers(context));
  grpcServer.addService(services.auth, authHandlers(context, context.passwords ?? bcryptPasswords()));
  grpcServer.addService(services.health, healthHandlers(context));
  addLaterMethods(grpcServer);
}
