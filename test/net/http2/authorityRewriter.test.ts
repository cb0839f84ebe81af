// The frame rewriter and the opening inspector, on hand-built frames: what is rewritten,
// what passes untouched, and what ends the connection.
import test from 'ava';
import fc from 'fast-check';
import { plainAuthority } from '../../../net/http2/authority.js';
import { AuthorityRewriter, CLIENT_PREFACE } from '../../../net/http2/authorityRewriter.js';
import { Flag, FrameError, FrameSplitter, FrameType, frame, MAX_FRAME_PAYLOAD, type Frame } from '../../../net/http2/frames.js';
import { HeaderBlockAssembler } from '../../../net/http2/headerBlock.js';
import { HpackDecoder, HpackError, type HeaderField } from '../../../net/http2/hpackDecoder.js';
import { encodeWithoutIndexing } from '../../../net/http2/hpackEncoder.js';
import { OpeningInspector } from '../../../net/http2/openingInspector.js';

const pair = (name: string, value: string): HeaderField => ({ name, value, neverIndexed: false });
const request = (authority: string, extra: HeaderField[] = []): HeaderField[] => [
  pair(':method', 'POST'), pair(':scheme', 'http'), pair(':path', '/etcdserverpb.Maintenance/Status'), pair(':authority', authority), ...extra,
];
const settings = frame(FrameType.SETTINGS, 0, 0, Buffer.alloc(0));
const settingsAck = frame(FrameType.SETTINGS, Flag.ACK, 0, Buffer.alloc(0));
const ping = frame(FrameType.PING, 0, 0, Buffer.alloc(8));
const windowUpdate = frame(FrameType.WINDOW_UPDATE, 0, 0, Buffer.from([0, 0, 0x10, 0]));
const data = (streamId: number): Buffer => frame(FrameType.DATA, Flag.END_STREAM, streamId, Buffer.from('payload'));
const headers = (streamId: number, fields: HeaderField[], flags = Flag.END_HEADERS): Buffer => frame(FrameType.HEADERS, flags, streamId, encodeWithoutIndexing(fields));

/** Frames of the rewriter's output, and the header lists a fresh server decoder reads from them. */
function serverView(out: Buffer[]): { frames: Frame[]; lists: HeaderField[][] } {
  const bytes = Buffer.concat(out);
  if (!bytes.subarray(0, CLIENT_PREFACE.length).equals(CLIENT_PREFACE)) throw new Error('no preface');
  const frames = new FrameSplitter().push(bytes.subarray(CLIENT_PREFACE.length));
  const blocks = new HeaderBlockAssembler(1 << 20);
  const decoder = new HpackDecoder({ maxTableBytes: 4096, maxListBytes: 1 << 20 });
  const lists: HeaderField[][] = [];
  for (const f of frames) {
    if (f.type !== FrameType.HEADERS && f.type !== FrameType.CONTINUATION) continue;
    const block = blocks.push(f);
    if (block !== null) lists.push(decoder.decode(block.block));
  }
  return { frames, lists };
}

test('plainAuthority: a URL becomes its host:port, a path "localhost"; valid authorities are left alone', (t) => {
  t.is(plainAuthority('http://127.0.0.1:2379'), '127.0.0.1:2379');
  t.is(plainAuthority('https://[::1]:2379/'), '[::1]:2379');
  t.is(plainAuthority('unixs://localhost:1234'), 'localhost:1234');
  t.is(plainAuthority('unix:///tmp/etcd.sock'), 'localhost');
  t.is(plainAuthority('/tmp/etcd.sock'), 'localhost');
  t.is(plainAuthority('bad host'), 'localhost');
  for (const valid of ['127.0.0.1:2379', 'localhost', 'user@h:1', '[fe80::1%25eth0]:2379', '']) t.is(plainAuthority(valid), valid);
});

test('rewriter: the :authority is made plain, other frames pass byte for byte, in order', (t) => {
  const rewriter = new AuthorityRewriter();
  const input = Buffer.concat([CLIENT_PREFACE, settings, windowUpdate, headers(1, request('http://127.0.0.1:2379')), data(1), ping]);
  const { frames, lists } = serverView(rewriter.push(input));
  t.deepEqual(frames.map((f) => f.type), [FrameType.SETTINGS, FrameType.WINDOW_UPDATE, FrameType.HEADERS, FrameType.DATA, FrameType.PING]);
  t.deepEqual(lists, [request('127.0.0.1:2379')]);
  t.deepEqual(frames[1]?.raw, windowUpdate);
  t.deepEqual(frames[3]?.raw, data(1));
});

test('rewriter: any chunking gives the same bytes', (t) => {
  const input = Buffer.concat([CLIENT_PREFACE, settings, headers(1, request('http://a:1')), data(1), headers(3, request('http://a:1', [pair('x', 'y')])), ping]);
  const whole = Buffer.concat(new AuthorityRewriter().push(input));
  fc.assert(fc.property(fc.array(fc.nat(input.length), { maxLength: 8 }), (cuts) => {
    const points = [0, ...cuts.sort((a, b) => a - b), input.length];
    const rewriter = new AuthorityRewriter();
    const out: Buffer[] = [];
    for (let i = 1; i < points.length; i++) out.push(...rewriter.push(input.subarray(points[i - 1], points[i])));
    t.deepEqual(Buffer.concat(out), whole);
  }), { numRuns: 200 });
});

test('rewriter: padding is dropped, priority and END_STREAM are kept', (t) => {
  const block = encodeWithoutIndexing(request('http://h:1'));
  const priority = Buffer.from([0x80, 0, 0, 3, 200]); // exclusive, depends on 3, weight 201
  const payload = Buffer.concat([Buffer.from([4]), priority, block, Buffer.alloc(4)]);
  const input = Buffer.concat([CLIENT_PREFACE, frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM | Flag.PADDED | Flag.PRIORITY, 5, payload)]);
  const { frames, lists } = serverView(new AuthorityRewriter().push(input));
  const out = frames[0];
  t.is(out?.flags, Flag.END_HEADERS | Flag.END_STREAM | Flag.PRIORITY);
  t.is(out?.streamId, 5);
  t.deepEqual(out?.payload.subarray(0, 5), priority);
  t.deepEqual(lists, [request('h:1')]);
});

test('rewriter: a block split over CONTINUATIONs is joined, and a large one re-split within the frame size', (t) => {
  const big = pair('grpc-metadata-bin', 'z'.repeat(40_000));
  const block = encodeWithoutIndexing(request('http://h:1', [big]));
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < block.length; offset += 10_000) {
    const last = offset + 10_000 >= block.length;
    pieces.push(frame(offset === 0 ? FrameType.HEADERS : FrameType.CONTINUATION, last ? Flag.END_HEADERS : 0, 1, block.subarray(offset, offset + 10_000)));
  }
  const input = Buffer.concat([CLIENT_PREFACE, ...pieces]);
  const { frames, lists } = serverView(new AuthorityRewriter().push(input));
  t.deepEqual(lists, [request('h:1', [big])]);
  t.true(frames.length >= 3);
  t.true(frames.every((f) => f.payload.length <= MAX_FRAME_PAYLOAD));
  t.deepEqual(frames.map((f) => f.type), [FrameType.HEADERS, ...frames.slice(1).map(() => FrameType.CONTINUATION)]);
  t.deepEqual(frames.map((f) => (f.flags & Flag.END_HEADERS) !== 0), frames.map((_, i) => i === frames.length - 1));
});

test('rewriter: the client\'s dynamic table is followed across blocks, the server\'s stays empty', (t) => {
  // The client inserts :authority (literal with incremental indexing, name index 1), then refers to it by index 62.
  const authority = Buffer.from('http://h:1', 'latin1');
  const first = Buffer.concat([Buffer.from([0x83, 0x86, 0x84, 0x41, authority.length]), authority]);
  const second = Buffer.from([0x83, 0x86, 0x84, 0xbe]);
  const input = Buffer.concat([CLIENT_PREFACE, frame(FrameType.HEADERS, Flag.END_HEADERS, 1, first), frame(FrameType.HEADERS, Flag.END_HEADERS, 3, second)]);
  const expected = [pair(':method', 'POST'), pair(':scheme', 'http'), pair(':path', '/'), pair(':authority', 'h:1')];
  t.deepEqual(serverView(new AuthorityRewriter().push(input)).lists, [expected, expected]);
});

test('rewriter: broken framing and HPACK end the connection (an error, never a crash)', (t) => {
  const cases: [string, Buffer][] = [
    ['a frame between HEADERS and its CONTINUATION', Buffer.concat([frame(FrameType.HEADERS, 0, 1, Buffer.from([0x82])), ping])],
    ['CONTINUATION on another stream', Buffer.concat([frame(FrameType.HEADERS, 0, 1, Buffer.from([0x82])), frame(FrameType.CONTINUATION, Flag.END_HEADERS, 3, Buffer.from([0x84]))])],
    ['PUSH_PROMISE from a client', frame(FrameType.PUSH_PROMISE, Flag.END_HEADERS, 1, Buffer.from([0, 0, 0, 2, 0x82]))],
    ['padding longer than the payload', frame(FrameType.HEADERS, Flag.END_HEADERS | Flag.PADDED, 1, Buffer.from([9, 0x82]))],
    ['an oversized frame', Buffer.concat([Buffer.from([0x00, 0x40, 0x01, 0, 0, 0, 0, 0, 1])])],
    ['HEADERS on stream 0', frame(FrameType.HEADERS, Flag.END_HEADERS, 0, Buffer.from([0x82]))],
  ];
  for (const [name, bytes] of cases) {
    t.throws(() => new AuthorityRewriter().push(Buffer.concat([CLIENT_PREFACE, bytes])), { instanceOf: FrameError }, name);
  }
  t.throws(() => new AuthorityRewriter().push(Buffer.concat([CLIENT_PREFACE, frame(FrameType.HEADERS, Flag.END_HEADERS, 1, Buffer.from([0x80]))])), { instanceOf: HpackError });
});

test('rewriter: random frames after the preface give bytes or a Frame/HPACK error', (t) => {
  const anyFrame = fc.record({
    type: fc.integer({ min: 0, max: 10 }),
    flags: fc.integer({ min: 0, max: 255 }),
    streamId: fc.integer({ min: 0, max: 7 }),
    payload: fc.uint8Array({ maxLength: 64 }),
  }).map((f) => frame(f.type, f.flags, f.streamId, Buffer.from(f.payload)));
  fc.assert(fc.property(fc.array(anyFrame, { maxLength: 10 }), (frames) => {
    try {
      new AuthorityRewriter().push(Buffer.concat([CLIENT_PREFACE, ...frames]));
    } catch (error) {
      if (!(error instanceof FrameError || error instanceof HpackError)) throw error;
    }
  }), { numRuns: 3000 });
  t.pass();
});

test('inspector: a URL :authority in the first request means rewrite; our SETTINGS ACK is cut out', (t) => {
  const inspector = new OpeningInspector();
  const first = headers(1, request('http://127.0.0.1:2379'));
  t.deepEqual(inspector.push(Buffer.concat([settings, windowUpdate, first])), { kind: 'wait' }); // no ACK yet
  const verdict = inspector.push(Buffer.concat([settingsAck, data(1)]));
  t.deepEqual(verdict, { kind: 'rewrite', bytes: Buffer.concat([settings, windowUpdate, first, data(1)]) });
});

test('inspector: a plain :authority, a PING first, or giving up mean raw', (t) => {
  const plain = new OpeningInspector();
  const partial = data(1).subarray(0, 5);
  t.deepEqual(plain.push(Buffer.concat([settings, settingsAck, headers(1, request('127.0.0.1:2379')), partial])),
    { kind: 'raw', bytes: Buffer.concat([settings, headers(1, request('127.0.0.1:2379')), partial]) });

  const pinged = new OpeningInspector();
  t.deepEqual(pinged.push(Buffer.concat([settings, ping])), { kind: 'wait' });
  t.deepEqual(pinged.push(settingsAck), { kind: 'raw', bytes: Buffer.concat([settings, ping]) });

  const idle = new OpeningInspector();
  t.deepEqual(idle.push(Buffer.concat([settings, settingsAck])), { kind: 'wait' });
  t.deepEqual(idle.giveUp(), { kind: 'raw', bytes: settings });
});

test('inspector: a second ACK is the client\'s business and is kept; an endless opening is refused', (t) => {
  const inspector = new OpeningInspector();
  t.deepEqual(inspector.push(Buffer.concat([settings, settingsAck, settingsAck, ping])), { kind: 'raw', bytes: Buffer.concat([settings, settingsAck, ping]) });
  // A header block over 64 KiB, and an opening that never gets to a request.
  const huge = new OpeningInspector();
  const continuations = Array.from({ length: 7 }, () => frame(FrameType.CONTINUATION, 0, 1, Buffer.alloc(10_000, 0x82)));
  t.throws(() => huge.push(Buffer.concat([settings, frame(FrameType.HEADERS, 0, 1, Buffer.from([0x82])), ...continuations])), { instanceOf: FrameError, message: /header block over/ });
  const endless = new OpeningInspector();
  const bigSettings = frame(FrameType.SETTINGS, 0, 0, Buffer.alloc(MAX_FRAME_PAYLOAD - 4));
  t.throws(() => endless.push(Buffer.concat(Array.from({ length: 9 }, () => bigSettings))), { instanceOf: FrameError, message: /opening bytes/ });
});
