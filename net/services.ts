// etcd's gRPC services over a member's EtcdServer core, one module per service under
// services/: this registers them all on a grpc-js server.

import type * as grpc from '@grpc/grpc-js';
import { loadEtcdServices } from './protos.js';
import { authHandlers } from './services/auth.js';
import type { ServiceContext } from './services/context.js';
import { healthHandlers } from './services/health.js';
import { kvHandlers } from './services/kv.js';
import { LeaderMonitor } from './services/leaderMonitor.js';
import { leaseHandlers } from './services/lease.js';
import { maintenanceHandlers } from './services/maintenance.js';
import { watchHandlers } from './services/watch.js';

export { ETCD_VERSION, singleMemberContext, type ServiceContext } from './services/context.js';

export function addEtcdServices(grpcServer: grpc.Server, context: ServiceContext): void {
  const services = loadEtcdServices();
  const monitor = new LeaderMonitor(context.server, context.electionMs ?? 1000);
  grpcServer.addService(services.kv, kvHandlers(context));
  grpcServer.addService(services.watch, watchHandlers(context, monitor));
  grpcServer.addService(services.lease, leaseHandlers(context, monitor));
  grpcServer.addService(services.maintenance, maintenanceHandlers(context));
  grpcServer.addService(services.auth, authHandlers(context));
  grpcServer.addService(services.health, healthHandlers(context));
}
