// The client-port multiplexer: HTTP/2's connection preface decides, whatever the
// chunking, and the bytes read while deciding reach the server the socket goes to. For
// gRPC, the first request then decides between the raw socket and the :authority
// rewriter (issue #15), here in front of a real node:http2 server.
import test, { type ExecutionContext } from 'ava';
import type * as grpc from '@grpc/grpc-js';
import { createServer } from 'node:http';
import http2 from 'node:http2';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { readFileSync } from 'node:fs';
import { TlsMaterial } from '../../../net/tls/material.js';
import type { ServingTls } from '../../../net/tls/memberTls.js';
import { NO_RULES } from '../../../net/tls/peerRules.js';
import { makePki } from '../../tls/pki.js';
import { EMPTY_SETTINGS, Flag, frame, FrameType } from '../../../net/http2/frames.js';
import { classify, ClientListener } from '../../../net/member/clientListener.js';

const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

test('classify: the whole preface is gRPC, a strict prefix of it undecided, anything else HTTP/1', (t) => {
  t.is(classify(Buffer.from(PREFACE + '\x00\x00')), 'grpc');
  t.is(classify(Buffer.from(PREFACE)), 'grpc');
  t.is(classify(Buffer.from('PRI * HT')), null);
  t.is(classify(Buffer.alloc(0)), null);
  t.is(classify(Buffer.from('GET /health HTTP/1.1\r\n')), 'http');
  t.is(classify(Buffer.from('PRI * HTTP/1.1')), 'http');
  t.is(classify(Buffer.from('POST')), 'http');
});

test('a preface split over several packets goes to the gRPC side with every byte but the ACK of our SETTINGS', async (t) => {
  const settings = frame(FrameType.SETTINGS, 0, 0, Buffer.alloc(0));
  const ack = frame(FrameType.SETTINGS, Flag.ACK, 0, Buffer.alloc(0));
  const ping = frame(FrameType.PING, 0, 0, Buffer.from('12345678'));
  const expected = Buffer.concat([Buffer.from(PREFACE, 'latin1'), settings, ping]);
  let serverSaid = Buffer.alloc(0);
  const received = new Promise<Buffer>((resolve) => {
    // Stands in for grpc-js's injector: records what the handed-over socket delivers.
    const injector = {
      injectConnection: (socket: Socket) => {
        let bytes = Buffer.alloc(0);
        socket.on('data', (chunk: Buffer) => {
          bytes = Buffer.concat([bytes, chunk]);
          if (bytes.length >= expected.length) resolve(bytes);
        });
      },
    } as unknown as grpc.ConnectionInjector;
    const listener = new ClientListener({ grpc: injector, http: createServer() });
    void listener.listen('127.0.0.1', 0).then((port) => {
      const client = connect(port, '127.0.0.1', () => {
        client.write(PREFACE.slice(0, 3));
        setTimeout(() => { client.write(PREFACE.slice(3, 20)); }, 20);
        setTimeout(() => { client.write(PREFACE.slice(20) + settings.toString('latin1'), 'latin1'); }, 40);
      });
      // Once our SETTINGS arrives, acknowledge it and ping (a PING decides: raw).
      client.on('data', (chunk: Buffer) => {
        serverSaid = Buffer.concat([serverSaid, chunk]);
        if (serverSaid.length === EMPTY_SETTINGS.length) client.end(Buffer.concat([ack, ping]));
      });
      void received.then(() => listener.close());
    });
  });
  t.deepEqual(await received, expected);
  t.deepEqual(serverSaid, EMPTY_SETTINGS);
});

/** A ClientListener in front of a real node:http2 server; the handler records each request's :authority and whether its connection came raw. */
async function http2Behind(t: ExecutionContext, tls?: ServingTls): Promise<{ port: number; seen: { authority: string; raw: boolean }[] }> {
  const seen: { authority: string; raw: boolean }[] = [];
  const server = http2.createServer();
  server.on('stream', (stream, headers) => {
    // A raw socket keeps its address; the rewriter's JS stream wrapper has none.
    seen.push({ authority: String(headers[':authority']), raw: stream.session?.socket.remoteAddress !== undefined });
    stream.respond({ ':status': 200 });
    stream.end('ok');
  });
  const injector = { injectConnection: (connection: Duplex) => { server.emit('connection', connection); } } as unknown as grpc.ConnectionInjector;
  const listener = new ClientListener({ grpc: injector, http: createServer(), ...(tls === undefined ? {} : { tls }) });
  const port = await listener.listen('127.0.0.1', 0);
  t.teardown(async () => { await listener.close(); server.close(); });
  return { port, seen };
}

async function get(session: http2.ClientHttp2Session, headers: http2.OutgoingHttpHeaders): Promise<number> {
  return new Promise<number>((resolve) => {
    const stream = session.request(headers);
    stream.on('response', (h) => { resolve(Number(h[':status'])); });
    stream.on('error', () => { resolve(-1); });
    stream.on('close', () => { resolve(-stream.rstCode); });
    stream.resume();
    stream.end();
  });
}

test('a connection whose first request has a URL :authority is rewritten, request after request', async (t) => {
  const { port, seen } = await http2Behind(t);
  const session = http2.connect(`http://127.0.0.1:${String(port)}`);
  t.teardown(() => { session.destroy(); });
  const url = `http://127.0.0.1:${String(port)}`;
  const statuses: number[] = [];
  // Varied headers, so the client's dynamic table fills, evicts and is referred to.
  for (let i = 0; i < 40; i++) statuses.push(await get(session, { ':path': `/r/${String(i)}`, ':authority': url, [`x-h${String(i % 7)}`]: 'v'.repeat(i * 10) }));
  t.deepEqual(statuses, statuses.map(() => 200));
  t.deepEqual(seen, seen.map(() => ({ authority: `127.0.0.1:${String(port)}`, raw: false })));
});

test('a connection whose first request has a plain :authority is handed over raw', async (t) => {
  const { port, seen } = await http2Behind(t);
  const session = http2.connect(`http://127.0.0.1:${String(port)}`);
  t.teardown(() => { session.destroy(); });
  t.is(await get(session, { ':path': '/' }), 200);
  t.is(await get(session, { ':path': '/again' }), 200);
  t.deepEqual(seen, [{ authority: `127.0.0.1:${String(port)}`, raw: true }, { authority: `127.0.0.1:${String(port)}`, raw: true }]);
});

test('over TLS, the decrypted connection is rewritten the same way', async (t) => {
  const pki = await makePki();
  t.teardown(() => { pki.remove(); });
  const files = { certFile: pki.server.cert, keyFile: pki.server.key, trustedCaFile: '', clientCertAuth: false, crlFile: '', ciphers: undefined };
  const { port, seen } = await http2Behind(t, { material: new TlsMaterial(files), rules: NO_RULES });
  const session = http2.connect(`https://127.0.0.1:${String(port)}`, { ca: readFileSync(pki.caFile) });
  t.teardown(() => { session.destroy(); });
  const url = `https://127.0.0.1:${String(port)}`;
  t.is(await get(session, { ':path': '/a', ':authority': url }), 200);
  t.is(await get(session, { ':path': '/b', ':authority': url }), 200);
  t.deepEqual(seen, [{ authority: `127.0.0.1:${String(port)}`, raw: false }, { authority: `127.0.0.1:${String(port)}`, raw: false }]);
});

test('an idle gRPC client that sends no request is handed over raw after a while, and the server greets it', async (t) => {
  const { port } = await http2Behind(t);
  const said = await new Promise<Buffer>((resolve) => {
    let bytes = Buffer.alloc(0);
    const client = connect(port, '127.0.0.1', () => {
      client.write(Buffer.concat([Buffer.from(PREFACE, 'latin1'), frame(FrameType.SETTINGS, 0, 0, Buffer.alloc(0))]));
    });
    t.teardown(() => { client.destroy(); });
    client.on('error', () => undefined);
    client.on('data', (chunk: Buffer) => {
      bytes = Buffer.concat([bytes, chunk]);
      if (bytes.length === EMPTY_SETTINGS.length) client.write(frame(FrameType.SETTINGS, Flag.ACK, 0, Buffer.alloc(0)));
      // Past our SETTINGS: the HTTP/2 server's own SETTINGS, so it has the connection now.
      if (bytes.length > EMPTY_SETTINGS.length + 9) resolve(bytes);
    });
  });
  t.deepEqual(said.subarray(0, EMPTY_SETTINGS.length), EMPTY_SETTINGS);
  t.is(said[EMPTY_SETTINGS.length + 3], FrameType.SETTINGS);
});

test('a gRPC connection that sends a broken first header block is dropped, and the listener serves on', async (t) => {
  const { port } = await http2Behind(t);
  const closed = new Promise<void>((resolve) => {
    const client = connect(port, '127.0.0.1', () => {
      const settings = frame(FrameType.SETTINGS, 0, 0, Buffer.alloc(0));
      const ack = frame(FrameType.SETTINGS, Flag.ACK, 0, Buffer.alloc(0));
      client.write(Buffer.concat([Buffer.from(PREFACE, 'latin1'), settings, ack, frame(FrameType.HEADERS, Flag.END_HEADERS, 1, Buffer.from([0x80]))]));
    });
    client.on('error', () => undefined);
    client.on('close', () => { resolve(); });
    client.resume();
  });
  await closed;
  const session = http2.connect(`http://127.0.0.1:${String(port)}`);
  t.teardown(() => { session.destroy(); });
  t.is(await get(session, { ':path': '/' }), 200);
});
