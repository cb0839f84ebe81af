// etcd's gRPC services over a member's EtcdServer core, one module per service under
// services/: this registers them all on a grpc-js server.

import type * as grpc from '@grpc/grpc-js';
import { loadEtcdServices } from '../proto/load.js';
import { bcryptPasswords } from '../auth/passwords.js';
import { authHandlers } from './auth.js';
import type { ServiceContext } from './context.js';
import { healthHandlers } from './health.js';
import { kvHandlers } from './kv.js';
import { LeaderMonitor } from './leaderMonitor.js';
import { leaseHandlers } from './lease.js';
import { maintenanceHandlers } from './maintenance.js';
import { DEFAULT_MAX_REQUEST_BYTES, limitRequestSize } from './requestLimit.js';
import { watchHandlers } from './watch.js';

export { ETCD_VERSION, singleMemberContext, type ServiceContext } from './context.js';

/** A service's definition and handlers, as grpc.Server.addService takes them (the JSON gateway calls the same handlers). */
export type RegisteredService = readonly [grpc.ServiceDefinition, grpc.UntypedServiceImplementation];

/** `maxRequestBytes`: etcd's --max-request-bytes for the requests that become proposals. */
export function etcdServices(context: ServiceContext, maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES): RegisteredService[] {
  const services = loadEtcdServices();
  const monitor = new LeaderMonitor(context.server, context.electionMs ?? 1000);
  return [
    limitRequestSize(services.kv, kvHandlers(context), maxRequestBytes),
    [services.watch, watchHandlers(context, monitor)],
    limitRequestSize(services.lease, leaseHandlers(context, monitor), maxRequestBytes),
    [services.maintenance, maintenanceHandlers(context)],
    [services.auth, authHandlers(context, context.passwords ?? bcryptPasswords())],
    [services.health, healthHandlers(context)],
  ];
}

export function addEtcdServices(grpcServer: grpc.Server, context: ServiceContext, maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES): void {
  for (const [definition, handlers] of etcdServices(context, maxRequestBytes)) grpcServer.addService(definition, handlers);
}
