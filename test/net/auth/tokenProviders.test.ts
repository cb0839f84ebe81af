// tokenProviderFor: the provider --auth-token names, and the key forms etcd reads
// (PKCS#1 / SEC1 / PKCS#8 private keys, PKIX keys or a certificate for the public one,
// text around the PEM block). Files come from an in-memory map.

import { createPrivateKey } from 'node:crypto';
import test from 'ava';
import { SimpleTokens } from '../../../core/auth/tokens.js';
import { DEFAULT_AUTH_FLAGS, type AuthFlags } from '../../../net/auth/authFlags.js';
import { ERR_INVALID_KEY, ERR_KEY_MUST_BE_PEM } from '../../../net/auth/jwtKeys.js';
import { JwtTokens } from '../../../net/auth/jwtTokens.js';
import { NoTokens } from '../../../net/auth/noTokens.js';
import { tokenProviderFor, type TokenProviderResult } from '../../../net/auth/tokenProviders.js';
import { issueCertificate } from '../../../net/tls/certificates.js';
import { ecPair, rsaPair } from './keys.js';

const files = (entries: Record<string, string | Buffer>) => (file: string): Uint8Array => {
  const content = entries[file];
  if (content === undefined) throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
  return Buffer.from(content);
};

const jwtFlags = (signMethod: string, keys: { pub?: string; priv?: string }): AuthFlags => ({
  ...DEFAULT_AUTH_FLAGS,
  token: { type: 'jwt', jwt: { signMethod, publicKeyFile: keys.pub ?? '', privateKeyFile: keys.priv ?? '', ttlMs: 60_000 } },
});

const context = { nowMs: 1_000_000, currentRevision: 1, appliedIndex: 1 };
const assignment = { user: 'u', authRevision: 3, index: 1, simplePrefix: '', nowMs: 1_000_000 };

function roundTrips(signer: TokenProviderResult, verifier: TokenProviderResult = signer): boolean {
  if (!signer.ok || !verifier.ok) return false;
  const token = signer.provider.assign(assignment);
  if (typeof token !== 'string') return false;
  const info = verifier.provider.info(token, context);
  return 'user' in info && info.user === 'u' && info.revision === 3;
}

test('simple: etcd\'s simple tokens at --auth-token-ttl (0 lives up to a second, as etcd\'s 1 s keeper)', (t) => {
  const made = tokenProviderFor({ ...DEFAULT_AUTH_FLAGS, tokenTtlSeconds: 2 }, files({}));
  if (!made.ok || !(made.provider instanceof SimpleTokens)) { t.fail('no simple provider'); return; }
  const token = made.provider.assign({ ...assignment, simplePrefix: 'abcdefghijklmnop' });
  t.deepEqual(made.provider.info(token, { ...context, nowMs: 1_001_999 }), { user: 'u', revision: 1 }, 'within 2 s');
  t.deepEqual(made.provider.info(token, { ...context, nowMs: 1_004_000 }), { kind: 'invalid' }, '2 s after its last use');
  const zero = tokenProviderFor({ ...DEFAULT_AUTH_FLAGS, tokenTtlSeconds: 0 }, files({}));
  t.true(zero.ok && zero.provider instanceof SimpleTokens);
});

test('\'\': etcd\'s nop provider, which makes no token and accepts none', (t) => {
  const made = tokenProviderFor({ ...DEFAULT_AUTH_FLAGS, token: { type: 'none' } }, files({}));
  if (!made.ok || !(made.provider instanceof NoTokens)) { t.fail('no nop provider'); return; }
  t.like(made.provider.assign(assignment), { message: 'etcdserver: authentication failed, invalid user ID or password' });
  t.deepEqual(made.provider.info('anything', context), { kind: 'invalid' });
});

test('RSA and EC private keys in their older PEM forms (openssl genrsa -traditional, ecparam) sign', (t) => {
  const rsa = createPrivateKey(rsaPair().privateKey).export({ type: 'pkcs1', format: 'pem' });
  const ec = createPrivateKey(ecPair('P-256').privateKey).export({ type: 'sec1', format: 'pem' });
  t.true(rsa.toString().startsWith('-----BEGIN RSA PRIVATE KEY-----'));
  t.true(roundTrips(tokenProviderFor(jwtFlags('PS256', { priv: 'k' }), files({ k: rsa }))));
  t.true(roundTrips(tokenProviderFor(jwtFlags('ES256', { priv: 'k' }), files({ k: `a comment first\n${ec.toString()}` }))));
});

test('a certificate serves as the public key of a verify-only member (golang-jwt falls back to it)', async (t) => {
  const now = Date.now();
  const issued = await issueCertificate({ commonName: 'jwt', serialHex: '01', notBefore: new Date(now - 60_000), notAfter: new Date(now + 60_000) });
  const signer = tokenProviderFor(jwtFlags('ES256', { priv: 'k' }), files({ k: issued.keyPem }));
  const verifier = tokenProviderFor(jwtFlags('ES256', { pub: 'c' }), files({ c: issued.certPem }));
  t.true(verifier.ok && verifier.provider instanceof JwtTokens && !verifier.provider.canSign);
  t.true(roundTrips(signer, verifier));
});

test('keys etcd cannot use are refused with its texts', (t) => {
  const refusal = (flags: AuthFlags, entries: Record<string, string | Buffer>): string => {
    const made = tokenProviderFor(flags, files(entries));
    return made.ok ? 'accepted' : made.error;
  };
  t.is(refusal(jwtFlags('RS256', { priv: 'k' }), { k: 'no PEM here' }), ERR_KEY_MUST_BE_PEM);
  t.is(refusal(jwtFlags('RS256', { priv: 'k' }), { k: '-----BEGIN PRIVATE KEY-----\n!!!!\n-----END PRIVATE KEY-----\n' }), ERR_KEY_MUST_BE_PEM);
  t.is(refusal(jwtFlags('RS256', { priv: 'k' }), { k: ecPair('P-256').privateKey }), 'key is not a valid RSA private key');
  t.is(refusal(jwtFlags('RS256', { pub: 'p' }), { p: ecPair('P-256').publicKey }), 'key is not a valid RSA public key');
  t.is(refusal(jwtFlags('RS256', { priv: 'nofile' }), {}), 'auth: invalid auth options (problem loading JWT options: open nofile: no such file or directory)');
  t.is(refusal(jwtFlags('HS256', { pub: 'p' }), { p: 'secret' }), 'auth: missing key data');
});

test('Tern\'s own refusal: an ECDSA key on another curve than the method\'s (etcd would fail every Authenticate)', (t) => {
  const made = tokenProviderFor(jwtFlags('ES256', { priv: 'k' }), files({ k: ecPair('P-384').privateKey }));
  t.deepEqual(made, { ok: false, error: ERR_INVALID_KEY, exitCode: 1 });
  const verifyOnly = tokenProviderFor(jwtFlags('ES256', { pub: 'p' }), files({ p: ecPair('P-384').publicKey }));
  t.true(verifyOnly.ok, 'verify-only: etcd starts, and so does Tern (no token of its would verify)');
});
