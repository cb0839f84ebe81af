// The hot unary calls (KV Range, Put, DeleteRange, Txn) served straight off node:http2,
// without grpc-js's per-call machinery: its intercepting-call chain (two interceptors,
// each with builders and listeners per call), its stream wrappers and its queue. Under
// put c=256 that machinery was ~25% of a member's main thread (docs/bench.md).
//
// What the client sees must be what grpc-js would have sent, byte for byte where it
// matters: the same response headers, one length-prefixed message, the same trailers,
// the same status codes and texts for every error grpc-js itself produces (too large,
// no or two messages, undecodable, deadline). The handlers are the very functions
// registered with grpc-js, over the same (counting, strict) definitions. A call of any
// other shape — not gRPC's content type, a compressed request, an unparsable deadline,
// a member that is a learner — is left to grpc-js, which answers it as it always did.
// test/net/grpcDirect compares both paths on the wire.

import * as grpc from '@grpc/grpc-js';
import * as http2 from 'node:http2';
import process from 'node:process';
import { TLSSocket } from 'node:tls';
import { invariant } from '../../core/util/invariant.js';
import { CLIENT_API_VERSION, type CallCount, type GrpcCallMetrics, type MethodShape } from '../metrics/grpcMetrics.js';
import type { CallerView } from '../services/context.js';

/** What a unary handler registered by Tern reads of its call: the request and what credentialsOf reads. */
export interface UnaryCallView extends CallerView {
  readonly request: unknown;
  readonly cancelled: boolean;
  getPeer(): string;
  getDeadline(): number;
  getPath(): string;
}

export type DirectCallback = (error: unknown, value?: unknown) => void;
export type DirectHandler = (call: UnaryCallView, callback: DirectCallback) => void;

/** A method the direct path serves: its definition's (de)serializers and its handler, as registered with grpc-js. */
export interface DirectMethod {
  readonly shape: MethodShape;
  readonly deserialize: (bytes: Buffer) => unknown;
  readonly serialize: (value: unknown) => Buffer;
  readonly handler: DirectHandler;
}

export interface DirectCallsOptions {
  readonly methods: ReadonlyMap<string, DirectMethod>;
  /** grpc-js's grpc.max_receive_message_length for the same server. */
  readonly maxReceiveBytes: number;
  readonly calls: GrpcCallMetrics;
  /** While true, every call goes to grpc-js (a learner's calls must pass its guard there). */
  readonly leaveToGrpc: () => boolean;
}

/** The KV methods served directly (everything else stays on grpc-js). */
export const DIRECT_PATHS: ReadonlySet<string> = new Set([
  '/etcdserverpb.KV/Range', '/etcdserverpb.KV/Put', '/etcdserverpb.KV/DeleteRange', '/etcdserverpb.KV/Txn',
]);

/**
 * The direct paths among a service's methods, over the definition and handlers exactly
 * as they are registered with grpc-js (so counting, strict decoding and size limits stay).
 */
export function directMethods(definition: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation): [string, DirectMethod][] {
  const methods: [string, DirectMethod][] = [];
  for (const [name, method] of Object.entries(definition)) {
    if (!DIRECT_PATHS.has(method.path)) continue;
    invariant(!method.requestStream && !method.responseStream, () => `${method.path} is not unary`);
    methods.push([method.path, {
      shape: method, deserialize: method.requestDeserialize, serialize: method.responseSerialize, handler: directHandler(handlers[name]),
    }]);
  }
  return methods;
}

/**
 * Tern's unary handlers take only a UnaryCallView (context.ts's `unary`, requestLimit.ts);
 * grpc-js types them over its full call object. This is the one place that relies on it.
 */
function directHandler(handler: grpc.UntypedHandleCall | undefined): DirectHandler {
  invariant(typeof handler === 'function', 'a direct method needs its unary handler');
  return handler as unknown as DirectHandler;
}

// grpc-js's own values (server-interceptors.js, stream-decoder.js, server.js of 1.14.7).
const DEADLINE_PATTERN = /(\d{1,8})\s*([HMSmun])/;
const DEADLINE_UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 0.001, n: 0.000_001 };
const RESPONSE_HEADERS: http2.OutgoingHttpHeaders = {
  [http2.constants.HTTP2_HEADER_STATUS]: http2.constants.HTTP_STATUS_OK,
  [http2.constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc+proto',
  'grpc-accept-encoding': 'identity,deflate,gzip',
  'grpc-encoding': 'identity',
};
/** Headers grpc-js removes from the metadata it hands handlers. */
const NOT_METADATA = ['grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'accept-encoding', 'te', 'content-type'];
const SEND_ERROR_DETAILS = process.env['GRPC_NODE_DEBUG_SEND_ERROR_DETAILS'] === 'true';
const FRAME_HEADER_BYTES = 5;

interface Status {
  readonly code: number;
  readonly details: string;
  readonly metadata: grpc.Metadata | null;
}

export class DirectUnaryCalls {
  /** Calls served here so far (not left to grpc-js). */
  served = 0;

  constructor(private readonly options: DirectCallsOptions) {
    invariant(options.maxReceiveBytes > 0, 'the receive limit must be positive');
  }

  /** A 'stream' listener's first look (takeover.ts): serves a well-formed call of a direct method, else returns false. */
  readonly serve = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): boolean => {
    const method = this.options.methods.get(headers[':path'] ?? '');
    if (method === undefined) return false;
    const contentType = headers['content-type'];
    if (typeof contentType !== 'string' || !contentType.startsWith('application/grpc')) return false;
    const encoding = headers['grpc-encoding'];
    if (encoding !== undefined && encoding !== 'identity') return false;
    const timeout = headers['grpc-timeout'];
    let timeoutMs: number | null = null;
    if (timeout !== undefined) {
      const match = typeof timeout === 'string' ? DEADLINE_PATTERN.exec(timeout) : null;
      if (match === null) return false;
      timeoutMs = (Number(match[1]) * (DEADLINE_UNIT_MS[match[2] ?? ''] ?? 0)) | 0;
    }
    if (this.options.leaveToGrpc()) return false;
    this.served++;
    new DirectCall(stream, headers, method, this.options, timeoutMs).start();
    return true;
  };
}

/** One unary call, from its headers to its trailers. */
class DirectCall implements UnaryCallView {
  private readonly count: CallCount | null;
  private readonly deadline: number;
  private timer: NodeJS.Timeout | null = null;
  /** Bytes received and not yet a whole message. */
  private pending: Buffer = Buffer.alloc(0);
  /** The decoded request, once its message arrived. */
  request: unknown = undefined;
  private messages = 0;
  /** A status went out, or the client went away: nothing more is sent. */
  private done = false;
  /** The stream closed before the call's answer. */
  private clientLeft = false;
  private metadataValue: grpc.Metadata | null = null;

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    private readonly headers: http2.IncomingHttpHeaders,
    private readonly method: DirectMethod,
    private readonly options: DirectCallsOptions,
    timeoutMs: number | null,
  ) {
    this.count = options.calls.begin(method.shape);
    this.deadline = timeoutMs === null ? Infinity : Date.now() + timeoutMs;
    if (timeoutMs !== null) {
      this.timer = setTimeout(() => { this.finish({ code: grpc.status.DEADLINE_EXCEEDED, details: 'Deadline exceeded', metadata: null }); }, timeoutMs);
    }
  }

  start(): void {
    const stream = this.stream;
    // As grpc-js: an error event always comes with a close, which ends the call.
    stream.once('error', () => undefined);
    stream.once('close', () => { this.onClose(); });
    const version = this.headers[CLIENT_API_VERSION];
    this.count?.metadata(typeof version === 'string' ? version : undefined);
    stream.on('data', (chunk: Buffer) => { this.onData(chunk); });
    stream.once('end', () => { this.onEnd(); });
  }

  // ------------------------------------------------------------ what the handler sees

  get cancelled(): boolean {
    return this.clientLeft;
  }

  get metadata(): grpc.Metadata {
    if (this.metadataValue === null) {
      const metadata = grpc.Metadata.fromHttp2Headers(this.headers);
      for (const key of NOT_METADATA) metadata.remove(key);
      this.metadataValue = metadata;
    }
    return this.metadataValue;
  }

  getAuthContext(): ReturnType<CallerView['getAuthContext']> {
    const socket = this.stream.session?.socket;
    if (!(socket instanceof TLSSocket) || !socket.authorized) return {};
    const certificate = socket.getPeerCertificate();
    // As grpc-js: node's types say `raw` is always there; without a certificate the object is empty.
    const raw: unknown = certificate.raw;
    return raw instanceof Buffer ? { sslPeerCertificate: certificate } : {};
  }

  getPeer(): string {
    const socket = this.stream.session?.socket;
    if (socket?.remoteAddress === undefined) return 'unknown';
    return socket.remotePort === undefined ? socket.remoteAddress : `${socket.remoteAddress}:${socket.remotePort}`;
  }

  getDeadline(): number {
    return this.deadline;
  }

  getPath(): string {
    return this.method.shape.path;
  }

  // ------------------------------------------------------------ reading the request

  private onData(chunk: Buffer): void {
    if (this.done) return; // answered early (too large, two messages): the rest is read and dropped, as grpc-js does
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (!this.answered() && this.pending.length >= FRAME_HEADER_BYTES) {
      const length = this.pending.readUInt32BE(1);
      const max = this.options.maxReceiveBytes;
      if (length > max) {
        this.finish({ code: grpc.status.RESOURCE_EXHAUSTED, details: `Received message larger than max (${length} vs ${max})`, metadata: null });
        return;
      }
      if (this.pending.length < FRAME_HEADER_BYTES + length) return;
      // The compressed flag is ignored, as grpc-js does when the call's encoding is identity.
      const message = this.pending.subarray(FRAME_HEADER_BYTES, FRAME_HEADER_BYTES + length);
      this.pending = this.pending.subarray(FRAME_HEADER_BYTES + length);
      this.onMessage(message);
    }
  }

  /** A call, so that the compiler does not assume onMessage cannot have answered. */
  private answered(): boolean {
    return this.done;
  }

  private onMessage(bytes: Buffer): void {
    let request: unknown;
    try {
      request = this.method.deserialize(bytes);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.finish({ code: grpc.status.INTERNAL, details: SEND_ERROR_DETAILS ? `Error deserializing request: ${reason}` : 'Error deserializing request', metadata: null });
      return;
    }
    this.count?.received();
    if (++this.messages > 1) {
      this.finish({ code: grpc.status.UNIMPLEMENTED, details: `Received a second request message for server streaming method ${this.method.shape.path}`, metadata: null });
      return;
    }
    this.request = request;
  }

  private onEnd(): void {
    if (this.done) return;
    this.count?.halfClose();
    if (this.messages === 0) {
      this.finish({ code: grpc.status.UNIMPLEMENTED, details: `Received no request message for server streaming method ${this.method.shape.path}`, metadata: null });
      return;
    }
    this.method.handler(this, (error, value) => { this.onAnswer(error, value); });
  }

  // ------------------------------------------------------------ answering

  private onAnswer(error: unknown, value: unknown): void {
    if (this.done || this.stream.destroyed || this.stream.closed) return;
    if (error !== null && error !== undefined) {
      this.finish(statusOf(error));
      return;
    }
    let message: Buffer;
    try {
      message = this.method.serialize(value);
    } catch (e) {
      const reason = e instanceof Error ? e.message : String(e);
      this.finish({ code: grpc.status.INTERNAL, details: SEND_ERROR_DETAILS ? `Error serializing response: ${reason}` : 'Error serializing response', metadata: null });
      return;
    }
    const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + message.length);
    frame.writeUInt8(0, 0);
    frame.writeUInt32BE(message.length, 1);
    message.copy(frame, FRAME_HEADER_BYTES);
    this.count?.sent();
    this.done = true;
    this.clearTimer();
    const stream = this.stream;
    this.count?.status(grpc.status.OK, 'OK');
    stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
    stream.once('wantTrailers', () => { stream.sendTrailers({ 'grpc-status': grpc.status.OK, 'grpc-message': 'OK' }); });
    stream.end(frame);
  }

  /** Ends the call with a status and no message: gRPC's trailers-only response, as grpc-js sends it. */
  private finish(status: Status): void {
    if (this.done) return;
    this.done = true;
    this.clearTimer();
    if (this.stream.destroyed || this.stream.closed) return;
    this.count?.status(status.code, status.details);
    this.stream.respond({
      'grpc-status': status.code,
      'grpc-message': encodeURI(status.details),
      [http2.constants.HTTP2_HEADER_STATUS]: http2.constants.HTTP_STATUS_OK,
      [http2.constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc+proto',
      ...status.metadata?.toHttp2Headers(),
    }, { endStream: true });
  }

  private onClose(): void {
    this.clearTimer();
    if (this.done) return;
    // The client went away (or the session ended) before an answer.
    this.done = true;
    this.clientLeft = true;
    this.count?.cancelled();
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** grpc-js's serverErrorToStatus: what a handler's error becomes on the wire. */
function statusOf(error: unknown): Status {
  if (typeof error !== 'object' || error === null) return { code: grpc.status.UNKNOWN, details: 'Unknown Error', metadata: null };
  const fields = error as { readonly code?: unknown; readonly details?: unknown; readonly message?: unknown; readonly metadata?: unknown };
  const metadata = fields.metadata instanceof grpc.Metadata ? fields.metadata : null;
  let details = 'message' in error ? String(fields.message) : 'Unknown Error';
  if (typeof fields.code === 'number' && Number.isInteger(fields.code)) {
    if (typeof fields.details === 'string') details = fields.details;
    return { code: fields.code, details, metadata };
  }
  return { code: grpc.status.UNKNOWN, details, metadata };
}
