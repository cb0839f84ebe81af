// Forwarding of every etcd client service, message by message, as bytes: the proxy
// decodes nothing, so whatever a member answers (values, errors with their codes and
// trailers, auth failures) reaches the client as the member sent it. The request
// metadata (the auth token) goes with the call, and its deadline and cancellation too.
//
// Streams keep a bound on what they hold: a side that cannot take more (its HTTP/2
// window full) pauses the other side until it drains, so a slow watcher stops its
// upstream watch instead of growing the proxy's memory.

import * as grpc from '@grpc/grpc-js';
import { invariant } from '../../core/util/invariant.js';
import type { Backends } from './backends.js';

const bytes = (b: Buffer): Buffer => b;

/** Headers of the client's call that belong to its own HTTP/2 stream, not to the forwarded one. */
const CALL_HEADERS = new Set([':authority', 'host', 'user-agent', 'content-type', 'te', 'grpc-timeout', 'grpc-encoding', 'grpc-accept-encoding']);

/** The member's error as the status the client gets, trailers included. */
type CallStatus = Partial<grpc.StatusObject>;

/** A call that failed before reaching any member (its channel could not connect): safe to send elsewhere. */
function neverSent(error: grpc.ServiceError): boolean {
  return error.code === grpc.status.UNAVAILABLE && error.details.startsWith('No connection established');
}

function forwardedMetadata(incoming: grpc.Metadata): grpc.Metadata {
  const out = incoming.clone();
  for (const key of Object.keys(out.getMap())) if (CALL_HEADERS.has(key)) out.remove(key);
  return out;
}

function callOptions(call: { getDeadline(): grpc.Deadline }): grpc.CallOptions {
  const deadline = call.getDeadline();
  return deadline === Infinity ? {} : { deadline };
}

function asStatus(error: grpc.ServiceError | grpc.StatusObject): CallStatus {
  return { code: error.code, details: error.details, metadata: error.metadata };
}

/** The same methods, with bytes in and out. */
function rawDefinition(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const methods: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  for (const [name, method] of Object.entries(definition)) {
    methods[name] = {
      path: method.path, requestStream: method.requestStream, responseStream: method.responseStream,
      requestSerialize: bytes, requestDeserialize: bytes, responseSerialize: bytes, responseDeserialize: bytes,
      ...(method.originalName === undefined ? {} : { originalName: method.originalName }),
    };
  }
  return methods;
}

export function passThroughService(definition: grpc.ServiceDefinition, backends: Backends): [grpc.ServiceDefinition, grpc.UntypedServiceImplementation] {
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    const path = method.path;
    if (!method.requestStream && !method.responseStream) handlers[name] = unary(path, backends);
    else if (!method.requestStream) handlers[name] = serverStream(path, backends);
    else if (!method.responseStream) handlers[name] = clientStream(path, backends);
    else handlers[name] = bidi(path, backends);
  }
  return [rawDefinition(definition), handlers];
}

function unary(path: string, backends: Backends): grpc.handleUnaryCall<Buffer, Buffer> {
  return (call, callback) => {
    const metadata = forwardedMetadata(call.metadata);
    const options = callOptions(call);
    // A call no member received is tried on each other member once.
    let tries = backends.endpoints.length;
    const attempt = (): void => {
      const client = backends.pick();
      const upstream = client.makeUnaryRequest(path, bytes, bytes, call.request, metadata, options, (error, value) => {
        if (error !== null) {
          if (neverSent(error) && --tries > 0) {
            backends.passOver(client);
            attempt();
            return;
          }
          if (neverSent(error)) backends.passOver(client);
          callback(asStatus(error));
          return;
        }
        invariant(value !== undefined, 'an answer without an error carries a message');
        callback(null, value);
      });
      call.once('cancelled', () => { upstream.cancel(); });
    };
    attempt();
  };
}

/**
 * Relays a member's answers to the client: each message as it comes, pausing the
 * member's stream while the client's is full, and the status once every message is out.
 */
function relayAnswers(upstream: grpc.ClientReadableStream<Buffer> | grpc.ClientDuplexStream<Buffer, Buffer>, call: grpc.ServerWritableStream<Buffer, Buffer> | grpc.ServerDuplexStream<Buffer, Buffer>): void {
  let status: grpc.StatusObject | null = null;
  let drained = false;
  const finish = (): void => {
    if (status === null || !drained) return;
    if (status.code === grpc.status.OK) call.end(status.metadata);
    else call.emit('error', asStatus(status));
  };
  upstream.on('data', (message: Buffer) => {
    if (!call.write(message)) {
      upstream.pause();
      call.once('drain', () => { upstream.resume(); });
    }
  });
  // The error also arrives as the status below; listening here keeps it from being thrown.
  upstream.on('error', () => undefined);
  upstream.on('status', (s: grpc.StatusObject) => { status = s; finish(); });
  upstream.on('end', () => { drained = true; finish(); });
  call.once('cancelled', () => { upstream.cancel(); });
}

/** Relays the client's messages to the member, with the same pause while the member's side is full. */
function relayRequests(call: grpc.ServerReadableStream<Buffer, Buffer> | grpc.ServerDuplexStream<Buffer, Buffer>, upstream: grpc.ClientWritableStream<Buffer> | grpc.ClientDuplexStream<Buffer, Buffer>): void {
  call.on('data', (message: Buffer) => {
    if (!upstream.write(message)) {
      call.pause();
      upstream.once('drain', () => { call.resume(); });
    }
  });
  call.on('end', () => { upstream.end(); });
  call.on('error', () => { upstream.cancel(); });
}

function serverStream(path: string, backends: Backends): grpc.handleServerStreamingCall<Buffer, Buffer> {
  return (call) => {
    const upstream = backends.pick().makeServerStreamRequest(path, bytes, bytes, call.request, forwardedMetadata(call.metadata), callOptions(call));
    relayAnswers(upstream, call);
  };
}

function clientStream(path: string, backends: Backends): grpc.handleClientStreamingCall<Buffer, Buffer> {
  return (call, callback) => {
    const upstream = backends.pick().makeClientStreamRequest(path, bytes, bytes, forwardedMetadata(call.metadata), callOptions(call), (error, value) => {
      if (error !== null) callback(asStatus(error));
      else callback(null, value);
    });
    relayRequests(call, upstream);
    call.once('cancelled', () => { upstream.cancel(); });
  };
}

function bidi(path: string, backends: Backends): grpc.handleBidiStreamingCall<Buffer, Buffer> {
  return (call) => {
    const upstream = backends.pick().makeBidiStreamRequest(path, bytes, bytes, forwardedMetadata(call.metadata), callOptions(call));
    relayRequests(call, upstream);
    relayAnswers(upstream, call);
  };
}
