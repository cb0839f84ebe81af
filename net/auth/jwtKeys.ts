// The keys of --auth-token jwt,pub-key=…,priv-key=…, read as etcd 3.4's jwtOptions.Key
// reads them (auth/options.go over golang-jwt's Parse*FromPEM), with their error texts:
//   - the first PEM block's bytes are tried as PKCS#1 then PKCS#8 (RSA private), SEC1
//     then PKCS#8 (EC private), PKIX then an X.509 certificate (public); the PEM label
//     is not looked at, as Go's pem.Decode + x509 do not;
//   - a private key alone signs and verifies; a public key alone only verifies (a
//     verify-only member, whose Authenticate fails); neither is `auth: missing key data`;
//   - with both, the private key is used. etcd compares them with && where || was
//     meant, so it refuses only a pair differing in every compared part; so does Tern.
// Texts for DER that does not parse at all are Go's most common ones; x509's many
// finer texts are not all reproduced.

import { createPrivateKey, createPublicKey, X509Certificate, type KeyObject } from 'node:crypto';
import type { SignFamily, SigningKey, VerifyingKey } from './jwtMethods.js';

export const ERR_MISSING_KEY = 'auth: missing key data';
export const ERR_KEY_MISMATCH = "auth: public and private keys don't match";
export const ERR_KEY_MUST_BE_PEM = 'invalid key: Key must be a PEM encoded PKCS1 or PKCS8 key';
/** golang-jwt's ErrInvalidKey: an ECDSA key on another curve than the method's signs nothing. */
export const ERR_INVALID_KEY = 'key is invalid';

export interface JwtKeys {
  /** null: a verify-only member. */
  readonly signing: SigningKey | null;
  readonly verifying: VerifyingKey;
}

export type JwtKeysResult = { readonly ok: true; readonly keys: JwtKeys } | { readonly ok: false; readonly error: string };

export interface KeyFiles {
  /** The files' contents; empty when not given (etcd treats an empty file as not given). */
  readonly publicKey: Uint8Array;
  readonly privateKey: Uint8Array;
}

class KeyError extends Error {}

/** The keys for a method family, or etcd's refusal. */
export function jwtKeysFor(family: SignFamily, files: KeyFiles): JwtKeysResult {
  try {
    if (family === 'HMAC') {
      if (files.privateKey.length === 0) return { ok: false, error: ERR_MISSING_KEY };
      return { ok: true, keys: { signing: files.privateKey, verifying: files.privateKey } };
    }
    return { ok: true, keys: asymmetricKeys(family === 'ECDSA' ? 'ec' : 'rsa', files) };
  } catch (error) {
    if (error instanceof KeyError) return { ok: false, error: error.message };
    throw error;
  }
}

type KeyType = 'rsa' | 'ec';

function asymmetricKeys(type: KeyType, files: KeyFiles): JwtKeys {
  const priv = files.privateKey.length > 0 ? privateKey(type, files.privateKey) : null;
  const pub = files.publicKey.length > 0 ? publicKey(type, files.publicKey) : null;
  if (priv === null) {
    if (pub === null) throw new KeyError(ERR_MISSING_KEY);
    return { signing: null, verifying: pub };
  }
  if (pub !== null && differsEverywhere(type, createPublicKey(priv), pub)) throw new KeyError(ERR_KEY_MISMATCH);
  return { signing: priv, verifying: createPublicKey(priv) };
}

/** etcd's (buggy) mismatch test: RSA `E != E && N != N`; EC `curve != curve && X != X && Y != Y`. */
function differsEverywhere(type: KeyType, a: KeyObject, b: KeyObject): boolean {
  const [x, y] = [a.export({ format: 'jwk' }), b.export({ format: 'jwk' })];
  const parts = type === 'rsa' ? (['e', 'n'] as const) : (['crv', 'x', 'y'] as const);
  return parts.every((part) => x[part] !== y[part]);
}

const NOT_PRIVATE: Record<KeyType, string> = { rsa: 'key is not a valid RSA private key', ec: 'key is not a valid ECDSA private key' };
const NOT_PUBLIC: Record<KeyType, string> = { rsa: 'key is not a valid RSA public key', ec: 'key is not a valid ECDSA public key' };
/** What Go's x509 says when neither DER form parses (its hint names the other family's parser). */
const UNPARSABLE_PRIVATE: Record<KeyType, string> = {
  rsa: 'x509: failed to parse private key (use ParseECPrivateKey instead for this key format)',
  ec: 'x509: failed to parse private key (use ParsePKCS1PrivateKey instead for this key format)',
};

function privateKey(type: KeyType, file: Uint8Array): KeyObject {
  const der = firstPemBlock(file);
  const first = type === 'rsa' ? 'pkcs1' : 'sec1';
  const key = parseDer(() => createPrivateKey({ key: der, format: 'der', type: first }))
    ?? parseDer(() => createPrivateKey({ key: der, format: 'der', type: 'pkcs8' }));
  if (key === null) throw new KeyError(UNPARSABLE_PRIVATE[type]);
  if (key.asymmetricKeyType !== type || !goCurve(key)) throw new KeyError(NOT_PRIVATE[type]);
  return key;
}

function publicKey(type: KeyType, file: Uint8Array): KeyObject {
  const der = firstPemBlock(file);
  const key = parseDer(() => createPublicKey({ key: der, format: 'der', type: 'spki' }))
    ?? parseDer(() => new X509Certificate(der).publicKey);
  // Go reports the certificate parser's complaint, the last one it tried.
  if (key === null) throw new KeyError('x509: malformed tbs certificate');
  if (key.asymmetricKeyType !== type || !goCurve(key)) throw new KeyError(NOT_PUBLIC[type]);
  return key;
}

/** Go's crypto/elliptic knows P-224, P-256, P-384 and P-521 only. */
function goCurve(key: KeyObject): boolean {
  const curve = key.asymmetricKeyDetails?.namedCurve;
  return curve === undefined || ['secp224r1', 'prime256v1', 'secp384r1', 'secp521r1'].includes(curve);
}

function parseDer(parse: () => KeyObject): KeyObject | null {
  try {
    return parse();
  } catch {
    return null;
  }
}

/**
 * The bytes of the first PEM block in `file` (Go's pem.Decode: text before it is
 * skipped, headers such as Proc-Type are dropped, the label is not checked).
 */
export function firstPemBlock(file: Uint8Array): Buffer {
  const text = Buffer.from(file).toString('latin1');
  const match = /-----BEGIN ([^\n-]*)-----\r?\n([\s\S]*?)-----END \1-----/.exec(text);
  if (match === null) throw new KeyError(ERR_KEY_MUST_BE_PEM);
  const body = (match[2] ?? '').split(/\r?\n/).filter((line) => !line.includes(':')).join('');
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body.replace(/\s/g, ''))) throw new KeyError(ERR_KEY_MUST_BE_PEM);
  return Buffer.from(body, 'base64');
}
