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
import { electionHandlers } from './election.js';
import { lockHandlers } from './lock.js';
import { RecipeCalls } from './recipeCalls.js';
import { DEFAULT_MAX_REQUEST_BYTES, limitRequestSize } from './requestLimit.js';
import { watchHandlers, watchOpener, type WatchOpener } from './watch.js';

export { ETCD_VERSION, singleMemberContext, type ServiceContext } from './context.js';

/** A service's definition and handlers, as grpc.Server.addService takes them (the JSON gateway calls the same handlers). */
export type RegisteredService = readonly [grpc.ServiceDefinition, grpc.UntypedServiceImplementation];

/** What the host holds of the services it added: calls to end when the member stops. */
export interface EtcdServicesHandle {
  /** Ends every Lock, Campaign and Observe call still waiting (UNAVAILABLE "etcdserver: server stopped"). */
  stop(): void;
}

/** etcd's services over `context`, and how to end their waiting calls. */
export interface EtcdServices extends EtcdServicesHandle {
  readonly services: RegisteredService[];
  /** Opens a Watch stream on another transport than grpc-js (net/grpcDirect), over the same hub and leader monitor. */
  readonly openWatch: WatchOpener;
}

/** `maxRequestBytes`: etcd's --max-request-bytes for the requests that become proposals. */
export function etcdServices(context: ServiceContext, maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES): EtcdServices {
  const services = loadEtcdServices();
  const monitor = new LeaderMonitor(context.server, context.electionMs ?? 1000);
  const recipeCalls = new RecipeCalls();
  const openWatch = watchOpener(context, monitor);
  return {
    openWatch,
    services: [
      limitRequestSize(services.kv, kvHandlers(context), maxRequestBytes),
      [services.watch, watchHandlers(openWatch)],
      limitRequestSize(services.lease, leaseHandlers(context, monitor), maxRequestBytes),
      [services.maintenance, maintenanceHandlers(context)],
      [services.auth, authHandlers(context, context.passwords ?? bcryptPasswords())],
      [services.health, healthHandlers(context)],
      [services.lock, lockHandlers(context, recipeCalls)],
      [services.election, electionHandlers(context, recipeCalls)],
    ],
    stop: () => { recipeCalls.stopAll(); },
  };
}

/** Every service on `grpcServer`, and the 3.5 methods etcd 3.4 answers as unknown. */
export function addEtcdServices(grpcServer: grpc.Server, context: ServiceContext, maxRequestBytes = DEFAULT_MAX_REQUEST_BYTES): EtcdServicesHandle {
  const made = etcdServices(context, maxRequestBytes);
  for (const [definition, handlers] of made.services) grpcServer.addService(definition, handlers);
  addLaterMethods(grpcServer);
  return { stop: () => { made.stop(); } };
}
