// The HPACK decoder against a real encoder: node's http2 client (nghttp2's deflater,
// which uses the dynamic table and Huffman coding) sends random requests on one
// connection, and the decoder must read each header list exactly, block after block.
import test from 'ava';
import fc from 'fast-check';
import http2 from 'node:http2';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { CLIENT_PREFACE, HEADER_LIMITS } from '../../../net/http2/authorityRewriter.js';
import { EMPTY_SETTINGS, FrameSplitter } from '../../../net/http2/frames.js';
import { HeaderBlockAssembler } from '../../../net/http2/headerBlock.js';
import { HpackDecoder, type HeaderField } from '../../../net/http2/hpackDecoder.js';

/** The header lists the first `count` requests on a node:http2 connection carry, as our decoder reads them. */
async function decodedRequests(send: (session: http2.ClientHttp2Session) => void, count: number): Promise<HeaderField[][]> {
  const lists: HeaderField[][] = [];
  let client: http2.ClientHttp2Session | undefined;
  const server = createServer();
  const done = new Promise<void>((resolve, reject) => {
    server.on('connection', (socket: Socket) => {
      socket.write(EMPTY_SETTINGS);
      let head = Buffer.alloc(0);
      const splitter = new FrameSplitter();
      const blocks = new HeaderBlockAssembler(HEADER_LIMITS.maxBlockBytes);
      const decoder = new HpackDecoder(HEADER_LIMITS);
      socket.on('data', (chunk: Buffer) => {
        try {
          let rest = chunk;
          if (head.length < CLIENT_PREFACE.length) {
            const take = CLIENT_PREFACE.length - head.length;
            head = Buffer.concat([head, rest.subarray(0, take)]);
            rest = rest.subarray(take);
          }
          for (const f of splitter.push(rest)) {
            if (f.type !== 1 && f.type !== 9) continue;
            const block = blocks.push(f);
            if (block !== null) lists.push(decoder.decode(block.block));
          }
          if (lists.length >= count) resolve();
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
      socket.on('error', () => undefined);
    });
  });
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve); });
  try {
    client = http2.connect(`http://127.0.0.1:${String((server.address() as AddressInfo).port)}`);
    client.on('error', () => undefined);
    send(client);
    await done;
    return lists;
  } finally {
    client?.destroy();
    await new Promise<void>((resolve) => { server.close(() => { resolve(); }); });
  }
}

const headerName = fc.stringMatching(/^[a-z][a-z0-9-]{0,15}$/).map((name) => `x-${name}`);
const headerValue = fc.stringMatching(/^[A-Za-z0-9./:_-]{0,60}$/);
const requestHeaders = fc.dictionary(headerName, headerValue, { maxKeys: 8 });

test('decoder: reads every block node\'s http2 client encodes on one connection', async (t) => {
  await fc.assert(fc.asyncProperty(fc.array(requestHeaders, { minLength: 1, maxLength: 6 }), async (requests) => {
    const lists = await decodedRequests((session) => {
      requests.forEach((extra, i) => {
        const stream = session.request({ ':path': `/p/${String(i)}`, ':authority': 'http://127.0.0.1:2379', ...extra });
        stream.on('error', () => undefined);
      });
    }, requests.length);
    t.is(lists.length, requests.length);
    lists.forEach((list, i) => {
      const byName = new Map(list.map((f) => [f.name, f.value]));
      t.is(byName.get(':authority'), 'http://127.0.0.1:2379');
      t.is(byName.get(':path'), `/p/${String(i)}`);
      const custom = list.filter((f) => f.name.startsWith('x-')).map((f) => [f.name, f.value]);
      t.deepEqual(custom.sort(), Object.entries(requests[i] ?? {}).sort());
    });
  }), { numRuns: 25 });
});
