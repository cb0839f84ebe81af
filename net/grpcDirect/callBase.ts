// What every call served directly (directCalls.ts) shares with grpc-js's own calls:
// reading length-prefixed messages off the HTTP/2 stream within the receive limit,
// the metadata and auth context handlers read, the response headers before the first
// message, the status in trailers (or a trailers-only response when nothing was sent),
// the deadline, and the client going away. Texts and headers are grpc-js 1.14.7's
// (server-interceptors.js, stream-decoder.js).

import * as grpc from '@grpc/grpc-js';
import * as http2 from 'node:http2';
import process from 'node:process';
import { TLSSocket } from 'node:tls';
import { CLIENT_API_VERSION, type CallCount, type GrpcCallMetrics, type MethodShape } from '../metrics/grpcMetrics.js';
import type { CallerView } from '../services/context.js';

export const RESPONSE_HEADERS: http2.OutgoingHttpHeaders = {
  [http2.constants.HTTP2_HEADER_STATUS]: http2.constants.HTTP_STATUS_OK,
  [http2.constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc+proto',
  'grpc-accept-encoding': 'identity,deflate,gzip',
  'grpc-encoding': 'identity',
};
/** Headers grpc-js removes from the metadata it hands handlers. */
const NOT_METADATA = ['grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding', 'accept-encoding', 'te', 'content-type'];
export const SEND_ERROR_DETAILS = process.env['GRPC_NODE_DEBUG_SEND_ERROR_DETAILS'] === 'true';
const FRAME_HEADER_BYTES = 5;

export interface CallStatus {
  readonly code: number;
  readonly details: string;
  readonly metadata: grpc.Metadata | null;
}

/** How one call was asked for: its stream and headers, its method, the receive limit and counters, its deadline. */
export interface CallStart {
  readonly stream: http2.ServerHttp2Stream;
  readonly headers: http2.IncomingHttpHeaders;
  readonly shape: MethodShape;
  /** The method's request deserializer and response serializer, as registered with grpc-js. */
  readonly deserialize: (bytes: Buffer) => unknown;
  readonly serialize: (value: unknown) => Buffer;
  readonly maxReceiveBytes: number;
  readonly calls: GrpcCallMetrics;
  /** From grpc-timeout; null: none. */
  readonly timeoutMs: number | null;
}

/** One length-prefixed gRPC message of `message`'s bytes (the compressed flag 0, as grpc-js sends). */
function framed(message: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(FRAME_HEADER_BYTES + message.length);
  frame.writeUInt8(0, 0);
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, FRAME_HEADER_BYTES);
  return frame;
}

export abstract class DirectCallBase implements CallerView {
  protected readonly stream: http2.ServerHttp2Stream;
  protected readonly count: CallCount | null;
  protected readonly path: string;
  private readonly headers: http2.IncomingHttpHeaders;
  private readonly deserialize: (bytes: Buffer) => unknown;
  private readonly serialize: (value: unknown) => Buffer;
  private readonly maxReceiveBytes: number;
  private readonly deadline: number;
  private timer: NodeJS.Timeout | null = null;
  /** Bytes received and not yet a whole message, as they came (joined once per message). */
  private readonly chunks: Buffer[] = [];
  private buffered = 0;
  private headersSent = false;
  /** A status went out, or the client went away: nothing more is sent. */
  private ended = false;
  /** The stream closed before the call's status. */
  private clientLeft = false;
  private metadataValue: grpc.Metadata | null = null;

  constructor(start: CallStart) {
    this.stream = start.stream;
    this.headers = start.headers;
    this.path = start.shape.path;
    this.deserialize = start.deserialize;
    this.serialize = start.serialize;
    this.maxReceiveBytes = start.maxReceiveBytes;
    this.count = start.calls.begin(start.shape);
    this.deadline = start.timeoutMs === null ? Infinity : Date.now() + start.timeoutMs;
    if (start.timeoutMs !== null) {
      this.timer = setTimeout(() => { this.endWith({ code: grpc.status.DEADLINE_EXCEEDED, details: 'Deadline exceeded', metadata: null }); }, start.timeoutMs);
    }
  }

  /** Listens to the stream; the subclass's `began` runs first. */
  start(): void {
    const stream = this.stream;
    // As grpc-js: an error event always comes with a close, which ends the call.
    stream.once('error', () => undefined);
    stream.once('close', () => { this.onClose(); });
    const version = this.metadata.get(CLIENT_API_VERSION)[0];
    this.count?.metadata(version === undefined ? undefined : String(version));
    this.began();
    stream.on('data', (chunk: Buffer) => { this.onData(chunk); });
    stream.once('end', () => {
      if (this.ended) return;
      this.count?.halfClose();
      this.halfClosed();
    });
  }

  // ------------------------------------------------------------ what a subclass does

  /** The call began (its metadata is in); no message yet. */
  protected abstract began(): void;
  /** One request message arrived, decoded (and counted). */
  protected abstract received(request: unknown): void;
  /** The client sent its last message. */
  protected abstract halfClosed(): void;
  /** The call ended (its status went out, or the client left): let go of what it holds. Called once. */
  protected abstract gone(): void;

  // ------------------------------------------------------------ what handlers read (CallerView)

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
    return this.path;
  }

  // ------------------------------------------------------------ sending

  /** True once the call has its status (or the client left): sends are dropped. */
  protected isEnded(): boolean {
    return this.ended || this.stream.destroyed || this.stream.closed;
  }

  /**
   * Sends one message, encoded by the method's serializer (response headers first,
   * before the first one). False: it could not be encoded, and the call ended INTERNAL.
   */
  protected sendMessage(value: unknown): boolean {
    if (this.isEnded()) return false;
    let message: Buffer;
    try {
      message = this.serialize(value);
    } catch (error) {
      this.endWithError(grpc.status.INTERNAL, 'Error serializing response', 'Error serializing response: ', error);
      return false;
    }
    this.count?.sent();
    if (!this.headersSent) {
      this.headersSent = true;
      this.stream.respond(RESPONSE_HEADERS, { waitForTrailers: true });
    }
    this.stream.write(framed(message));
    return true;
  }

  /** Ends the call with `status`: in trailers after messages, else as gRPC's trailers-only response. */
  protected endWith(status: CallStatus): void {
    if (this.ended) return;
    this.ended = true;
    this.clearTimer();
    if (this.stream.destroyed || this.stream.closed) {
      // The stream went before its close event: the call ends as the client's leaving does.
      this.clientLeft = true;
      this.count?.cancelled();
      this.gone();
      return;
    }
    this.count?.status(status.code, status.details);
    const code = { 'grpc-status': status.code, 'grpc-message': encodeURI(status.details) };
    const custom = status.metadata?.toHttp2Headers();
    if (this.headersSent) {
      this.stream.once('wantTrailers', () => { this.stream.sendTrailers({ ...code, ...custom }); });
      this.stream.end();
    } else {
      this.stream.respond({
        ...code,
        [http2.constants.HTTP2_HEADER_STATUS]: http2.constants.HTTP_STATUS_OK,
        [http2.constants.HTTP2_HEADER_CONTENT_TYPE]: 'application/grpc+proto',
        ...custom,
      }, { endStream: true });
    }
    this.gone();
  }

  /** As grpc-js when a handler throws: UNKNOWN, with the reason only when grpc-js would show it. */
  protected handlerThrew(error: unknown): void {
    this.endWithError(grpc.status.UNKNOWN, 'Unknown error', 'Server method handler threw error ', error);
  }

  /** A status for a thrown error, in grpc-js's words: the error's own text only with GRPC_NODE_DEBUG_SEND_ERROR_DETAILS. */
  private endWithError(code: number, details: string, detailedPrefix: string, error: unknown): void {
    const reason = error instanceof Error ? error.message : String(error);
    this.endWith({ code, details: SEND_ERROR_DETAILS ? `${detailedPrefix}${reason}` : details, metadata: null });
  }


  // ------------------------------------------------------------ reading

  private onData(chunk: Buffer): void {
    if (this.ended) return; // answered early (too large, two messages): the rest is read and dropped, as grpc-js does
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    // As grpc-js's decoder: every frame header the chunk completes is checked before any
    // message of the chunk is handed on, so a too-large one fails the chunk's others too.
    const messages: Buffer[] = [];
    while (this.buffered >= FRAME_HEADER_BYTES) {
      const length = this.peekHeader().readUInt32BE(1);
      if (length > this.maxReceiveBytes) {
        this.endWith({ code: grpc.status.RESOURCE_EXHAUSTED, details: `Received message larger than max (${length} vs ${this.maxReceiveBytes})`, metadata: null });
        return;
      }
      if (this.buffered < FRAME_HEADER_BYTES + length) break;
      // The compressed flag is ignored, as grpc-js does when the call's encoding is identity.
      messages.push(this.take(FRAME_HEADER_BYTES + length).subarray(FRAME_HEADER_BYTES));
    }
    for (const message of messages) {
      if (this.isEnded()) return;
      let request: unknown;
      try {
        request = this.deserialize(message);
      } catch (error) {
        this.endWithError(grpc.status.INTERNAL, 'Error deserializing request', 'Error deserializing request: ', error);
        return;
      }
      this.count?.received();
      this.received(request);
    }
  }

  /** The first five buffered bytes (buffered ≥ 5). */
  private peekHeader(): Buffer {
    const first = this.chunks[0] as Buffer;
    return first.length >= FRAME_HEADER_BYTES ? first : Buffer.concat(this.chunks, Math.min(this.buffered, 64)).subarray(0, FRAME_HEADER_BYTES);
  }

  /** Takes the first `bytes` buffered bytes off the chunks (buffered ≥ bytes), copying only when they span chunks. */
  private take(bytes: number): Buffer {
    const first = this.chunks[0] as Buffer;
    let taken: Buffer;
    if (first.length >= bytes) {
      taken = first.subarray(0, bytes);
      if (first.length === bytes) this.chunks.shift();
      else this.chunks[0] = first.subarray(bytes);
    } else {
      taken = Buffer.allocUnsafe(bytes);
      let filled = 0;
      while (filled < bytes) {
        const chunk = this.chunks[0] as Buffer;
        const part = Math.min(chunk.length, bytes - filled);
        chunk.copy(taken, filled, 0, part);
        filled += part;
        if (part === chunk.length) this.chunks.shift();
        else this.chunks[0] = chunk.subarray(part);
      }
    }
    this.buffered -= bytes;
    return taken;
  }

  private onClose(): void {
    this.clearTimer();
    if (this.ended) return;
    // The client went away (or the session ended) before the status.
    this.ended = true;
    this.clientLeft = true;
    this.count?.cancelled();
    this.gone();
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** grpc-js's serverErrorToStatus: what a handler's error becomes on the wire. */
export function statusOf(error: unknown): CallStatus {
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
