// etcd 3.4's JSON gateway on the client port: HTTP/1.1 POSTs under /v3/ (and /v3beta/)
// translated to the same gRPC handlers the member registers on its gRPC server, so
// auth, limits and errors are the gRPC path's own. etcd's gateway is a gRPC client of
// its own server; Tern calls the handlers in-process through a small call adapter
// (calls.ts) and keeps the wire in between: the JSON request becomes protobuf bytes,
// which the service's own deserializer reads (the size limit and the well-formedness
// check included), and the answer is serialized and read back before it becomes JSON,
// so the JSON shows exactly what a gRPC client would receive.
//
// One translation layer for every RPC: the routes (routes.ts) name the method, the
// .proto descriptors (net/proto/load.ts) drive reading (jsonpbDecode.ts) and writing
// (jsonpbEncode.ts). Streams are in streams.ts.

import * as grpc from '@grpc/grpc-js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type protobuf from 'protobufjs';
import { etcdReflection } from '../proto/load.js';
import type { RegisteredService } from '../services/register.js';
import { GRPC_OVERHEAD_BYTES } from '../services/requestLimit.js';
import { readBody } from './body.js';
import { gatewayMetadata, unaryCall } from './calls.js';
import { decodeFirstValue, type JsonNode } from './goJsonParse.js';
import { decodeRequest } from './jsonpbDecode.js';
import { encodeMessage, TO_OBJECT } from './jsonpbEncode.js';
import { failureOf, sendAnswer, sendHttpError, sendRefusal, sendRpcFailure, type RpcFailure } from './replies.js';
import { StreamSlots } from './streamSlots.js';
import { ROUTES, type Route } from './routes.js';
import { serveStream } from './streams.js';


export interface GatewayOptions {
  readonly services: readonly RegisteredService[];
  /** --max-request-bytes: the gRPC server refuses messages above this + 512 KiB, and so does the gateway. */
  readonly maxRequestBytes: number;
  /** --max-concurrent-streams: calls in flight at once (streamSlots.ts); unlimited if absent. */
  readonly maxConcurrentStreams?: number;
}

/** A bound route: the RPC's definition, its handler, and its message types. */
export interface Binding {
  readonly route: Route;
  readonly definition: grpc.MethodDefinition<unknown, unknown>;
  readonly handler: grpc.UntypedHandleCall;
  readonly requestType: protobuf.Type;
  readonly responseType: protobuf.Type;
  /** gRPC's receive limit, bytes. */
  readonly maxMessageBytes: number;
}

/**
 * A body the gateway reads at most (bytes): etcd's reads any length, but a body this far
 * beyond the gRPC limit (JSON base64 takes 4/3 of the bytes, escapes up to 6x) cannot
 * hold an acceptable request, and holding it would be unbounded memory.
 */
const BODY_FACTOR = 8;

export class Gateway {
  private readonly bindings = new Map<string, Binding>();
  readonly maxBodyBytes: number;
  private readonly slots: StreamSlots | null;

  constructor(options: GatewayOptions) {
    const handlers = new Map<string, { definition: grpc.MethodDefinition<unknown, unknown>; handler: grpc.UntypedHandleCall }>();
    for (const [definition, implementation] of options.services) {
      for (const [name, method] of Object.entries(definition)) {
        const handler = implementation[name];
        if (handler !== undefined) handlers.set(method.path, { definition: method, handler });
      }
    }
    const streams = options.maxConcurrentStreams;
    this.slots = streams === undefined || streams >= 2 ** 31 ? null : new StreamSlots(Math.max(1, streams));
    const root = etcdReflection();
    const maxMessageBytes = options.maxRequestBytes + GRPC_OVERHEAD_BYTES;
    this.maxBodyBytes = BODY_FACTOR * maxMessageBytes;
    for (const [path, route] of ROUTES) {
      const bound = handlers.get(route.grpcPath);
      if (bound === undefined) continue; // not served by this member (yet): 404, as a path etcd lacks
      const method = root.lookupService(route.service).methods[route.method];
      if (method?.resolvedRequestType == null || method.resolvedResponseType == null) throw new Error(`the protos lack ${route.grpcPath}`);
      this.bindings.set(path, {
        route, ...bound, requestType: method.resolvedRequestType, responseType: method.resolvedResponseType, maxMessageBytes,
      });
    }
  }

  /** Whether the path is the gateway's; if so the request is answered. */
  serve(request: IncomingMessage, response: ServerResponse): boolean {
    const path = gatewayPath(request.url ?? '/');
    if (path === null) return false;
    if (path === '/v3') {
      // Go's ServeMux: a subtree pattern ("/v3/") redirects its bare name.
      response.setHeader('Location', `/v3/${queryOf(request.url ?? '')}`);
      response.setHeader('Content-Length', 0);
      response.writeHead(301);
      response.end();
      return true;
    }
    const binding = this.bindings.get(path);
    if (binding === undefined) sendHttpError(response, 404);
    else if (request.method !== 'POST') sendHttpError(response, 405);
    else this.dispatch(binding, request, response);
    return true;
  }

  /** The call, once a stream slot is free (etcd's gateway connection has as many as --max-concurrent-streams). */
  private dispatch(binding: Binding, request: IncomingMessage, response: ServerResponse): void {
    const start = (): void => {
      if (binding.definition.requestStream || binding.definition.responseStream) serveStream(binding, request, response);
      else this.unary(binding, request, response);
    };
    if (this.slots === null) {
      start();
      return;
    }
    const queued = this.slots.acquire((release) => {
      response.once('close', release);
      if (response.writableEnded || request.socket.destroyed) release();
      else start();
    }, (onGone) => { response.once('close', onGone); });
    if (!queued) sendRefusal(response, { code: 8, message: 'etcdserver: too many requests' });
  }

  private unary(binding: Binding, request: IncomingMessage, response: ServerResponse): void {
    readBody(request, this.maxBodyBytes, (body) => {
      if (body === null) {
        sendRefusal(response, tooLarge(this.maxBodyBytes + 1, binding.maxMessageBytes));
        response.once('finish', () => { request.socket.destroy(); });
        return;
      }
      const first = decodeFirstValue(body);
      if (first.ok === false) {
        sendRefusal(response, { code: 3, message: first.error });
        return;
      }
      const wire = toWire(binding, first.ok === 'empty' ? NULL : first.value);
      if ('crash' in wire) request.socket.destroy();
      else if ('refusal' in wire) sendRefusal(response, wire.refusal);
      else if ('rpcFailure' in wire) sendRpcFailure(response, wire.rpcFailure);
      if (!('request' in wire)) return;
      const call = unaryCall(wire.request, gatewayMetadata(request));
      response.once('close', () => { call.cancel(); });
      let answered = false;
      const reply: grpc.sendUnaryData<unknown> = (error, value) => {
        if (answered || response.headersSent) return;
        answered = true;
        if (error !== null) sendRpcFailure(response, failureOf(error));
        else sendAnswer(response, answerJson(binding, value));
      };
      try {
        (binding.handler as grpc.handleUnaryCall<unknown, unknown>)(call, reply);
      } catch (e: unknown) {
        // A handler bug must not take the member down: the caller gets gRPC's UNKNOWN.
        reply({ code: grpc.status.UNKNOWN, details: e instanceof Error ? e.message : String(e) });
      }
    });
  }
}

const NULL: JsonNode = { kind: 'null' };

export type ToWire =
  | { readonly request: unknown }
  /** The gateway could not read the JSON. */
  | { readonly refusal: RpcFailure }
  /** The gRPC server refused the message (over its receive limit). */
  | { readonly rpcFailure: RpcFailure }
  /** etcd's gateway would crash the connection on this input. */
  | { readonly crash: true };

/**
 * A request's JSON as the handler's input: decoded as jsonpb would, serialized (the
 * gRPC receive limit applies to those bytes) and read by the service's deserializer.
 */
export function toWire(binding: Binding, node: JsonNode): ToWire {
  const decoded = decodeRequest(binding.requestType, node);
  if (decoded.ok === 'panic') return { crash: true };
  if (decoded.ok === false) return { refusal: { code: 3, message: decoded.error } };
  const bytes = binding.definition.requestSerialize(decoded.message);
  if (bytes.length > binding.maxMessageBytes) return { rpcFailure: tooLarge(bytes.length, binding.maxMessageBytes) };
  return { request: binding.definition.requestDeserialize(bytes) };
}

/** grpc-go's refusal of a message over the receive limit. */
export function tooLarge(size: number, max: number): RpcFailure {
  return { code: 8, message: `grpc: received message larger than max (${size} vs. ${max})` };
}

/** A handler's answer as the JSON a gRPC client of it would see. */
export function answerJson(binding: Binding, value: unknown): string {
  const bytes = binding.definition.responseSerialize(value);
  const message = binding.responseType.toObject(binding.responseType.decode(bytes), TO_OBJECT);
  return encodeMessage(binding.responseType, message);
}

/** The request's path as etcd's gateway matches it (/v3beta/ read as /v3/), or null if it is not the gateway's. */
function gatewayPath(url: string): string | null {
  const raw = url.split('?', 1)[0] ?? '';
  let path: string;
  try {
    path = decodeURIComponent(raw);
  } catch {
    return null;
  }
  if (path.startsWith('/v3beta/')) path = `/v3/${path.slice('/v3beta/'.length)}`;
  return path === '/v3' || path.startsWith('/v3/') ? path : null;
}

function queryOf(url: string): string {
  const at = url.indexOf('?');
  return at < 0 ? '' : url.slice(at);
}
