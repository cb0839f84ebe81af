// grpc-js serves every HTTP/2 stream of a connection injector's server from one
// 'stream' listener. To serve some calls itself (unaryCalls.ts), the member puts its
// own listener in that one's place and hands every stream it does not serve to it.
//
// The server is reached through grpc-js's private `http2Servers` map (checked on
// @grpc/grpc-js 1.14.7, which package.json pins). If that shape changes, the member
// refuses to start rather than serve without the direct path unnoticed; the direct-call
// tests fail the same way.

import type * as grpc from '@grpc/grpc-js';
import { EventEmitter } from 'node:events';
import type * as http2 from 'node:http2';
import { invariant } from '../../core/util/invariant.js';

/** Serves a stream and returns true, or returns false to leave it to grpc-js. */
export type StreamServer = (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders) => boolean;

type StreamListener = (...args: unknown[]) => void;

/**
 * Call right after `server.createConnectionInjector(...)`: from then on, every stream
 * of that injector's connections goes to `serve` first.
 */
export function serveInjectedStreamsFirst(server: grpc.Server, serve: StreamServer): void {
  const servers: unknown = Reflect.get(server, 'http2Servers');
  invariant(servers instanceof Map && servers.size > 0,
    'grpc-js no longer keeps its HTTP/2 servers in `http2Servers` (net/grpcDirect/takeover.ts was written for @grpc/grpc-js 1.14.7)');
  // Maps keep insertion order: the injector made just now owns the newest server.
  const http2Server: unknown = [...servers.keys()].at(-1);
  invariant(http2Server instanceof EventEmitter, 'grpc-js keyed `http2Servers` by something other than an HTTP/2 server');
  const listeners = http2Server.listeners('stream');
  invariant(listeners.length === 1, () => `grpc-js's HTTP/2 server has ${listeners.length} 'stream' listeners, expected its own one`);
  const grpcListener = listeners[0] as StreamListener;
  http2Server.removeListener('stream', grpcListener);
  http2Server.on('stream', (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, ...rest: unknown[]) => {
    if (!serve(stream, headers)) grpcListener.call(http2Server, stream, headers, ...rest);
  });
}
