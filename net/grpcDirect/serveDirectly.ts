// Puts the direct path (directCalls.ts) in front of a grpc-js server's injected
// connections, for the services exactly as they were registered on it.

import type * as grpc from '@grpc/grpc-js';
import { invariant } from '../../core/util/invariant.js';
import type { GrpcCallMetrics } from '../metrics/grpcMetrics.js';
import type { RegisteredService } from '../services/register.js';
import type { WatchOpener } from '../services/watch.js';
import { DirectCalls } from './directCalls.js';
import { serveInjectedStreamsFirst } from './takeover.js';
import { DIRECT_UNARY_PATHS, directMethods, type DirectMethod } from './unaryCall.js';
import { WATCH_PATH, type DirectWatch } from './watchCall.js';

export interface DirectServing {
  /** Right after its createConnectionInjector: that injector's connections are served here first. */
  readonly server: grpc.Server;
  /** The services as added to `server` (the same definitions and handlers). */
  readonly services: readonly RegisteredService[];
  /** The Watch service's opener (register.ts's etcdServices). */
  readonly openWatch: WatchOpener;
  readonly calls: GrpcCallMetrics;
  /** The server's grpc.max_receive_message_length. */
  readonly maxReceiveBytes: number;
  /** While true, every call goes to grpc-js (a learner's calls pass its guard there). */
  readonly leaveToGrpc: () => boolean;
}

export function serveDirectly(options: DirectServing): DirectCalls {
  const unary = new Map<string, DirectMethod>();
  let watch: DirectWatch | null = null;
  for (const [definition, handlers] of options.services) {
    for (const [path, method] of directMethods(definition, handlers)) unary.set(path, method);
    const method = Object.values(definition).find((m) => m.path === WATCH_PATH);
    if (method !== undefined) {
      watch = { shape: method, deserialize: method.requestDeserialize, serialize: method.responseSerialize, open: options.openWatch };
    }
  }
  invariant(unary.size === DIRECT_UNARY_PATHS.size, 'every direct unary path has a registered method');
  invariant(watch !== null, 'the Watch service is registered');
  const calls = new DirectCalls({
    unary, watch, maxReceiveBytes: options.maxReceiveBytes, calls: options.calls, leaveToGrpc: options.leaveToGrpc,
  });
  serveInjectedStreamsFirst(options.server, calls.serve);
  return calls;
}
