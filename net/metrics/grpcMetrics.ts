// grpc_server_started_total / grpc_server_handled_total as go-grpc-prometheus counts
// them for etcd: one "started" when a call arrives, one "handled" with the status code
// name when it ends, labelled by type, service and method; grpc_server_msg_received_total
// and _sent_total, one per message each way; and etcd's own
// etcd_server_client_requests_total, one per call by unary/stream and client version. A grpc-js server
// interceptor, so it counts every service, including those added later.
//
// It also counts etcd_server_proposals_failed_total: etcd increments it when a proposal
// is not applied in time or is dropped for lack of a leader, which reaches the client
// as one of the texts below.

import * as grpc from '@grpc/grpc-js';
import { LATER_METHOD_PATHS } from '../services/laterMethods.js';
import type { LabelValues } from 'prom-client';
import type { CounterCell } from './counterCells.js';
import type { GrpcLabels, GrpcType, MemberMetrics } from './memberMetrics.js';

/** grpc-go's code names ("OK", "InvalidArgument", ...), as go-grpc-prometheus prints them. */
const CODE_NAMES: ReadonlyMap<number, string> = new Map([
  [0, 'OK'], [1, 'Canceled'], [2, 'Unknown'], [3, 'InvalidArgument'], [4, 'DeadlineExceeded'], [5, 'NotFound'],
  [6, 'AlreadyExists'], [7, 'PermissionDenied'], [8, 'ResourceExhausted'], [9, 'FailedPrecondition'], [10, 'Aborted'],
  [11, 'OutOfRange'], [12, 'Unimplemented'], [13, 'Internal'], [14, 'Unavailable'], [15, 'DataLoss'], [16, 'Unauthenticated'],
]);

const FAILED_PROPOSAL_TEXTS = new Set([
  'etcdserver: request timed out', 'etcdserver: no leader', 'etcdserver: server stopped',
]);

const WATCH_PATH = '/etcdserverpb.Watch/Watch';
/** The metadata key clientv3 (and so etcdctl) sends its API version under, e.g. "3.4". */
const CLIENT_API_VERSION = 'client-api-version';

export function grpcType(method: { readonly requestStream: boolean; readonly responseStream: boolean }): GrpcType {
  if (method.requestStream) return method.responseStream ? 'bidi_stream' : 'client_stream';
  return method.responseStream ? 'server_stream' : 'unary';
}

/** "/etcdserverpb.KV/Put" → service "etcdserverpb.KV", method "Put". */
export function splitPath(path: string): { service: string; method: string } {
  const slash = path.lastIndexOf('/');
  return { service: path.slice(1, slash), method: path.slice(slash + 1) };
}

/** One method's counter cells: made at its first call, kept (the services' methods are a fixed set). */
class MethodCells {
  readonly started: CounterCell<GrpcLabels>;
  readonly received: CounterCell<GrpcLabels>;
  readonly sent: CounterCell<GrpcLabels>;
  private readonly handled = new Map<string, CounterCell<GrpcLabels | 'grpc_code'>>();

  constructor(private readonly metrics: MemberMetrics, private readonly labels: LabelValues<GrpcLabels>) {
    this.started = metrics.grpcStarted.cell(labels);
    this.received = metrics.grpcMsgReceived.cell(labels);
    this.sent = metrics.grpcMsgSent.cell(labels);
  }

  /** The "handled" cell for a status code name (at most one per grpc-go code). */
  handledWith(code: string): CounterCell<GrpcLabels | 'grpc_code'> {
    let cell = this.handled.get(code);
    if (cell === undefined) {
      cell = this.metrics.grpcHandled.cell({ grpc_code: code, ...this.labels });
      this.handled.set(code, cell);
    }
    return cell;
  }
}

export function grpcMetricsInterceptor(metrics: MemberMetrics): grpc.ServerInterceptor {
  const byPath = new Map<string, MethodCells>();
  return (descriptor, call) => {
    // Methods grpc-go does not know never reach etcd's interceptors.
    if (LATER_METHOD_PATHS.has(descriptor.path)) return new grpc.ServerInterceptingCall(call);
    let cells = byPath.get(descriptor.path);
    if (cells === undefined) {
      const { service, method } = splitPath(descriptor.path);
      // Labels in etcd's (alphabetical) order: prom-client prints them as given, and
      // etcd's e2e suite matches the printed line.
      cells = new MethodCells(metrics, { grpc_method: method, grpc_service: service, grpc_type: grpcType(descriptor) });
      byPath.set(descriptor.path, cells);
    }
    const counted = cells;
    counted.started.inc();
    const streaming = descriptor.requestStream || descriptor.responseStream;
    // One "handled" per call: a client that cancels (etcdctl watch killed) ends it as
    // Canceled, as grpc-go reports it, whatever status the handler sends afterwards.
    // etcd's Watch never ends on the client's half-close: it waits for the client to go
    // away and reports Canceled (ErrGRPCWatchCanceled). Tern ends the stream OK at the
    // half-close (watch.ts); the metric reports what etcd's would.
    const isWatch = descriptor.path === WATCH_PATH;
    let halfClosed = false;
    let handled = false;
    const handle = (code: string): void => {
      if (handled) return;
      handled = true;
      counted.handledWith(code).inc();
    };
    return new grpc.ServerInterceptingCall(call, new grpc.ResponderBuilder()
      .withStart((next) => {
        next(new grpc.ServerListenerBuilder()
          .withOnReceiveMetadata((metadata, done) => {
            // etcd's interceptors: one per call, with the version clientv3 sends ("unknown" if none).
            const version = metadata.get(CLIENT_API_VERSION)[0];
            metrics.clientRequests.inc({ client_api_version: version === undefined ? 'unknown' : String(version), type: streaming ? 'stream' : 'unary' });
            done(metadata);
          })
          .withOnReceiveMessage((message, done) => { counted.received.inc(); done(message); })
          .withOnReceiveHalfClose((done) => { halfClosed = true; done(); })
          .withOnCancel(() => { handle('Canceled'); })
          .build());
      })
      .withSendMessage((message, next) => { counted.sent.inc(); next(message); })
      .withSendStatus((status, next) => {
        handle(isWatch && halfClosed && status.code === grpc.status.OK ? 'Canceled' : CODE_NAMES.get(status.code) ?? 'Unknown');
        if (FAILED_PROPOSAL_TEXTS.has(status.details)) metrics.proposalsFailed.inc();
        next(status);
      })
      .build());
  };
}
