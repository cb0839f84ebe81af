// Lease ids are etcd's int64, exact over the whole range: parsed from and printed to
// the wire's decimal strings, printed as etcd's logs and etcdctl print them (%016x),
// and drawn by the server as random positive 63-bit ids.
import test from 'ava';
import fc from 'fast-check';
import {
  drawLeaseId, formatLeaseId, formatLeaseIdHex, leaseIdFromUint64, leaseIdToUint64, LEASE_ID_MAX, LEASE_ID_MIN, parseLeaseId,
} from '../../core/lease/leaseId.js';
import { SimRandom } from '../../sim/prng.js';

const int64 = fc.bigInt({ min: LEASE_ID_MIN, max: LEASE_ID_MAX });

test('decimal text round-trips every int64 exactly; text outside int64 or not decimal is refused', (t) => {
  fc.assert(fc.property(int64, (id) => parseLeaseId(formatLeaseId(id)) === id));
  t.is(parseLeaseId('4611686018427400249'), 2n ** 62n + 12345n);
  t.is(parseLeaseId('9223372036854775807'), 2n ** 63n - 1n);
  t.is(parseLeaseId('-9223372036854775808'), -(2n ** 63n));
  t.is(parseLeaseId(''), 0n, 'a field left out');
  for (const bad of ['9223372036854775808', '-9223372036854775809', '1e3', '0x10', ' 1', 'abc', '1.0', '99999999999999999999']) {
    t.is(parseLeaseId(bad), null, bad);
  }
});

test('hex as etcd prints an id (%016x of the int64)', (t) => {
  t.is(formatLeaseIdHex(2n ** 62n + 12345n), '4000000000003039');
  t.is(formatLeaseIdHex(255n), '00000000000000ff');
  t.is(formatLeaseIdHex(-5n), '-000000000000005', 'as etcdctl lease list prints lease -5');
  t.is(formatLeaseIdHex(-(2n ** 63n)), '-8000000000000000');
});

test('an id as 64 bits and back (bbolt and LMDB keys): two\'s complement, exact', (t) => {
  fc.assert(fc.property(int64, (id) => leaseIdFromUint64(leaseIdToUint64(id)) === id));
  t.is(leaseIdToUint64(-1n), 2n ** 64n - 1n);
});

test('server-drawn ids: all in 1..2^63-1, distinct, most beyond 2^53, exact', (t) => {
  const random = new SimRandom(42);
  const drawn = Array.from({ length: 5000 }, () => drawLeaseId((n) => random.intBelow(n)));
  t.true(drawn.every((id) => id >= 1n && id <= LEASE_ID_MAX), 'positive 63-bit');
  t.is(new Set(drawn).size, drawn.length, 'distinct');
  const beyond = drawn.filter((id) => id > 2n ** 53n).length;
  t.true(beyond > drawn.length * 0.9, `${beyond} of ${drawn.length} beyond 2^53`);
  t.true(drawn.some((id) => id >= 2n ** 62n), 'the top bit of 63 is drawn too');
  // Beyond 2^53 a number would round: these ids do not survive Number(), so only bigints carry them.
  t.true(drawn.some((id) => BigInt(Number(id)) !== id));
});

test('a source that draws 0 is asked again, never gives lease 0', (t) => {
  const answers = [0, 0, 0, 5];
  t.is(drawLeaseId(() => answers.shift() ?? 0), 5n);
});
