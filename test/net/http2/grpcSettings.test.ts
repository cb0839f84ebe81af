// The rewriter cuts frames to 16384 bytes and sizes its HPACK decoder for a 4096-byte
// table because that is what grpc-js's server announces (node's defaults). Pin it: if a
// grpc-js upgrade announces other values, this test says so before clients notice.
import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { connect } from 'node:net';
import { CLIENT_PREFACE, HEADER_LIMITS } from '../../../net/http2/authorityRewriter.js';
import { EMPTY_SETTINGS, FrameSplitter, FrameType, MAX_FRAME_PAYLOAD } from '../../../net/http2/frames.js';

const SETTINGS_HEADER_TABLE_SIZE = 0x1;
const SETTINGS_MAX_FRAME_SIZE = 0x5;

test('grpc-js\'s server announces the frame size and header table size the rewriter assumes', async (t) => {
  const server = new grpc.Server({ 'grpc.max_receive_message_length': 2 * 1024 * 1024 });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) => { if (error === null) resolve(bound); else reject(error); });
  });
  t.teardown(() => { server.forceShutdown(); });
  const settings = await new Promise<Map<number, number>>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => { socket.write(Buffer.concat([CLIENT_PREFACE, EMPTY_SETTINGS])); });
    const splitter = new FrameSplitter();
    socket.on('data', (chunk: Buffer) => {
      const first = splitter.push(chunk).find((f) => f.type === FrameType.SETTINGS && f.flags === 0);
      if (first === undefined) return;
      const values = new Map<number, number>();
      for (let offset = 0; offset + 6 <= first.payload.length; offset += 6) values.set(first.payload.readUInt16BE(offset), first.payload.readUInt32BE(offset + 2));
      socket.destroy();
      resolve(values);
    });
    socket.on('error', reject);
  });
  t.is(settings.get(SETTINGS_MAX_FRAME_SIZE) ?? MAX_FRAME_PAYLOAD, MAX_FRAME_PAYLOAD);
  t.is(settings.get(SETTINGS_HEADER_TABLE_SIZE) ?? 4096, HEADER_LIMITS.maxTableBytes);
});
