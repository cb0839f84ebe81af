// The JWT signing methods etcd 3.4 accepts in --auth-token jwt,sign-method=… (those
// golang-jwt v4 registers), signed and verified with node:crypto exactly as golang-jwt
// does, so a token signed by either verifies in the other:
//   RS*  RSASSA-PKCS1-v1_5;
//   PS*  RSASSA-PSS, salt as long as the hash when signing, any salt length accepted
//        when verifying (golang-jwt's PSSSaltLengthEqualsHash / PSSSaltLengthAuto);
//   ES*  ECDSA with r ‖ s, each left-padded to the curve's byte size (not DER);
//   HS*  HMAC keyed with the raw bytes of priv-key's file.
// EdDSA and none are registered too, and etcd refuses them when it loads the key.

import { constants, createHmac, sign, timingSafeEqual, verify, type KeyObject } from 'node:crypto';

export type SignFamily = 'RSA' | 'PSS' | 'ECDSA' | 'HMAC';

export interface SignMethod {
  readonly alg: string;
  readonly family: SignFamily;
  /** node:crypto's digest name. */
  readonly hash: 'sha256' | 'sha384' | 'sha512';
  /** ECDSA only: the curve a signing key must be on (golang-jwt's CurveBits check). */
  readonly curve?: 'P-256' | 'P-384' | 'P-521';
}

const HASH_OF_BITS = { 256: 'sha256', 384: 'sha384', 512: 'sha512' } as const;
const CURVE_OF_BITS = { 256: 'P-256', 384: 'P-384', 512: 'P-521' } as const;

function methodsOf(family: SignFamily, prefix: string): SignMethod[] {
  return ([256, 384, 512] as const).map((bits) => ({
    alg: `${prefix}${bits}`,
    family,
    hash: HASH_OF_BITS[bits],
    ...(family === 'ECDSA' ? { curve: CURVE_OF_BITS[bits] } : {}),
  }));
}

const METHODS: ReadonlyMap<string, SignMethod> = new Map(
  [...methodsOf('RSA', 'RS'), ...methodsOf('PSS', 'PS'), ...methodsOf('ECDSA', 'ES'), ...methodsOf('HMAC', 'HS')]
    .map((method) => [method.alg, method]),
);

/**
 * golang-jwt registers these too; etcd parses them as sign methods, then refuses to
 * load a key for them (jwtOptions.Key: `unsupported signing method: %T`).
 */
export const UNSUPPORTED_METHODS: ReadonlyMap<string, string> = new Map([
  ['EdDSA', 'unsupported signing method: *jwt.SigningMethodEd25519'],
  ['none', 'unsupported signing method: *jwt.signingMethodNone'],
]);

/** The method named `alg` (case-sensitive, as jwt.GetSigningMethod), or null. */
export function signMethod(alg: string): SignMethod | null {
  return METHODS.get(alg) ?? null;
}

/** Whether golang-jwt knows `alg` at all (a token with another alg is malformed to it). */
export function isRegisteredAlg(alg: string): boolean {
  return METHODS.has(alg) || UNSUPPORTED_METHODS.has(alg);
}

/** A signing key: an asymmetric private key, or an HMAC secret. */
export type SigningKey = KeyObject | Uint8Array;
/** A verifying key: an asymmetric public key, or an HMAC secret. */
export type VerifyingKey = KeyObject | Uint8Array;

/** Signs `input` (header.payload) as golang-jwt's SigningMethod.Sign; the raw signature bytes. */
export function signWith(method: SignMethod, input: string, key: SigningKey): Buffer {
  if (key instanceof Uint8Array) return createHmac(method.hash, key).update(input).digest();
  return sign(method.hash, Buffer.from(input), asymmetricOptions(method, key, constants.RSA_PSS_SALTLEN_DIGEST));
}

/** Whether `signature` is `method`'s signature of `input` under `key` (golang-jwt's Verify == nil). */
export function verifyWith(method: SignMethod, input: string, signature: Uint8Array, key: VerifyingKey): boolean {
  if (key instanceof Uint8Array) {
    const expected = createHmac(method.hash, key).update(input).digest();
    return expected.length === signature.length && timingSafeEqual(expected, signature);
  }
  try {
    return verify(method.hash, Buffer.from(input), asymmetricOptions(method, key, constants.RSA_PSS_SALTLEN_AUTO), signature);
  } catch {
    return false; // e.g. an ECDSA signature of the wrong length for the curve
  }
}

/** node:crypto's options for sign and verify alike (a KeyObject with its padding). */
interface AsymmetricOptions {
  readonly key: KeyObject;
  readonly padding?: number;
  readonly saltLength?: number;
  readonly dsaEncoding?: 'ieee-p1363';
}

function asymmetricOptions(method: SignMethod, key: KeyObject, pssSalt: number): AsymmetricOptions {
  switch (method.family) {
    case 'PSS':
      return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: pssSalt };
    case 'ECDSA':
      return { key, dsaEncoding: 'ieee-p1363' };
    case 'RSA':
    case 'HMAC':
      return { key, padding: constants.RSA_PKCS1_PADDING };
  }
}
