// etcd 3.4's JWT token provider (auth/jwt.go over golang-jwt v4) behind core's
// TokenProvider port. A token is `header.claims.signature`, each base64url without
// padding; the header is {"alg":…,"typ":"JWT"} and the claims {"exp","revision",
// "username"}, keys in Go's sorted order and strings escaped as Go escapes them, so the
// bytes signed are those etcd signs. A JWT needs no shared table: every member checks
// it with the key alone, so invalidateUser, disable and sweep do nothing (as in etcd:
// a JWT stays valid until exp even after its user's password changes; the auth
// revision it carries is what a stale token is refused by).
//
// What info accepts, as golang-jwt's Parse with etcd's key function does:
//   - three segments; header and claims JSON objects; the header's alg is this
//     provider's sign method (a token of another alg, `none` included, is invalid);
//   - exp, iat and nbf, where present, numbers with now < exp, iat <= now, nbf <= now,
//     in whole seconds of the injected clock (exp 0 means none);
//   - the signature verifies with the configured key;
//   - a string username and a non-negative revision (etcd would panic on others).

import { etcdError, type EtcdError } from '../../core/errors.js';
import type { TokenAssignment, TokenContext, TokenInfo, TokenProvider } from '../../core/auth/tokens.js';
import { INVALID_TOKEN } from '../../core/auth/tokens.js';
import { goJsonString } from './goJson.js';
import type { JwtKeys } from './jwtKeys.js';
import { isRegisteredAlg, signWith, verifyWith, type SignMethod } from './jwtMethods.js';

/** etcd's jwt DefaultTTL (5m). */
export const DEFAULT_JWT_TTL_MS = 5 * 60_000;

/** etcd's ErrVerifyOnly: a member given only a public key cannot sign. */
export const ERR_VERIFY_ONLY = 'auth: token signing attempted with verify-only key';

/**
 * A token that cannot be made: etcd's assign returns the error and Authenticate answers
 * with it. Core's TokenProvider.assign returns a string, so it is thrown; the host
 * decides what the client sees (the message is etcd's text).
 */
export class TokenSigningError extends Error {}

export interface JwtTokensOptions {
  readonly method: SignMethod;
  readonly keys: JwtKeys;
  /** Added to the assignment's time to make `exp` (Go's time.Now().Add(ttl).Unix()). */
  readonly ttlMs: number;
}

type Claims = Readonly<Record<string, unknown>>;

export class JwtTokens implements TokenProvider {
  readonly kind = 'jwt';
  private readonly header: string;

  constructor(private readonly options: JwtTokensOptions) {
    this.header = segment(`{"alg":${goJsonString(options.method.alg)},"typ":"JWT"}`);
  }

  /** false on a verify-only member: `assign` answers etcd's ErrVerifyOnly. */
  get canSign(): boolean {
    return this.options.keys.signing !== null;
  }

  assign(assignment: TokenAssignment): string | EtcdError {
    return this.canSign ? this.sign(assignment) : etcdError('tokenVerifyOnly');
  }

  /** The signed token; throws a TokenSigningError on a verify-only member (assign answers the error instead). */
  sign(assignment: TokenAssignment): string {
    const key = this.options.keys.signing;
    if (key === null) throw new TokenSigningError(ERR_VERIFY_ONLY);
    const exp = Math.floor((assignment.nowMs + this.options.ttlMs) / 1000);
    const claims = `{"exp":${exp},"revision":${assignment.authRevision},"username":${goJsonString(assignment.user)}}`;
    const input = `${this.header}.${segment(claims)}`;
    return `${input}.${signWith(this.options.method, input, key).toString('base64url')}`;
  }

  info(token: string, context: TokenContext): TokenInfo {
    const parts = token.split('.');
    if (parts.length !== 3) return INVALID_TOKEN;
    const [header = null, claims = null, signature = null] = parts.map(decodeSegment);
    if (header === null || claims === null || signature === null) return INVALID_TOKEN;
    const alg = jsonObject(header)?.['alg'];
    if (typeof alg !== 'string' || !isRegisteredAlg(alg) || alg !== this.options.method.alg) return INVALID_TOKEN;
    const fields = jsonObject(claims);
    if (fields === null || !timesHold(fields, Math.floor(context.nowMs / 1000))) return INVALID_TOKEN;
    const input = `${parts[0] ?? ''}.${parts[1] ?? ''}`;
    if (!verifyWith(this.options.method, input, signature, this.options.keys.verifying)) return INVALID_TOKEN;
    const [user, revision] = [fields['username'], fields['revision']];
    if (typeof user !== 'string' || typeof revision !== 'number' || !(revision >= 0)) return INVALID_TOKEN;
    const whole = Math.trunc(revision); // Go's uint64(float64)
    return Number.isSafeInteger(whole) ? { user, revision: whole } : INVALID_TOKEN;
  }

  invalidateUser(_user: string): void {
    // A JWT is not in any table: it stays valid until exp, as in etcd.
  }

  disable(): void {
    // Nothing to forget (etcd's tokenJWT.disable is empty too).
  }

  sweep(_nowMs: number): void {
    // Expiry is checked in info against exp.
  }
}

function segment(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

/** Go's base64.RawURLEncoding: the URL alphabet, no padding, no length of 4n+1. */
function decodeSegment(text: string): Buffer | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null;
  return Buffer.from(text, 'base64url');
}

function jsonObject(bytes: Buffer): Claims | null {
  try {
    const value: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Claims) : null;
  } catch {
    return null;
  }
}

/** golang-jwt v4's MapClaims.Valid: exp, iat, nbf in whole seconds (NumericDate truncates to the second). */
function timesHold(claims: Claims, nowSeconds: number): boolean {
  return timeHolds(claims['exp'], (at) => nowSeconds < at, Object.hasOwn(claims, 'exp'))
    && timeHolds(claims['iat'], (at) => nowSeconds >= at, Object.hasOwn(claims, 'iat'))
    && timeHolds(claims['nbf'], (at) => nowSeconds >= at, Object.hasOwn(claims, 'nbf'));
}

function timeHolds(value: unknown, holds: (atSeconds: number) => boolean, present: boolean): boolean {
  if (!present) return true;
  if (typeof value !== 'number') return false; // golang-jwt: a claim of another type (null too) fails
  return value === 0 || holds(Math.floor(value));
}
