// --auth-token, --auth-token-ttl and --bcrypt-cost: defaults, the token spec etcd's
// decomposeOpts accepts, and etcd's refusals (texts recorded from etcd 3.4.23; the
// differential test in etcd-compat.test.ts runs etcd on the same flags).

import test from 'ava';
import { authFlagsFrom, DEFAULT_AUTH_FLAGS, goDurationError } from '../../../net/auth/authFlags.js';
import { parseFlags } from '../../../net/config/flags.js';

const flagsOf = (entries: Record<string, string>): ReturnType<typeof authFlagsFrom> => authFlagsFrom(new Map(Object.entries(entries)));

test('no auth flag: simple tokens for 300 s, bcrypt cost 10 (etcd\'s defaults), on Flags too', (t) => {
  t.deepEqual(flagsOf({}), { ok: true, flags: DEFAULT_AUTH_FLAGS });
  t.deepEqual(DEFAULT_AUTH_FLAGS, { token: { type: 'simple' }, tokenTtlSeconds: 300, bcryptCost: 10, warnings: [] });
  const parsed = parseFlags([]);
  t.true(parsed.ok && parsed.flags.auth.token.type === 'simple');
});

test('a JWT spec: options in any order, ttl a Go duration (5m by default), unknown options a warning', (t) => {
  t.deepEqual(flagsOf({ 'auth-token': 'jwt,priv-key=k.pem,sign-method=ES384,pub-key=p.pem,ttl=1h30m' }), { ok: true, flags: {
    ...DEFAULT_AUTH_FLAGS, token: { type: 'jwt', jwt: { signMethod: 'ES384', publicKeyFile: 'p.pem', privateKeyFile: 'k.pem', ttlMs: 5_400_000 } },
  } });
  const defaults = flagsOf({ 'auth-token': 'jwt,sign-method=RS256,priv-key=k.pem,zz=1,aa=2,ttl=' });
  if (!defaults.ok) { t.fail(defaults.error); return; }
  t.like(defaults.flags.token, { type: 'jwt', jwt: { ttlMs: 300_000, publicKeyFile: '' } });
  t.deepEqual(defaults.flags.warnings, ['unknown JWT options: [aa zz]']);
  const parsed = parseFlags(['--auth-token', 'jwt,sign-method=HS512,priv-key=secret', '--auth-token-ttl=60', '--bcrypt-cost', '12']);
  if (!parsed.ok) { t.fail(parsed.error); return; }
  t.like(parsed.flags.auth, { token: { type: 'jwt', jwt: { signMethod: 'HS512' } }, tokenTtlSeconds: 60, bcryptCost: 12 });
});

test('simple ignores its options; an empty --auth-token is etcd\'s nop provider', (t) => {
  t.like(flagsOf({ 'auth-token': 'simple,anything=1' }), { ok: true, flags: { token: { type: 'simple' } } });
  t.like(flagsOf({ 'auth-token': '' }), { ok: true, flags: { token: { type: 'none' } } });
});

test('a token spec etcd cannot use: `auth: invalid auth options`, exit 1, with the reason etcd logs', (t) => {
  const refused = (reason: string): ReturnType<typeof authFlagsFrom> => ({ ok: false, error: `auth: invalid auth options (${reason})`, exitCode: 1 });
  for (const [spec, reason] of [
    ['foo', 'unknown token type: foo'],
    ['JWT,sign-method=RS256', 'unknown token type: JWT'],
    ['simple,foo', 'invalid token specific option: simple,foo'],
    ['jwt,sign-method=RS256,a=b=c', 'invalid token specific option: jwt,sign-method=RS256,a=b=c'],
    ['jwt,sign-method=RS256,priv-key=k,ttl=1m,ttl=2m', 'invalid token specific option, duplicated parameters (ttl): jwt,sign-method=RS256,priv-key=k,ttl=1m,ttl=2m'],
    ['jwt', 'problem loading JWT options: auth: invalid auth signature method'],
    ['jwt,sign-method=XX', 'problem loading JWT options: auth: invalid auth signature method'],
    ['jwt,sign-method=rs256', 'problem loading JWT options: auth: invalid auth signature method'],
    ['jwt,sign-method=RS256,ttl=abc', 'problem loading JWT options: time: invalid duration "abc"'],
    ['jwt,sign-method=RS256,ttl=5', 'problem loading JWT options: time: missing unit in duration "5"'],
    ['jwt,sign-method=RS256,ttl=5d', 'problem loading JWT options: time: unknown unit "d" in duration "5d"'],
  ] as const) {
    t.deepEqual(flagsOf({ 'auth-token': spec }), refused(reason), spec);
  }
  t.deepEqual(parseFlags(['--auth-token=foo']), { ok: false, error: 'auth: invalid auth options (unknown token type: foo)', exitCode: 1 });
});

test('numbers as Go\'s uint flags: junk and negatives are usage errors (exit 2); base prefixes parse', (t) => {
  t.deepEqual(flagsOf({ 'bcrypt-cost': 'abc' }), { ok: false, error: 'invalid value "abc" for flag -bcrypt-cost: parse error', exitCode: 2 });
  t.deepEqual(flagsOf({ 'bcrypt-cost': '-1' }), { ok: false, error: 'invalid value "-1" for flag -bcrypt-cost: parse error', exitCode: 2 });
  t.deepEqual(flagsOf({ 'bcrypt-cost': '99999999999999999999' }),
    { ok: false, error: 'invalid value "99999999999999999999" for flag -bcrypt-cost: value out of range', exitCode: 2 });
  t.deepEqual(flagsOf({ 'auth-token-ttl': '-5' }), { ok: false, error: 'invalid value "-5" for flag -auth-token-ttl: parse error', exitCode: 2 });
  t.deepEqual(flagsOf({ 'auth-token-ttl': '' }), { ok: false, error: 'invalid value "" for flag -auth-token-ttl: parse error', exitCode: 2 });
  t.like(flagsOf({ 'bcrypt-cost': '0xc', 'auth-token-ttl': '010' }), { ok: true, flags: { bcryptCost: 12, tokenTtlSeconds: 8 } });
  t.like(flagsOf({ 'auth-token-ttl': '0' }), { ok: true, flags: { tokenTtlSeconds: 0 } });
});

test('a bcrypt cost outside [4, 31] is etcd\'s default with its warning, not a refusal', (t) => {
  t.deepEqual(flagsOf({ 'bcrypt-cost': '40' }), { ok: true, flags: { ...DEFAULT_AUTH_FLAGS, warnings: ['Use default bcrypt-cost 10 instead of the invalid value 40'] } });
  t.like(flagsOf({ 'bcrypt-cost': '3' }), { ok: true, flags: { bcryptCost: 10 } });
  t.like(flagsOf({ 'bcrypt-cost': '4' }), { ok: true, flags: { bcryptCost: 4, warnings: [] } });
});

test('Go\'s time.ParseDuration texts', (t) => {
  t.is(goDurationError(''), 'time: invalid duration ""');
  t.is(goDurationError('1h5'), 'time: missing unit in duration "1h5"');
  t.is(goDurationError('-x'), 'time: invalid duration "-x"');
  t.is(goDurationError('3 s'), 'time: unknown unit " s" in duration "3 s"');
});
