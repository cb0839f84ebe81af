// The direct path's answers to what no well-formed request to a real member makes
// happen: a handler or a Watch opener that throws, a watch request that throws, and a
// stream the client destroys while its Watch is open. A bare node:http2 server serves
// DirectCalls over stand-in methods, so each of these is made to happen on purpose.
import test from 'ava';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { DirectCalls } from '../../../net/grpcDirect/directCalls.js';
import type { DirectMethod } from '../../../net/grpcDirect/unaryCall.js';
import { WATCH_PATH, type DirectWatch } from '../../../net/grpcDirect/watchCall.js';
import { GrpcCallMetrics } from '../../../net/metrics/grpcMetrics.js';
import { MemberMetrics } from '../../../net/metrics/memberMetrics.js';
import type { WatchChannel, WatchStreamEvents } from '../../../net/services/watch.js';

const PUT = '/etcdserverpb.KV/Put';
const identity = (b: Buffer): Buffer => b;
const asBytes = (value: unknown): Buffer => (Buffer.isBuffer(value) ? value : Buffer.from(JSON.stringify(value)));

interface Served {
  readonly port: number;
  readonly metrics: MemberMetrics;
  close(): Promise<void>;
}

async function serve(put: DirectMethod['handler'], open: DirectWatch['open']): Promise<Served> {
  const metrics = new MemberMetrics();
  const calls = new DirectCalls({
    unary: new Map([[PUT, { shape: { path: PUT, requestStream: false, responseStream: false }, deserialize: identity, serialize: asBytes, handler: put }]]),
    watch: { shape: { path: WATCH_PATH, requestStream: true, responseStream: true }, deserialize: (b) => b.toString(), serialize: asBytes, open },
    maxReceiveBytes: 1024, calls: new GrpcCallMetrics(metrics), leaveToGrpc: () => false,
  });
  const server = http2.createServer();
  server.on('stream', (stream, headers) => { if (!calls.serve(stream, headers)) stream.respond({ ':status': 404 }, { endStream: true }); });
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve); });
  return {
    port: (server.address() as AddressInfo).port,
    metrics,
    close: () => new Promise((resolve) => { server.close(() => { resolve(); }); }),
  };
}

function frame(message: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

/** One call: its request messages, then the status it ended with (headers or trailers). */
function call(port: number, path: string, messages: readonly Buffer[]): Promise<{ status: unknown; message: unknown }> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    const stream = session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc' });
    let status: unknown;
    let message: unknown;
    const take = (h: http2.IncomingHttpHeaders): void => {
      if (h['grpc-status'] !== undefined) [status, message] = [h['grpc-status'], h['grpc-message']];
    };
    stream.on('response', take);
    stream.on('trailers', take);
    stream.on('data', () => undefined);
    stream.on('error', reject);
    stream.on('close', () => { session.close(); resolve({ status, message }); });
    for (const m of messages) stream.write(frame(m));
    stream.end();
  });
}

const handled = async (metrics: MemberMetrics): Promise<string[]> =>
  (await metrics.exposition()).body.split('\n').filter((line) => line.startsWith('grpc_server_handled_total'));

const quiet: WatchStreamEvents = { request: () => undefined, halfClosed: () => undefined, drained: () => undefined, gone: () => undefined };

test('a unary handler that throws ends its call UNKNOWN "Unknown error", as grpc-js answers, and the server goes on', async (t) => {
  let calls = 0;
  const s = await serve((_call, callback) => {
    if (++calls === 1) throw new Error('boom');
    callback(null, Buffer.from('ok'));
  }, () => quiet);
  try {
    t.deepEqual(await call(s.port, PUT, [Buffer.from('a')]), { status: '2', message: 'Unknown%20error' });
    t.deepEqual(await call(s.port, PUT, [Buffer.from('b')]), { status: '0', message: 'OK' });
    t.true((await handled(s.metrics)).some((line) => line.includes('grpc_code="Unknown"') && line.includes('"Put"')));
  } finally {
    await s.close();
  }
});

test('a Watch opener or request that throws ends the stream UNKNOWN, and the server goes on', async (t) => {
  let opens = 0;
  const s = await serve((_call, callback) => { callback(null, Buffer.from('ok')); }, () => {
    if (++opens === 1) throw new Error('opener');
    return { ...quiet, request: () => { throw new Error('request'); } };
  });
  try {
    t.deepEqual(await call(s.port, WATCH_PATH, []), { status: '2', message: 'Unknown%20error' });
    t.deepEqual(await call(s.port, WATCH_PATH, [Buffer.from('create')]), { status: '2', message: 'Unknown%20error' });
    t.deepEqual(await call(s.port, PUT, [Buffer.from('b')]), { status: '0', message: 'OK' });
  } finally {
    await s.close();
  }
});

test('a Watch whose stream is reset while it is open is told it is gone, once, and counts Canceled', async (t) => {
  let gone = 0;
  let channel: WatchChannel | null = null;
  const s = await serve((_call, callback) => { callback(null, Buffer.from('ok')); }, (c) => {
    channel = c;
    c.send(Buffer.from('created'));
    return { ...quiet, gone: () => { gone++; } };
  });
  try {
    const session = http2.connect(`http://127.0.0.1:${s.port}`);
    const stream = session.request({ ':method': 'POST', ':path': WATCH_PATH, 'content-type': 'application/grpc' });
    stream.on('error', () => undefined);
    await new Promise<void>((resolve) => { stream.once('data', () => { resolve(); }); });
    stream.close(http2.constants.NGHTTP2_CANCEL);
    for (let i = 0; i < 500 && gone === 0; i++) await new Promise((r) => setTimeout(r, 5));
    // The service's own end after the client left sends nothing and changes nothing.
    (channel as WatchChannel | null)?.end();
    session.close();
    t.is(gone, 1);
    t.deepEqual((await handled(s.metrics)).filter((line) => line.includes('"Watch"')),
      ['grpc_server_handled_total{grpc_code="Canceled",grpc_method="Watch",grpc_service="etcdserverpb.Watch",grpc_type="bidi_stream"} 1']);
  } finally {
    await s.close();
  }
});
