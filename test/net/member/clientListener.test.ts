// The client-port multiplexer: HTTP/2's connection preface decides, whatever the
// chunking, and the bytes read while deciding reach the server the socket goes to.
import test from 'ava';
import type * as grpc from '@grpc/grpc-js';
import { createServer } from 'node:http';
import { connect, type Socket } from 'node:net';
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

test('a preface split over several packets goes to the gRPC side with every byte', async (t) => {
  const received = new Promise<string>((resolve) => {
    // Stands in for grpc-js's injector: records what the handed-over socket delivers.
    const injector = {
      injectConnection: (socket: Socket) => {
        let text = '';
        socket.on('data', (chunk: Buffer) => {
          text += chunk.toString('latin1');
          if (text.length >= PREFACE.length + 4) resolve(text);
        });
      },
    } as unknown as grpc.ConnectionInjector;
    const listener = new ClientListener({ grpc: injector, http: createServer() });
    void listener.listen('127.0.0.1', 0).then((port) => {
      const client = connect(port, '127.0.0.1', () => {
        client.write(PREFACE.slice(0, 3));
        setTimeout(() => { client.write(PREFACE.slice(3, 20)); }, 20);
        setTimeout(() => { client.end(PREFACE.slice(20) + 'tail'); }, 40);
      });
      void received.then(() => listener.close());
    });
  });
  t.is(await received, PREFACE + 'tail');
});
