// Go's strconv.ParseUint(s, 0, 32), as etcd's uint32 flags parse: the expected values and
// errors below are what Go 1.19 prints for each input (go run on this machine).
import test from 'ava';
import { parseGoUint } from '../../../net/config/goUint.js';

const ACCEPTED: readonly (readonly [string, number])[] = [
  ['0', 0], ['00', 0], ['0x10', 16], ['0X1f', 31], ['0o17', 15], ['017', 15], ['0b101', 5], ['1_000', 1000],
  ['0_7', 7], ['0x_1', 1], ['4294967295', 4294967295], ['0xFFFFFFFF', 4294967295],
];
const SYNTAX = ['0x', '0o', '0b', '08', '_1', '1_', '1__0', '0_x1', '-1', '+1', '', ' 1', '1e3', 'ab'];
const RANGE = ['4294967296', '99999999999x', '0x1_0000_0000'];

test('accepts what Go accepts, with Go\'s base prefixes and underscores', (t) => {
  for (const [raw, value] of ACCEPTED) t.deepEqual(parseGoUint(raw), { ok: true, value }, raw);
});

test('refuses with Go\'s words: invalid syntax, or value out of range (which wins when it comes first)', (t) => {
  for (const raw of SYNTAX) t.deepEqual(parseGoUint(raw), { ok: false, error: `strconv.ParseUint: parsing ${JSON.stringify(raw)}: invalid syntax` }, raw);
  for (const raw of RANGE) t.deepEqual(parseGoUint(raw), { ok: false, error: `strconv.ParseUint: parsing ${JSON.stringify(raw)}: value out of range` }, raw);
});
