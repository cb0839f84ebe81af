// The JWT provider: round trips for every sign method etcd accepts, tokens byte-equal to
// golang-jwt's, and the refusals (tampered, truncated, expired, another key, another
// alg, claims of the wrong type). Time is the injected `nowMs`; no clock is read.

import test from 'ava';
import { INVALID_TOKEN, type TokenContext } from '../../../core/auth/tokens.js';
import { DEFAULT_AUTH_FLAGS } from '../../../net/auth/authFlags.js';
import { ERR_VERIFY_ONLY, JwtTokens, TokenSigningError } from '../../../net/auth/jwtTokens.js';
import { signMethod, signWith } from '../../../net/auth/jwtMethods.js';
import { tokenProviderFor } from '../../../net/auth/tokenProviders.js';
import { ecPair, pairsFor, rsaPair } from './keys.js';

const ALGS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512'];
const CURVES: Readonly<Record<string, 'P-256' | 'P-384' | 'P-521' | undefined>> = { ES256: 'P-256', ES384: 'P-384', ES512: 'P-521' };
const pairs = pairsFor();

/** 2026-12-02T20:00:00.500Z, in ms. */
const NOW_MS = 1_796_241_600_500;
const at = (nowMs: number): TokenContext => ({ nowMs, currentRevision: 7, appliedIndex: 10 });
const assignment = (user: string, nowMs = NOW_MS): Parameters<JwtTokens['assign']>[0] => ({ user, authRevision: 4, index: 9, simplePrefix: '', nowMs });

/** A provider as tokenProviderFor makes it from the --auth-token files. */
function provider(alg: string, files: { pub?: Uint8Array; priv?: Uint8Array }, ttlMs = 300_000): JwtTokens {
  const contents = new Map([['pub.pem', files.pub], ['priv.pem', files.priv]]);
  const jwt = { signMethod: alg, publicKeyFile: files.pub ? 'pub.pem' : '', privateKeyFile: files.priv ? 'priv.pem' : '', ttlMs };
  const made = tokenProviderFor({ ...DEFAULT_AUTH_FLAGS, token: { type: 'jwt', jwt } }, (path) => {
    const bytes = contents.get(path);
    if (bytes === undefined) throw new Error(`no ${path}`);
    return bytes;
  });
  if (!made.ok) throw new Error(made.error);
  if (!(made.provider instanceof JwtTokens)) throw new Error('not a JWT provider');
  return made.provider;
}

function pairOf(alg: string): ReturnType<typeof pairs> {
  const method = signMethod(alg);
  if (method === null) throw new Error(alg);
  return pairs(method.family, CURVES[alg]);
}

const flip = (text: string, index: number): string => text.slice(0, index) + (text[index] === 'A' ? 'B' : 'A') + text.slice(index + 1);
const decode = (segment: string | undefined): string => Buffer.from(segment ?? '', 'base64url').toString();

for (const alg of ALGS) {
  test(`${alg}: a token made by one member verifies on another with the same key, as etcd's`, (t) => {
    const pair = pairOf(alg);
    const [signer, verifier] = [provider(alg, { priv: pair.privateKey }), provider(alg, { priv: pair.privateKey })];
    const token = signer.sign(assignment('alice'));
    const [header, claims] = token.split('.');
    t.is(decode(header), `{"alg":"${alg}","typ":"JWT"}`);
    t.is(decode(claims), `{"exp":${Math.floor(NOW_MS / 1000) + 300},"revision":4,"username":"alice"}`);
    t.deepEqual(verifier.info(token, at(NOW_MS)), { user: 'alice', revision: 4 });
  });

  test(`${alg}: a tampered, truncated or foreign token is invalid`, (t) => {
    const pair = pairOf(alg);
    const tokens = provider(alg, { priv: pair.privateKey });
    const token = tokens.sign(assignment('alice'));
    const [header = '', , signature = ''] = token.split('.');
    const forgedClaims = Buffer.from('{"exp":9999999999,"revision":4,"username":"root"}').toString('base64url');
    t.deepEqual(tokens.info(`${header}.${forgedClaims}.${signature}`, at(NOW_MS)), INVALID_TOKEN, 'claims changed');
    t.deepEqual(tokens.info(flip(token, token.length - 10), at(NOW_MS)), INVALID_TOKEN, 'signature changed');
    t.deepEqual(tokens.info(token.slice(0, -4), at(NOW_MS)), INVALID_TOKEN, 'signature truncated');
    t.deepEqual(tokens.info(token.split('.').slice(0, 2).join('.'), at(NOW_MS)), INVALID_TOKEN, 'two segments');
    t.deepEqual(tokens.info(`${token}=`, at(NOW_MS)), INVALID_TOKEN, 'padding is not base64url (RawURLEncoding)');
    const curve = CURVES[alg];
    const other = alg.startsWith('HS') ? Buffer.from('another secret') : curve !== undefined ? ecPair(curve).privateKey : rsaPair().privateKey;
    t.deepEqual(provider(alg, { priv: other }).info(token, at(NOW_MS)), INVALID_TOKEN, 'another key of the same kind');
  });
}

for (const alg of ALGS.filter((a) => !a.startsWith('HS'))) {
  test(`${alg}: a member with the public key only verifies tokens and cannot sign (etcd's verify-only)`, (t) => {
    const pair = pairOf(alg);
    const token = provider(alg, { priv: pair.privateKey, pub: pair.publicKey }).sign(assignment('bob'));
    const verifyOnly = provider(alg, { pub: pair.publicKey });
    t.false(verifyOnly.canSign);
    t.deepEqual(verifyOnly.info(token, at(NOW_MS)), { user: 'bob', revision: 4 });
    t.throws(() => verifyOnly.sign(assignment('bob')), { instanceOf: TokenSigningError, message: ERR_VERIFY_ONLY });
    t.like(verifyOnly.assign(assignment('bob')), { message: ERR_VERIFY_ONLY }, 'assign answers etcd\'s error instead');
  });
}

test('ECDSA signatures are r and s side by side at the curve\'s size, not DER (golang-jwt)', (t) => {
  for (const [alg, bytes] of [['ES256', 64], ['ES384', 96], ['ES512', 132]] as const) {
    const token = provider(alg, { priv: pairOf(alg).privateKey }).sign(assignment('alice'));
    t.is(Buffer.from(token.split('.')[2] ?? '', 'base64url').length, bytes, alg);
  }
});

test('a token expires at exp, in whole seconds of the injected clock (golang-jwt v4: valid while now < exp)', (t) => {
  const tokens = provider('HS256', { priv: pairOf('HS256').privateKey }, 60_000);
  const token = tokens.sign(assignment('alice', 1_000_000_500));
  const exp = 1_000_060_000; // floor((1_000_000_500 + 60_000) / 1000) s
  t.deepEqual(tokens.info(token, at(exp - 1)), { user: 'alice', revision: 4 });
  t.deepEqual(tokens.info(token, at(exp)), INVALID_TOKEN);
  t.deepEqual(tokens.info(token, at(exp + 3_600_000)), INVALID_TOKEN);
  t.deepEqual(provider('HS256', { priv: pairOf('HS256').privateKey }, 0).info(
    provider('HS256', { priv: pairOf('HS256').privateKey }, 0).sign(assignment('alice')), at(NOW_MS)), INVALID_TOKEN, 'ttl=0s: born expired');
});

test('HS256 tokens equal golang-jwt v4\'s byte for byte, Go\'s JSON escaping included', (t) => {
  // Made with golang-jwt v4.4.3 (etcd 3.4's JWT library here): jwt.NewWithClaims(HS256,
  // MapClaims{"username": u, "revision": uint64(42), "exp": int64(1796241989)}).SignedString([]byte("tern-test-secret")).
  const goTokens = {
    root: 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE3OTYyNDE5ODksInJldmlzaW9uIjo0MiwidXNlcm5hbWUiOiJyb290In0.WylY1nKfp0fT0jZF4zq1Yga6ocOSsOIiJotIv0KwOeo',
    'a<b>&c"\\\n\t\r\x01\x08\x0c\u2028\u2029é✓😀\x7f': 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJleHAiOjE3OTYyNDE5ODksInJldmlzaW9uIjo0MiwidXNlcm5hbWUiOiJhXHUwMDNjYlx1MDAzZVx1MDAyNmNcIlxcXG5cdFxyXHUwMDAxXHUwMDA4XHUwMDBjXHUyMDI4XHUyMDI5w6ninJPwn5iAfyJ9.Jc1LFO7HO8aVcRvgYvviL3ixSyMdC-FeSmTl2MmaRpw',
  };
  const tokens = provider('HS256', { priv: Buffer.from('tern-test-secret') }, 5_000);
  for (const [user, goToken] of Object.entries(goTokens)) {
    t.is(tokens.sign({ user, authRevision: 42, index: 1, simplePrefix: '', nowMs: 1_796_241_984_000 }), goToken);
    t.deepEqual(tokens.info(goToken, at(1_796_241_988_999)), { user, revision: 42 });
  }
});

/** A token over any claims, signed with the provider's own HS256 secret (what a forger with the key could make). */
function signedClaims(claims: string, header = '{"alg":"HS256","typ":"JWT"}'): string {
  const method = signMethod('HS256');
  if (method === null) throw new Error('HS256');
  const input = `${Buffer.from(header).toString('base64url')}.${Buffer.from(claims).toString('base64url')}`;
  return `${input}.${signWith(method, input, pairOf('HS256').privateKey).toString('base64url')}`;
}

test('validly signed claims of the wrong shape are invalid, where etcd would panic or golang-jwt refuses', (t) => {
  const tokens = provider('HS256', { priv: pairOf('HS256').privateKey });
  const now = at(NOW_MS);
  t.deepEqual(tokens.info(signedClaims('{"revision":4,"username":"alice"}'), now), { user: 'alice', revision: 4 }, 'no exp: never expires (golang-jwt)');
  t.deepEqual(tokens.info(signedClaims('{"exp":0,"revision":4,"username":"alice"}'), now), { user: 'alice', revision: 4 }, 'exp 0 is no exp');
  for (const claims of [
    '{"exp":"9999999999","revision":4,"username":"alice"}', '{"exp":null,"revision":4,"username":"alice"}',
    '{"revision":4,"username":7}', '{"username":"alice"}', '{"revision":-1,"username":"alice"}', '{"revision":"4","username":"alice"}',
    `{"nbf":${Math.floor(NOW_MS / 1000) + 1},"revision":4,"username":"alice"}`, `{"iat":${Math.floor(NOW_MS / 1000) + 1},"revision":4,"username":"alice"}`,
    '[1,2]', 'null', 'not json',
  ]) {
    t.deepEqual(tokens.info(signedClaims(claims), now), INVALID_TOKEN, claims);
  }
  t.deepEqual(tokens.info(signedClaims(`{"nbf":${Math.floor(NOW_MS / 1000)},"revision":4,"username":"alice"}`), now), { user: 'alice', revision: 4 }, 'nbf = now');
});

test('the header\'s alg must be the configured method: none, another family or a missing alg are invalid', (t) => {
  const tokens = provider('HS256', { priv: pairOf('HS256').privateKey });
  const claims = '{"revision":4,"username":"root"}';
  for (const header of ['{"alg":"none","typ":"JWT"}', '{"alg":"HS384","typ":"JWT"}', '{"typ":"JWT"}', '{"alg":"hs256"}', 'null']) {
    t.deepEqual(tokens.info(signedClaims(claims, header), at(NOW_MS)), INVALID_TOKEN, header);
  }
  const unsigned = `${Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url')}.${Buffer.from(claims).toString('base64url')}.`;
  t.deepEqual(tokens.info(unsigned, at(NOW_MS)), INVALID_TOKEN, 'alg none, no signature');
});

test('an RS256 member refuses an HS256 token keyed with its public key (alg confusion)', (t) => {
  const pair = pairOf('RS256');
  const rs = provider('RS256', { pub: pair.publicKey });
  const hs = provider('HS256', { priv: pair.publicKey });
  t.deepEqual(rs.info(hs.sign(assignment('root')), at(NOW_MS)), INVALID_TOKEN);
});

test('JWT tokens keep no table: invalidateUser, disable and sweep leave a token valid until exp, as etcd', (t) => {
  const tokens = provider('ES256', { priv: pairOf('ES256').privateKey });
  const token = tokens.sign(assignment('alice'));
  tokens.invalidateUser('alice');
  tokens.disable();
  tokens.sweep(NOW_MS + 10 * 60_000);
  t.deepEqual(tokens.info(token, at(NOW_MS)), { user: 'alice', revision: 4 });
  t.is(tokens.kind, 'jwt');
});
