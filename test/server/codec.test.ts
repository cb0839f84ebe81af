// The binary codec of Raft entries and snapshots: every JSON-like value with byte
// arrays survives a round trip exactly; corrupt input is refused, never misread.
import test from 'ava';
import fc from 'fast-check';
import { CodecError, decodeValue, encodeValue, MAX_NESTING_DEPTH } from '../../core/server/binaryCodec.js';
import { decodeEnvelope, encodeEnvelope } from '../../core/server/requests.js';

const leaf = fc.oneof(
  fc.constant(null), fc.boolean(), fc.integer(), fc.maxSafeInteger(), fc.maxSafeNat().map((n) => -n),
  fc.double({ noNaN: true }), fc.string(), fc.string({ unit: 'binary' }), fc.uint8Array({ maxLength: 300 }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), // lease ids
);
const value = fc.letrec((tie) => ({
  node: fc.oneof({ depthSize: 'small', withCrossShrink: true }, leaf, tie('array'), tie('object')),
  array: fc.array(tie('node'), { maxLength: 5 }),
  object: fc.dictionary(fc.string(), tie('node'), { maxKeys: 5 }),
})).node;

test('every value round-trips, byte arrays as byte arrays', (t) => {
  fc.assert(fc.property(value, (v) => {
    t.deepEqual(decodeValue(encodeValue(v)), v);
  }), { numRuns: 2000 });
});

test('the writer is shared: a value encoded after a large one, or after a refused one, is its own bytes', (t) => {
  const small = encodeValue({ a: [1, 'x'] });
  const large = encodeValue({ blob: new Uint8Array(200_000).fill(7) });
  t.is(large.length > 200_000, true);
  t.deepEqual(encodeValue({ a: [1, 'x'] }), small);
  t.throws(() => encodeValue({ a: 2n ** 70n }), { instanceOf: CodecError });
  t.deepEqual(encodeValue({ a: [1, 'x'] }), small);
  const held = encodeValue('first');
  encodeValue('second, over the same buffer');
  t.is(decodeValue(held), 'first', 'an encoding is a copy, not a view of the writer');
});

test('a string that starts with a byte order mark keeps it', (t) => {
  for (const v of ['\uFEFF', '\uFEFFx', { k: '\uFEFF' }]) t.deepEqual(decodeValue(encodeValue(v)), v);
});

test('negative zero and non-integers keep their exact value', (t) => {
  for (const n of [-0, 0.1, -1e300, 2 ** 53, -(2 ** 53) - 2, Infinity, -Infinity]) t.is(decodeValue(encodeValue(n)), n);
});

test('bigints keep their exact value and stay bigints; a number stays a number', (t) => {
  for (const n of [0n, 1n, -1n, 2n ** 53n + 1n, 2n ** 62n + 12345n, 2n ** 63n - 1n, -(2n ** 63n)]) t.is(decodeValue(encodeValue(n)), n);
  t.is(decodeValue(encodeValue(5)), 5);
  t.not(decodeValue(encodeValue(5n)), 5);
});

test('a bigint outside int64 is refused on encoding, and over-long bigint bytes on decoding', (t) => {
  t.throws(() => encodeValue(2n ** 63n), { instanceOf: CodecError });
  t.throws(() => encodeValue(-(2n ** 63n) - 1n), { instanceOf: CodecError });
  t.throws(() => decodeValue(Uint8Array.of(0x09, ...Array<number>(10).fill(0xff), 0x01)), { instanceOf: CodecError });
  t.throws(() => decodeValue(Uint8Array.of(0x09, ...Array<number>(9).fill(0xff), 0x7f)), { instanceOf: CodecError }, 'beyond 64 bits');
});

test('a "__proto__" key is a field like any other', (t) => {
  const value: unknown = JSON.parse('{"__proto__":{"a":1},"b":2}');
  const decoded = decodeValue(encodeValue(value));
  t.deepEqual(decoded, value);
  t.is(Object.getPrototypeOf(decoded), Object.prototype);
});

test('undefined properties are left out, as JSON does', (t) => {
  t.deepEqual(decodeValue(encodeValue({ a: 1, b: undefined })), { a: 1 });
});

test('truncated or trailing bytes are refused with a CodecError', (t) => {
  fc.assert(fc.property(value, fc.nat(), (v, cut) => {
    const bytes = encodeValue(v);
    const at = cut % bytes.length;
    t.throws(() => decodeValue(bytes.subarray(0, at)), { instanceOf: CodecError });
    t.throws(() => decodeValue(Uint8Array.of(...bytes, 0)), { instanceOf: CodecError });
  }), { numRuns: 500 });
});

test('an entry that is not an envelope decodes to null, whatever its bytes', (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
    const decoded = decodeEnvelope(bytes);
    if (decoded !== null) t.is(typeof decoded.requestId, 'string');
  }), { numRuns: 2000 });
  const put = { key: Buffer.from('k'), value: Buffer.from([0, 255, 128]), lease: 2n ** 62n + 12345n };
  const envelope = decodeEnvelope(encodeEnvelope({ requestId: 'r1', proposedAtMs: 12.5, request: { kind: 'put', put } }));
  t.deepEqual(envelope?.request, { kind: 'put', put: { key: Uint8Array.of(107), value: Uint8Array.of(0, 255, 128), lease: 2n ** 62n + 12345n } });
});

test('nesting past MAX_NESTING_DEPTH is refused with a CodecError, not a stack overflow', (t) => {
  let deep: unknown = 'leaf';
  for (let i = 0; i < MAX_NESTING_DEPTH; i++) deep = [deep];
  t.deepEqual(decodeValue(encodeValue(deep)), deep, 'at the limit: decoded');
  // Arrays of one array, 100,000 deep (tag 0x07, count 1, …): far past any stack.
  const bytes = new Uint8Array(200_001);
  for (let i = 0; i < 200_000; i++) bytes[i] = i % 2 === 0 ? 0x07 : 0x01;
  t.throws(() => decodeValue(encodeValue([[deep]])), { instanceOf: CodecError, message: /nested deeper/ });
  t.throws(() => decodeValue(bytes), { instanceOf: CodecError });
});
