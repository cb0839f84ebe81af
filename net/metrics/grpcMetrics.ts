// grpc_server_started_total / grpc_server_handled_total as go-grpc-prometheus counts
// them for etcd: one "started" when a call arrives, one "handled" with the status code
// name when it ends, labelled by type, service and method; grpc_server_msg_received_total
// and _sent_total, one per message each way; and etcd's own
// etcd_server_client_requests_total, one per call by unary/stream and client version. A grpc-js server
// interceptor counts every call grpc-js serves, including services added later;
// net/grpcDirect counts the calls it serves itself through the same CallCount.
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

const OK: number = grpc.status.OK;
const WATCH_PATH = '/etcdserverpb.Watch/Watch';
/** The metadata key clientv3 (and so etcdctl) sends its API version under, e.g. "3.4". */
export const CLIENT_API_VERSION = 'client-api-version';

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

/** A method as grpc-js describes it: its path and whether each side streams. */
export interface MethodShape {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

/**
 * The counters of every call of the client-port server: the interceptor below counts
 * the calls grpc-js serves, net/grpcDirect the unary calls it serves itself, each call
 * through one `CallCount`, so both count alike.
 */
export class GrpcCallMetrics {
  private readonly byPath = new Map<string, MethodCells>();

  constructor(private readonly metrics: MemberMetrics) {}

  /** A call arrives: counts it "started"; null for methods grpc-go does not know (never counted). */
  begin(method: MethodShape): CallCount | null {
    if (LATER_METHOD_PATHS.has(method.path)) return null;
    let cells = this.byPath.get(method.path);
    if (cells === undefined) {
      const { service, method: name } = splitPath(method.path);
      // Labels in etcd's (alphabetical) order: prom-client prints them as given, and
      // etcd's e2e suite matches the printed line.
      cells = new MethodCells(this.metrics, { grpc_method: name, grpc_service: service, grpc_type: grpcType(method) });
      this.byPath.set(method.path, cells);
    }
    cells.started.inc();
    return new CallCount(this.metrics, cells, method);
  }
}

/** One call's counting: its metadata, messages and the one "handled" at its end. */
export class CallCount {
  private readonly streaming: boolean;
  /**
   * etcd's Watch never ends on the client's half-close: it waits for the client to go
   * away and reports Canceled (ErrGRPCWatchCanceled). Tern ends the stream OK at the
   * half-close (watch.ts); the metric reports what etcd's would.
   */
  private readonly isWatch: boolean;
  private halfClosed = false;
  private handled = false;

  constructor(private readonly metrics: MemberMetrics, private readonly cells: MethodCells, method: MethodShape) {
    this.streaming = method.requestStream || method.responseStream;
    this.isWatch = method.path === WATCH_PATH;
  }

  /** etcd's interceptors count one client request per call, by the version clientv3 sends ("unknown" if none). */
  metadata(clientApiVersion: string | undefined): void {
    this.metrics.clientRequests.inc({ client_api_version: clientApiVersion ?? 'unknown', type: this.streaming ? 'stream' : 'unary' });
  }

  received(): void {
    this.cells.received.inc();
  }

  sent(): void {
    this.cells.sent.inc();
  }

  halfClose(): void {
    this.halfClosed = true;
  }

  /** The client went away: Canceled, as grpc-go reports it, whatever status the handler sends afterwards. */
  cancelled(): void {
    this.handle('Canceled');
  }

  status(code: number, details: string): void {
    this.handle(this.isWatch && this.halfClosed && code === OK ? 'Canceled' : CODE_NAMES.get(code) ?? 'Unknown');
    if (FAILED_PROPOSAL_TEXTS.has(details)) this.metrics.proposalsFailed.inc();
  }

  /** One "handled" per call. */
  private handle(code: string): void {
    if (this.handled) return;
    this.handled = true;
    this.cells.handledWith(code).inc();
  }
}

export function grpcMetricsInterceptor(metrics: MemberMetrics | GrpcCallMetrics): grpc.ServerInterceptor {
  const calls = metrics instanceof GrpcCallMetrics ? metrics : new GrpcCallMetrics(metrics);
  return (descriptor, call) => {
    const count = calls.begin(descriptor);
    if (count === null) return new grpc.ServerInterceptingCall(call);
    return new grpc.ServerInterceptingCall(call, new grpc.ResponderBuilder()
      .withStart((next) => {
        next(new grpc.ServerListenerBuilder()
          .withOnReceiveMetadata((metadata, done) => {
            const version = metadata.get(CLIENT_API_VERSION)[0];
            count.metadata(version === undefined ? undefined : String(version));
            done(metadata);
          })
          .withOnReceiveMessage((message, done) => { count.received(); done(message); })
          .withOnReceiveHalfClose((done) => { count.halfClose(); done(); })
          .withOnCancel(() => { count.cancelled(); })
          .build());
      })
      .withSendMessage((message, next) => { count.sent(); next(message); })
      .withSendStatus((status, next) => {
        count.status(status.code, status.details);
        next(status);
      })
      .build());
  };
}
