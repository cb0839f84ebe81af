// The takeover reaches into grpc-js's private fields: it must refuse loudly, not serve
// without the direct path, when they are not what it was written for.
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { serveInjectedStreamsFirst } from '../../../net/grpcDirect/takeover.js';

test('a grpc-js server without an injector (or whose internals changed) is refused, not served half-way', (t) => {
  t.throws(() => { serveInjectedStreamsFirst(new grpc.Server(), () => false); }, { message: /http2Servers/ });
  const changed = new grpc.Server();
  Reflect.set(changed, 'http2Servers', new Map([[{}, {}]]));
  t.throws(() => { serveInjectedStreamsFirst(changed, () => false); }, { message: /other than an HTTP\/2 server/ });
});

test('after an injector, its server has exactly one stream listener: the takeover in front of grpc-js', (t) => {
  const server = new grpc.Server();
  server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const servers: unknown = Reflect.get(server, 'http2Servers');
  if (!(servers instanceof Map)) throw new Error('grpc-js has no http2Servers');
  const http2Server = [...servers.keys()][0] as NodeJS.EventEmitter;
  const grpcListener = http2Server.listeners('stream')[0];
  serveInjectedStreamsFirst(server, () => false);
  t.is(http2Server.listeners('stream').length, 1);
  t.not(http2Server.listeners('stream')[0], grpcListener);
  server.forceShutdown();
});
