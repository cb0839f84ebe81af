// The HPACK decoder and encoder (RFC 7541). The decoder is checked against the RFC's
// own examples (Appendix C: exact bytes, exact header lists, exact dynamic tables and
// sizes), the encoder by round trips, and both against random bytes: a client can send
// anything, and the only acceptable failure is an HpackError.
import test from 'ava';
import fc from 'fast-check';
import { huffmanDecode, huffmanEncode, HuffmanError } from '../../../net/http2/huffman.js';
import { HpackDecoder, HpackError, type HeaderField } from '../../../net/http2/hpackDecoder.js';
import { encodeWithoutIndexing } from '../../../net/http2/hpackEncoder.js';

const hex = (text: string): Buffer => Buffer.from(text.replace(/\s+/g, ''), 'hex');
const pair = (name: string, value: string): HeaderField => ({ name, value, neverIndexed: false });
const decoder = (maxTableBytes = 4096): HpackDecoder => new HpackDecoder({ maxTableBytes, maxListBytes: 1 << 20 });

test('huffman: RFC 7541 C.4.1 "www.example.com" both ways', (t) => {
  t.deepEqual(huffmanEncode(Buffer.from('www.example.com')), hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff'));
  t.is(huffmanDecode(hex('f1e3 c2e5 f23a 6ba0 ab90 f4ff')).toString(), 'www.example.com');
  t.is(huffmanDecode(hex('a8eb 1064 9cbf')).toString(), 'no-cache');
});

test('huffman: any bytes round-trip', (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
    t.deepEqual(huffmanDecode(huffmanEncode(bytes)), Buffer.from(bytes));
  }), { numRuns: 1000 });
  t.pass();
});

test('huffman: EOS, long padding and non-1 padding are errors (RFC 7541 §5.2)', (t) => {
  // 30 one bits (EOS) and 2 more: the EOS symbol itself.
  t.throws(() => huffmanDecode(hex('ffff ffff')), { instanceOf: HuffmanError });
  // "a" is 00011 (5 bits); padding 000 is not the EOS prefix.
  t.throws(() => huffmanDecode(Buffer.from([0b00011000])), { instanceOf: HuffmanError });
  // A whole byte of padding (8 one bits) after a symbol.
  t.throws(() => huffmanDecode(Buffer.from([0b00011111, 0xff])), { instanceOf: HuffmanError });
  t.is(huffmanDecode(Buffer.from([0b00011111])).toString(), 'a');
});

test('decoder: RFC 7541 C.2.1–C.2.4, one representation each', (t) => {
  const cases: [string, Buffer, HeaderField, number][] = [
    ['C.2.1 with indexing', hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'), pair('custom-key', 'custom-header'), 1],
    ['C.2.2 without indexing', hex('040c 2f73 616d 706c 652f 7061 7468'), pair(':path', '/sample/path'), 0],
    ['C.2.3 never indexed', hex('1008 7061 7373 776f 7264 0673 6563 7265 74'), { name: 'password', value: 'secret', neverIndexed: true }, 0],
    ['C.2.4 indexed', Buffer.from([0x82]), pair(':method', 'GET'), 0],
  ];
  for (const [name, block, field, tableLength] of cases) {
    const d = decoder();
    t.deepEqual(d.decode(block), [field], name);
    t.is(d.dynamicTable.length, tableLength, name);
  }
  const d = decoder();
  d.decode(cases[0]?.[1] ?? Buffer.alloc(0));
  t.is(d.dynamicTableBytes, 55);
});

interface Step {
  readonly block: Buffer;
  readonly fields: readonly HeaderField[];
  readonly table: readonly (readonly [string, string])[];
  readonly tableBytes: number;
}

function series(t: { deepEqual: (a: unknown, b: unknown, m?: string) => void; is: (a: unknown, b: unknown, m?: string) => void }, maxTableBytes: number, steps: readonly Step[]): void {
  const d = decoder(maxTableBytes);
  steps.forEach((step, i) => {
    t.deepEqual(d.decode(step.block), step.fields, `step ${i + 1}: fields`);
    t.deepEqual(d.dynamicTable, step.table, `step ${i + 1}: table`);
    t.is(d.dynamicTableBytes, step.tableBytes, `step ${i + 1}: table size`);
  });
}

const requests = [
  [pair(':method', 'GET'), pair(':scheme', 'http'), pair(':path', '/'), pair(':authority', 'www.example.com')],
  [pair(':method', 'GET'), pair(':scheme', 'http'), pair(':path', '/'), pair(':authority', 'www.example.com'), pair('cache-control', 'no-cache')],
  [pair(':method', 'GET'), pair(':scheme', 'https'), pair(':path', '/index.html'), pair(':authority', 'www.example.com'), pair('custom-key', 'custom-value')],
];
const requestTables: [string, string][][] = [
  [[':authority', 'www.example.com']],
  [['cache-control', 'no-cache'], [':authority', 'www.example.com']],
  [['custom-key', 'custom-value'], ['cache-control', 'no-cache'], [':authority', 'www.example.com']],
];
const requestSizes = [57, 110, 164];

const requestSteps = (blocks: Buffer[]): Step[] => blocks.map((block, i) => ({
  block, fields: requests[i] ?? [], table: requestTables[i] ?? [], tableBytes: requestSizes[i] ?? 0,
}));

test('decoder: RFC 7541 C.3, three requests without Huffman on one connection', (t) => {
  series(t, 4096, requestSteps([
    hex('8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d'),
    hex('8286 84be 5808 6e6f 2d63 6163 6865'),
    hex('8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65'),
  ]));
});

test('decoder: RFC 7541 C.4, the same requests with Huffman', (t) => {
  series(t, 4096, requestSteps([
    hex('8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff'),
    hex('8286 84be 5886 a8eb 1064 9cbf'),
    hex('8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf'),
  ]));
});

const date21 = 'Mon, 21 Oct 2013 20:13:21 GMT';
const date22 = 'Mon, 21 Oct 2013 20:13:22 GMT';
const location = 'https://www.example.com';
const cookie = 'foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1';
const responses = [
  [pair(':status', '302'), pair('cache-control', 'private'), pair('date', date21), pair('location', location)],
  [pair(':status', '307'), pair('cache-control', 'private'), pair('date', date21), pair('location', location)],
  [pair(':status', '200'), pair('cache-control', 'private'), pair('date', date22), pair('location', location), pair('content-encoding', 'gzip'), pair('set-cookie', cookie)],
];
const responseTables: [string, string][][] = [
  [['location', location], ['date', date21], ['cache-control', 'private'], [':status', '302']],
  [[':status', '307'], ['location', location], ['date', date21], ['cache-control', 'private']],
  [['set-cookie', cookie], ['content-encoding', 'gzip'], ['date', date22]],
];
const responseSizes = [222, 222, 215];
const responseSteps = (blocks: Buffer[]): Step[] => blocks.map((block, i) => ({
  block, fields: responses[i] ?? [], table: responseTables[i] ?? [], tableBytes: responseSizes[i] ?? 0,
}));

test('decoder: RFC 7541 C.5, responses with a 256-byte table (evictions), no Huffman', (t) => {
  series(t, 256, responseSteps([
    hex(`4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133
         2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70
         6c65 2e63 6f6d`),
    hex('4803 3330 37c1 c0bf'),
    hex(`88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d
         54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049
         5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e
         3d31`),
  ]));
});

test('decoder: RFC 7541 C.6, the same responses with Huffman', (t) => {
  series(t, 256, responseSteps([
    hex(`4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6
         2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3`),
    hex('4883 640e ffc1 c0bf'),
    hex(`88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab
         77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f
         9587 3160 65c0 03ed 4ee5 b106 3d50 07`),
  ]));
});

test('decoder: size updates shrink the table, must come first, and may not exceed the announced size', (t) => {
  const d = decoder();
  d.decode(hex('400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572'));
  t.is(d.dynamicTable.length, 1);
  t.deepEqual(d.decode(Buffer.from([0x20, 0x82])), [pair(':method', 'GET')]); // size 0 evicts all
  t.is(d.dynamicTableBytes, 0);
  t.throws(() => d.decode(Buffer.from([0x82, 0x20])), { instanceOf: HpackError });
  t.throws(() => decoder().decode(Buffer.from([0x3f, 0xe2, 0x1f])), { instanceOf: HpackError }); // 4097 > 4096
});

test('decoder: malformed blocks are HpackErrors', (t) => {
  const bad = [
    [0x80], // index 0
    [0xbe], // index 62, the dynamic table is empty
    [0x0f], // a truncated integer
    [0x00, 0x05, 0x61], // a string shorter than its length
    [0x00, 0x81, 0x00, 0x00], // Huffman with bad padding
    [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], // an integer past 2^31
  ];
  for (const block of bad) t.throws(() => decoder().decode(Buffer.from(block)), { instanceOf: HpackError }, Buffer.from(block).toString('hex'));
});

test('decoder: a header list over the limit is refused while it grows (indexed amplification)', (t) => {
  const d = new HpackDecoder({ maxTableBytes: 4096, maxListBytes: 10_000 });
  // One 4000-byte entry, then a block that indexes it 100 times: 4 MB from 100 bytes.
  const big = encodeLiteralWithIndexing('x', 'y'.repeat(3960));
  d.decode(big);
  t.throws(() => d.decode(Buffer.alloc(100, 0xbe)), { instanceOf: HpackError, message: /over 10000/ });
});

/** §6.2.1 with a new name, plain strings (lengths below 2^14). */
function encodeLiteralWithIndexing(name: string, value: string): Buffer {
  const string = (text: string): Buffer => {
    const length = text.length < 127 ? Buffer.from([text.length]) : Buffer.from([0x7f, ((text.length - 127) & 0x7f) | 0x80, (text.length - 127) >> 7]);
    return Buffer.concat([length, Buffer.from(text, 'latin1')]);
  };
  return Buffer.concat([Buffer.from([0x40]), string(name), string(value)]);
}

const headerName = fc.oneof(
  fc.constantFrom(':authority', ':method', ':path', ':scheme', 'content-type', 'te', 'user-agent', 'grpc-timeout'),
  fc.string({ minLength: 1, maxLength: 20 }).map((s) => Buffer.from(s).toString('latin1')),
);
const headerValue = fc.oneof(fc.constantFrom('', 'GET', 'POST', '/', 'http', 'https', 'trailers'), fc.string({ maxLength: 200 }).map((s) => Buffer.from(s).toString('latin1')));
const fields = fc.array(fc.record({ name: headerName, value: headerValue, neverIndexed: fc.boolean() }), { maxLength: 30 });

test('encoder: what it encodes decodes to the same list, and leaves the dynamic table empty', (t) => {
  const d = decoder();
  fc.assert(fc.property(fields, (list) => {
    t.deepEqual(d.decode(encodeWithoutIndexing(list)), list);
    t.is(d.dynamicTable.length, 0);
  }), { numRuns: 500 });
});

test('decoder: random bytes give a list or an HpackError, never anything else', (t) => {
  fc.assert(fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { minLength: 1, maxLength: 5 }), (blocks) => {
    // One decoder across blocks, as on a connection: table state carries over.
    const d = new HpackDecoder({ maxTableBytes: 4096, maxListBytes: 65_535 });
    for (const block of blocks) {
      try {
        d.decode(block);
      } catch (error) {
        if (!(error instanceof HpackError)) throw error;
        return;
      }
    }
  }), { numRuns: 5000 });
  t.pass();
});
