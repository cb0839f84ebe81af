// The token provider --auth-token names, made as etcd's NewTokenProvider makes it when
// the server starts: simple tokens at --auth-token-ttl, the nop provider for '', or
// JWTs with the keys read from their files. A file etcd cannot read, or a key it cannot
// use, stops the member with etcd's text (exit 1, as etcdmain's fatal log).
//
// One refusal is Tern's own: an ECDSA private key on another curve than the sign
// method's (a P-384 key for ES256). etcd starts with it and then fails every
// Authenticate (golang-jwt's ErrInvalidKey); Tern refuses it at start instead.

import { SimpleTokens, type TokenProvider } from '../../core/auth/tokens.js';
import { ERR_INVALID_AUTH_OPTS, type AuthFlags, type JwtFlag } from './authFlags.js';
import { ERR_INVALID_KEY, jwtKeysFor, type JwtKeys } from './jwtKeys.js';
import { signMethod, UNSUPPORTED_METHODS, type SignMethod } from './jwtMethods.js';
import { JwtTokens } from './jwtTokens.js';
import { NoTokens } from './noTokens.js';

export type TokenProviderResult =
  | { readonly ok: true; readonly provider: TokenProvider }
  | { readonly ok: false; readonly error: string; readonly exitCode: 1 };

/** Reads a whole file (node:fs's readFileSync in production); throws as it does. */
export type ReadFile = (path: string) => Uint8Array;

export function tokenProviderFor(auth: AuthFlags, readFile: ReadFile): TokenProviderResult {
  const token = auth.token;
  switch (token.type) {
    case 'simple':
      // etcd's keeper drops expired tokens once a second, so a TTL of 0 lives up to 1 s.
      return { ok: true, provider: new SimpleTokens({ ttlSeconds: Math.max(1, auth.tokenTtlSeconds) }) };
    case 'none':
      return { ok: true, provider: new NoTokens() };
    case 'jwt':
      return jwtProvider(token.jwt, readFile);
  }
}

function jwtProvider(flag: JwtFlag, readFile: ReadFile): TokenProviderResult {
  const publicKey = read(flag.publicKeyFile, readFile);
  if (typeof publicKey === 'string') return refuse(`${ERR_INVALID_AUTH_OPTS} (problem loading JWT options: ${publicKey})`);
  const privateKey = read(flag.privateKeyFile, readFile);
  if (typeof privateKey === 'string') return refuse(`${ERR_INVALID_AUTH_OPTS} (problem loading JWT options: ${privateKey})`);
  const method = signMethod(flag.signMethod);
  if (method === null) return refuse(UNSUPPORTED_METHODS.get(flag.signMethod) ?? `${ERR_INVALID_AUTH_OPTS} (${flag.signMethod})`);
  const keys = jwtKeysFor(method.family, { publicKey, privateKey });
  if (!keys.ok) return refuse(keys.error);
  if (!signsOnItsCurve(method, keys.keys)) return refuse(ERR_INVALID_KEY);
  return { ok: true, provider: new JwtTokens({ method, keys: keys.keys, ttlMs: flag.ttlMs }) };
}

function refuse(error: string): TokenProviderResult {
  return { ok: false, error, exitCode: 1 };
}

/** golang-jwt's ECDSA Sign: the key's curve must be the method's. */
function signsOnItsCurve(method: SignMethod, keys: JwtKeys): boolean {
  const key = keys.signing;
  if (method.curve === undefined || key === null || key instanceof Uint8Array) return true;
  const names: Record<string, string> = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' };
  return key.asymmetricKeyDetails?.namedCurve === names[method.curve];
}

/** The file's bytes; none for ''; or Go's os.ReadFile error text. */
function read(file: string, readFile: ReadFile): Uint8Array | string {
  if (file === '') return new Uint8Array(0);
  try {
    return readFile(file);
  } catch (error) {
    return goReadError(file, error);
  }
}

const GO_ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  ENOTDIR: 'not a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
};

function goReadError(file: string, error: unknown): string {
  const code = typeof error === 'object' && error !== null && 'code' in error ? String(error.code) : '';
  // Go opens a directory fine and fails on the read.
  if (code === 'EISDIR') return `read ${file}: is a directory`;
  const text = GO_ERRNO_TEXT[code];
  return text === undefined ? `open ${file}: ${error instanceof Error ? error.message : String(error)}` : `open ${file}: ${text}`;
}
