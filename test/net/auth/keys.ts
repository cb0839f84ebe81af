// Key pairs for the JWT tests, made with node:crypto on each run (none lives in the repo),
// as PEM files' bytes: the forms `openssl genrsa`/`ecparam` and etcd's docs use.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { SignFamily } from '../../../net/auth/jwtMethods.js';

export interface PemPair {
  /** PKCS#8 "PRIVATE KEY". */
  readonly privateKey: Buffer;
  /** PKIX "PUBLIC KEY". */
  readonly publicKey: Buffer;
}

const pemPair = (pair: { privateKey: string; publicKey: string }): PemPair => ({
  privateKey: Buffer.from(pair.privateKey), publicKey: Buffer.from(pair.publicKey),
});


export function rsaPair(): PemPair {
  return pemPair(generateKeyPairSync('rsa', {
    modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  }));
}

export function ecPair(curve: 'P-256' | 'P-384' | 'P-521'): PemPair {
  return pemPair(generateKeyPairSync('ec', {
    namedCurve: curve, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  }));
}

/** An HMAC secret: priv-key's file is the secret itself. */
export function hmacSecret(): PemPair {
  const secret = randomBytes(32);
  return { privateKey: secret, publicKey: Buffer.alloc(0) };
}

/** One pair per family and curve, made once per test file. */
export function pairsFor(): (family: SignFamily, curve?: 'P-256' | 'P-384' | 'P-521') => PemPair {
  const rsa = rsaPair();
  const ec = { 'P-256': ecPair('P-256'), 'P-384': ecPair('P-384'), 'P-521': ecPair('P-521') };
  const hmac = hmacSecret();
  return (family, curve = 'P-256') => family === 'HMAC' ? hmac : family === 'ECDSA' ? ec[curve] : rsa;
}
