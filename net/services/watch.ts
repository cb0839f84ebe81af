// etcd's Watch service: one bidirectional stream multiplexes many watchers. Each gRPC
// stream opens one core watch stream; requests (create, cancel, progress) go to it and
// its responses come back in order through the sink. The stream's end — by the client
// or by cancellation — closes the core stream, so no watcher outlives its client.

import type * as grpc from '@grpc/grpc-js';
import { etcdError } from '../../core/errors.js';
import { watchCreateRequest, watchResponse } from '../wireWatch.js';
import { int, type Wire } from '../wire.js';
import { failStream, hasLeader, requiresLeader, wireHeader, type ServiceContext } from './context.js';
import type { LeaderMonitor } from './leaderMonitor.js';

export function watchHandlers(context: ServiceContext, monitor: LeaderMonitor): grpc.UntypedServiceImplementation {
  const { server } = context;
  const head = (revision: number): Wire => wireHeader(context, server.header(revision));
  const watch: grpc.handleBidiStreamingCall<Wire, Wire> = (call) => {
    if (requiresLeader(call) && !hasLeader(server)) {
      failStream(call, etcdError('noLeader'));
      return;
    }
    let open = true;
    // Backpressure: while grpc-js holds unsent responses, take no more from the hub.
    const stream = server.openWatchStream((responses) => {
      if (!open) return;
      for (const r of responses) call.write(watchResponse(r, head));
    }, () => !call.writableNeedDrain);
    call.on('drain', () => { stream.resume(); });
    const release = requiresLeader(call) ? monitor.track(() => {
      close();
      failStream(call, etcdError('noLeader'));
    }) : (): void => undefined;
    const close = (): void => {
      if (!open) return;
      open = false;
      stream.close();
      release();
    };
    call.on('data', (request: Wire) => {
      if (!open) return;
      switch (request['request_union']) {
        case 'create_request': stream.watch(watchCreateRequest(sub(request['create_request']))); break;
        case 'cancel_request': stream.cancel(int(sub(request['cancel_request'])['watch_id'])); break;
        case 'progress_request': stream.requestProgress(); break;
        default: break; // an empty request: etcd ignores it
      }
    });
    call.on('end', () => {
      close();
      call.end();
    });
    call.on('cancelled', close);
    call.on('error', close);
    call.on('close', close);
  };
  return { Watch: watch };
}

function sub(value: unknown): Wire {
  return typeof value === 'object' && value !== null ? (value as Wire) : {};
}
