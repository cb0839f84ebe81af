// The transport's ceiling for `npm run bench:server`: one process that answers every
// unary gRPC call (KV.Put, KV.Range, ...) with the same fixed response and does no
// other work. Measured with ternbench beside etcd, it shows what the transport alone
// allows on this machine: grpc-js, the library Tern serves with, or bare node:http2
// (what a gRPC layer of Tern's own would start from).
//
//   node nullServer.js --transport grpc-js|http2 --listen-client-urls http://127.0.0.1:PORT [other etcd flags, ignored]

import * as grpc from '@grpc/grpc-js';
import http2 from 'node:http2';
import process from 'node:process';

/** A response with only a header {cluster_id: 1, member_id: 2, revision: 3, raft_term: 4}: a valid PutResponse and RangeResponse. */
const RESPONSE = Buffer.from([0x0a, 0x08, 0x08, 0x01, 0x10, 0x02, 0x18, 0x03, 0x20, 0x04]);
/** The same as one gRPC length-prefixed message (uncompressed flag, 4-byte length). */
const FRAMED = Buffer.concat([Buffer.from([0, 0, 0, 0, RESPONSE.length]), RESPONSE]);
const UNARY_KV_METHODS = ['Range', 'Put', 'DeleteRange', 'Txn', 'Compact'] as const;

function flagValue(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function listenPort(): number {
  const url = flagValue('listen-client-urls') ?? '';
  const port = Number(/^http:\/\/127\.0\.0\.1:(\d+)$/.exec(url)?.[1]);
  if (!Number.isInteger(port) || port <= 0 || port > 65_535) throw new Error(`nullServer wants --listen-client-urls http://127.0.0.1:PORT, got ${url}`);
  return port;
}

function ready(): void {
  // The line the bench's launcher waits for, as etcd and Tern print it.
  process.stderr.write('ready to serve client requests\n');
}

function serveGrpcJs(port: number): void {
  const bytes = (b: Buffer): Buffer => b;
  const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const method of UNARY_KV_METHODS) {
    definition[method] = {
      path: `/etcdserverpb.KV/${method}`, requestStream: false, responseStream: false,
      requestSerialize: bytes, requestDeserialize: bytes, responseSerialize: bytes, responseDeserialize: bytes,
    };
    handlers[method] = (_call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>): void => { callback(null, RESPONSE); };
  }
  const server = new grpc.Server();
  server.addService(definition, handlers);
  server.bindAsync(`127.0.0.1:${port}`, grpc.ServerCredentials.createInsecure(), (error) => {
    if (error !== null) throw error;
    ready();
  });
}

function serveHttp2(port: number): void {
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.on('data', () => undefined); // the request is read and dropped
    stream.on('end', () => {
      stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => { stream.sendTrailers({ 'grpc-status': '0' }); });
      stream.end(FRAMED);
    });
  });
  server.listen(port, '127.0.0.1', ready);
}

const transport = flagValue('transport');
if (transport === 'grpc-js') serveGrpcJs(listenPort());
else if (transport === 'http2') serveHttp2(listenPort());
else throw new Error(`nullServer wants --transport grpc-js or http2, got ${String(transport)}`);
for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => { process.exit(0); });
