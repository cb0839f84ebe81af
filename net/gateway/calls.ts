// The gateway's calls into the member's grpc-js handlers: objects with the parts of a
// grpc-js server call the handlers read (the request, the metadata, the auth context,
// the cancellation events), and the metadata etcd's gateway derives from the HTTP
// request (grpc-gateway's AnnotateContext):
//
// - `Authorization` travels as `authorization` (the token etcd's server reads);
// - `Grpc-Metadata-<Name>` travels as `<name>` (so Grpc-Metadata-Token is `token`);
// - the headers grpc-gateway calls permanent travel as `grpcgateway-<name>` (etcd's
//   server ignores a client certificate's name on calls that carry grpcgateway-accept);
// - the Host and the client's address as x-forwarded-host and x-forwarded-for.
//
// A gateway call never carries a client certificate: over TLS etcd's gateway dials its
// own server with the server's certificate, whose name is not the user's.

import * as grpc from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';

/** grpc-gateway's isPermanentHTTPHeader, lower-cased as node gives header names. */
const PERMANENT = new Set([
  'accept', 'accept-charset', 'accept-language', 'accept-ranges', 'authorization', 'cache-control', 'content-type', 'cookie',
  'date', 'expect', 'from', 'host', 'if-match', 'if-modified-since', 'if-none-match', 'if-schedule-tag-match',
  'if-unmodified-since', 'max-forwards', 'origin', 'pragma', 'referer', 'user-agent', 'via', 'warning',
]);
const METADATA_PREFIX = 'grpc-metadata-';

/** The gRPC metadata etcd's gateway would send for `request`. */
export function gatewayMetadata(request: IncomingMessage): grpc.Metadata {
  const metadata = new grpc.Metadata();
  const add = (key: string, value: string): void => {
    try {
      metadata.add(key, value);
    } catch {
      // A name gRPC cannot carry (grpc-go would refuse the call's metadata): dropped.
    }
  };
  const raw = request.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = (raw[i] ?? '').toLowerCase();
    const value = raw[i + 1] ?? '';
    if (name === 'authorization') add('authorization', value);
    if (PERMANENT.has(name)) add(`grpcgateway-${name}`, value);
    else if (name.startsWith(METADATA_PREFIX) && name.length > METADATA_PREFIX.length) add(name.slice(METADATA_PREFIX.length), value);
  }
  const host = request.headers['x-forwarded-host'] ?? request.headers.host;
  if (typeof host === 'string' && host !== '') add('x-forwarded-host', host);
  const remote = request.socket.remoteAddress;
  if (remote !== undefined) {
    const forwarded = request.headers['x-forwarded-for'];
    add('x-forwarded-for', typeof forwarded === 'string' && forwarded !== '' ? `${forwarded}, ${remote}` : remote);
  }
  return metadata;
}

/** What every gateway call offers a handler besides its request. */
class GatewayCall extends EventEmitter {
  cancelled = false;

  constructor(readonly metadata: grpc.Metadata) {
    super();
  }

  getAuthContext(): Record<string, never> {
    return {};
  }

  getPeer(): string {
    return 'gateway';
  }

  getPath(): string {
    return '';
  }

  /** The HTTP client went away: the call is cancelled, as grpc-js reports a reset stream. */
  cancel(): void {
    if (this.cancelled) return;
    this.cancelled = true;
    this.emit('cancelled', 'cancelled');
  }
}

/** A unary call carrying `request`, as a grpc-js unary handler receives it. */
export function unaryCall(request: unknown, metadata: grpc.Metadata): grpc.ServerUnaryCall<unknown, unknown> & { cancel(): void } {
  const call = Object.assign(new GatewayCall(metadata), { request });
  // The handlers read only the members GatewayCall has (request, metadata, getAuthContext, events).
  return call as unknown as grpc.ServerUnaryCall<unknown, unknown> & { cancel(): void };
}

export { GatewayCall };
