// The standard gRPC health service (grpc.health.v1.Health), which etcd registers:
// the overall service "" is SERVING while the member knows a leader, NOT_SERVING
// otherwise; any other service name is unknown (Check: NOT_FOUND, as grpc-go's server
// says; Watch: SERVICE_UNKNOWN). Watch streams stay open and get the status again when
// it changes, as grpc-go's health server (which etcd 3.4.23 uses) does.

import * as grpc from '@grpc/grpc-js';
import type { Wire } from '../wire/message.js';
import { hasLeader, type ServiceContext } from './context.js';

/** How often open Watch streams' status is looked at (one timer for all of them). */
const WATCH_POLL_MS = 500;
/** A bound on open Watch streams per member; more are refused with RESOURCE_EXHAUSTED. */
export const MAX_HEALTH_WATCHERS = 1024;

type Status = 'SERVING' | 'NOT_SERVING';

export function healthHandlers(context: ServiceContext): grpc.UntypedServiceImplementation {
  const status = (): Status => (hasLeader(context.server) ? 'SERVING' : 'NOT_SERVING');
  const check: grpc.handleUnaryCall<Wire, Wire> = (rpc, callback) => {
    if (rpc.request['service'] !== '') {
      callback({ code: grpc.status.NOT_FOUND, details: 'unknown service' });
      return;
    }
    callback(null, { status: status() });
  };
  const watchers = new HealthWatchers(status);
  const watch: grpc.handleServerStreamingCall<Wire, Wire> = (call) => {
    if (call.request['service'] !== '') {
      call.write({ status: 'SERVICE_UNKNOWN' }); // and the stream stays open, as grpc-go's
      return;
    }
    if (!watchers.add(call)) {
      call.emit('error', { code: grpc.status.RESOURCE_EXHAUSTED, details: 'too many health watchers', metadata: new grpc.Metadata() });
    }
  };
  return { Check: check, Watch: watch };
}

/** Open Watch streams of the overall service, and the one timer that looks for changes. */
class HealthWatchers {
  private readonly open = new Map<grpc.ServerWritableStream<Wire, Wire>, Status>();
  private timer: NodeJS.Timeout | null = null;

  constructor(private readonly status: () => Status) {}

  add(call: grpc.ServerWritableStream<Wire, Wire>): boolean {
    if (this.open.size >= MAX_HEALTH_WATCHERS) return false;
    const now = this.status();
    this.open.set(call, now);
    call.write({ status: now });
    const forget = (): void => { this.remove(call); };
    call.once('cancelled', forget);
    call.once('close', forget);
    call.once('error', forget);
    this.timer ??= setInterval(() => { this.poll(); }, WATCH_POLL_MS);
    return true;
  }

  private remove(call: grpc.ServerWritableStream<Wire, Wire>): void {
    this.open.delete(call);
    if (this.open.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  private poll(): void {
    const now = this.status();
    for (const [call, sent] of this.open) {
      if (sent === now) continue;
      this.open.set(call, now);
      call.write({ status: now });
    }
  }
}
