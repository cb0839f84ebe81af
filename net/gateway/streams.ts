// The gateway's streaming RPCs, as etcd 3.4's gateway streams them (grpc-gateway's
// ForwardResponseStream), checked against etcd by running it:
//
// - Watch and LeaseKeepAlive (bidirectional): the body is a sequence of JSON requests,
//   read as they arrive; the first opens the stream (if it cannot be read, the answer is
//   500 with code 2, as grpc-gateway reports a plain decoding error); a later one that
//   cannot be read ends the sending, silently. Nothing is written until the first
//   response, then 200 and one `{"result":…}` line per response, flushed as it comes.
// - The body's end half-closes the stream: LeaseKeepAlive then ends (etcd's keep-alive
//   loop returns on EOF), Watch keeps delivering events for as long as the client holds
//   the connection (etcd's watch stream lives until its context ends).
// - Snapshot (server streaming): the body is read as for a unary call, then the same
//   lines follow.
// - A stream error before any response: its HTTP status and {"error":{…}}; after one:
//   the {"error":{…}} chunk, then the end.
// - The client leaving cancels the call, as a reset gRPC stream does.

import type * as grpc from '@grpc/grpc-js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { goJsonString } from '../auth/goJson.js';
import { readBody } from './body.js';
import { gatewayMetadata, GatewayCall } from './calls.js';
import { answerJson, toWire, tooLarge, type Binding } from './gateway.js';
import { decodeFirstValue, type JsonNode } from './goJsonParse.js';
import { failureOf, httpStatusOf, sendRefusal, statusText, type RpcFailure } from './replies.js';

/** Streams etcd keeps open after the client half-closes (its recv loop returning does not end them). */
const OPEN_AFTER_HALF_CLOSE = new Set(['/etcdserverpb.Watch/Watch']);

export function serveStream(binding: Binding, request: IncomingMessage, response: ServerResponse): void {
  if (binding.definition.requestStream) serveBidi(binding, request, response);
  else serveServerStream(binding, request, response);
}

/** A streaming call as the handlers see it: requests in as 'data', responses out through write(). */
class GatewayStream extends GatewayCall {
  private needDrain = false;

  constructor(metadata: grpc.Metadata, private readonly out: ResponseLines, readonly request?: unknown) {
    super(metadata);
    out.response.on('drain', () => {
      this.needDrain = false;
      this.emit('drain');
    });
    // A handler fails the stream by emitting its status as 'error' (grpc-js's way).
    this.on('error', (status: unknown) => { out.fail(failureOf(status)); });
  }

  get writableNeedDrain(): boolean {
    return this.needDrain;
  }

  write(message: unknown): boolean {
    if (this.cancelled) return false;
    this.needDrain = !this.out.write(message);
    return !this.needDrain;
  }

  end(): void {
    this.out.end();
  }
}

/** The HTTP side of a stream: the header on the first line, then one line per message. */
class ResponseLines {
  private done = false;

  constructor(readonly response: ServerResponse, private readonly binding: Binding) {}

  write(message: unknown): boolean {
    if (this.done) return true;
    this.start(200);
    return this.response.write(`{"result":${answerJson(this.binding, message)}}\n`);
  }

  end(): void {
    if (this.done) return;
    this.start(200);
    this.done = true;
    this.response.end();
  }

  fail(failure: RpcFailure): void {
    if (this.done) return;
    this.start(httpStatusOf(failure.code));
    this.done = true;
    this.response.end(streamError(failure));
  }

  private start(status: number): void {
    if (this.response.headersSent) return;
    this.response.setHeader('Content-Type', 'application/json');
    if (status === 200) this.response.setHeader('Grpc-Metadata-Content-Type', 'application/grpc');
    this.response.writeHead(status);
  }
}

/** grpc-gateway's StreamError chunk as jsonpb writes it (empty fields left out). */
function streamError(failure: RpcFailure): string {
  const http = httpStatusOf(failure.code);
  const parts = [`"grpc_code":${failure.code}`, `"http_code":${http}`];
  if (failure.message !== '') parts.push(`"message":${goJsonString(failure.message)}`);
  parts.push(`"http_status":${goJsonString(statusText(http))}`);
  return `{"error":{${parts.join(',')}}}`;
}

function serveServerStream(binding: Binding, request: IncomingMessage, response: ServerResponse): void {
  readBody(request, 8 * binding.maxMessageBytes, (body) => {
    if (body === null) {
      sendRefusal(response, tooLarge(8 * binding.maxMessageBytes + 1, binding.maxMessageBytes));
      return;
    }
    const first = decodeFirstValue(body);
    if (first.ok === false) {
      sendRefusal(response, { code: 3, message: first.error });
      return;
    }
    const wire = toWire(binding, first.ok === 'empty' ? { kind: 'null' } : first.value);
    if ('crash' in wire) request.socket.destroy();
    else if ('refusal' in wire) sendRefusal(response, wire.refusal);
    else if ('rpcFailure' in wire) new ResponseLines(response, binding).fail(wire.rpcFailure);
    if (!('request' in wire)) return;
    const call = new GatewayStream(gatewayMetadata(request), new ResponseLines(response, binding), wire.request);
    response.once('close', () => { call.cancel(); });
    invoke(binding, call);
  });
}

function serveBidi(binding: Binding, request: IncomingMessage, response: ServerResponse): void {
  const lines = new ResponseLines(response, binding);
  let call: GatewayStream | null = null;
  const requests = new RequestValues(8 * binding.maxMessageBytes, (node) => {
    const wire = toWire(binding, node);
    if ('request' in wire) {
      if (call === null) {
        call = new GatewayStream(gatewayMetadata(request), lines);
        invoke(binding, call);
      }
      call.emit('data', wire.request);
      return true;
    }
    if ('crash' in wire) request.socket.destroy();
    else if (call !== null) return false; // a later unreadable request: the sending stops
    else if ('refusal' in wire) sendRefusal(response, { code: 2, message: wire.refusal.message });
    else lines.fail(wire.rpcFailure);
    return false;
  }, (error) => {
    if (call === null) sendRefusal(response, { code: 2, message: error });
  });
  request.on('data', (chunk: Buffer) => { requests.push(chunk); });
  request.once('end', () => {
    requests.finish();
    if (call !== null && !OPEN_AFTER_HALF_CLOSE.has(binding.route.grpcPath)) call.emit('end');
  });
  response.once('close', () => { call?.cancel(); });
}

function invoke(binding: Binding, call: GatewayStream): void {
  try {
    (binding.handler as grpc.handleBidiStreamingCall<unknown, unknown>)(call as unknown as grpc.ServerDuplexStream<unknown, unknown>);
  } catch (e: unknown) {
    call.emit('error', { code: 2, details: e instanceof Error ? e.message : String(e) });
  }
}

/**
 * A body read as a json.Decoder reads a stream: each complete value handed on as its
 * bytes arrive; an unreadable one stops the reading. A value still open when the body
 * is `maxBytes` long is refused (etcd's gateway would read on; Tern bounds its memory).
 */
class RequestValues {
  private buffer: Buffer = Buffer.alloc(0);
  private stopped = false;

  constructor(
    private readonly maxBytes: number,
    /** false: stop reading. */
    private readonly onValue: (node: JsonNode) => boolean,
    private readonly onError: (error: string) => void,
  ) {}

  push(chunk: Buffer): void {
    if (this.stopped) return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    // Only a closing bracket can complete a request object: skip the parse otherwise.
    if (chunk.includes(0x7d) || chunk.includes(0x5d)) this.drain(false);
    if (this.isStopped()) return;
    if (this.buffer.length > this.maxBytes) {
      this.stopped = true;
      this.onError(tooLarge(this.buffer.length, this.maxBytes).message);
    }
  }

  /** Read through a method: drain() may have stopped the reading. */
  private isStopped(): boolean {
    return this.stopped;
  }

  finish(): void {
    if (!this.stopped) this.drain(true);
  }

  private drain(ended: boolean): void {
    while (!this.stopped) {
      const next = decodeFirstValue(this.buffer);
      if (next.ok === 'empty') return;
      if (next.ok === false) {
        if (!ended && next.error === 'unexpected EOF') return; // the rest is still coming
        this.stopped = true;
        this.onError(next.error);
        return;
      }
      this.buffer = this.buffer.subarray(next.end);
      if (!this.onValue(next.value)) this.stopped = true;
    }
  }
}
