// etcd's auth flags, read from the parsed flag map with etcd's defaults and refusals:
//   --auth-token      simple (default) | jwt,sign-method=…,pub-key=…,priv-key=…,ttl=… | ''
//                     (etcd's nop provider); auth/store.go decomposeOpts and NewTokenProvider,
//                     auth/options.go for the JWT options;
//   --auth-token-ttl  seconds a simple token lives unused (default 300);
//   --bcrypt-cost     bcrypt's cost for new password hashes (default 10).
// The key files are read later, when the member starts (tokenProviders.ts), as etcd
// reads them when its server is made.
//
// Refusals as etcd's: a number that does not parse is a usage error (exit 2); a token
// spec that does not parse is `auth: invalid auth options` (exit 1) with the reason etcd
// logs just before it. etcd checks the JWT options in the order ttl, key files, sign
// method; Tern checks ttl and sign method here and the files at start, so a spec wrong
// in both a file and the sign method gets the sign method's reason (exit and text
// otherwise equal). Out-of-range costs and unknown JWT options are warnings, not errors.

import { parseGoDurationMs } from '../config/duration.js';
import { DEFAULT_JWT_TTL_MS } from './jwtTokens.js';
import { isRegisteredAlg } from './jwtMethods.js';
import { BCRYPT_DEFAULT_COST, effectiveBcryptCost } from './passwords.js';
import { DEFAULT_SIMPLE_TOKEN_TTL_SECONDS } from '../../core/auth/tokens.js';

export interface JwtFlag {
  /** A name golang-jwt registers (jwtMethods.ts); EdDSA and none are refused at start, as by etcd. */
  readonly signMethod: string;
  /** '' when not given. */
  readonly publicKeyFile: string;
  readonly privateKeyFile: string;
  /** Go duration; may be 0 or negative (tokens born expired), as etcd allows. */
  readonly ttlMs: number;
}

export type AuthTokenFlag =
  | { readonly type: 'simple' }
  | { readonly type: 'jwt'; readonly jwt: JwtFlag }
  /** `--auth-token ''`: etcd's nop provider. */
  | { readonly type: 'none' };

export interface AuthFlags {
  readonly token: AuthTokenFlag;
  /** --auth-token-ttl in seconds (simple tokens). */
  readonly tokenTtlSeconds: number;
  /** The cost new hashes are made with: --bcrypt-cost, or 10 if outside [4, 31]. */
  readonly bcryptCost: number;
  /** What etcd logs as warnings about these flags (the binary prints them). */
  readonly warnings: readonly string[];
}

export const AUTH_VALUE_FLAGS = ['auth-token', 'auth-token-ttl', 'bcrypt-cost'] as const;

/** etcd's ErrInvalidAuthOpts: what etcdmain dies with for a token spec it cannot use. */
export const ERR_INVALID_AUTH_OPTS = 'auth: invalid auth options';
/** etcd's ErrInvalidAuthMethod. */
export const ERR_INVALID_AUTH_METHOD = 'auth: invalid auth signature method';

export type AuthFlagsResult =
  | { readonly ok: true; readonly flags: AuthFlags }
  | { readonly ok: false; readonly error: string; readonly exitCode: 1 | 2 };

class AuthFlagError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2) {
    super(message);
  }
}

/** etcd's fatal `auth: invalid auth options`, with the reason it logs first. */
const invalidOptions = (reason: string): AuthFlagError => new AuthFlagError(`${ERR_INVALID_AUTH_OPTS} (${reason})`, 1);

export function authFlagsFrom(values: ReadonlyMap<string, string>): AuthFlagsResult {
  try {
    const warnings: string[] = [];
    const cost = effectiveBcryptCost(goUint(values, 'bcrypt-cost') ?? BCRYPT_DEFAULT_COST);
    if (cost.warning !== null) warnings.push(cost.warning);
    const token = tokenFlag(values.get('auth-token') ?? 'simple', warnings);
    const tokenTtlSeconds = goUint(values, 'auth-token-ttl') ?? DEFAULT_SIMPLE_TOKEN_TTL_SECONDS;
    return { ok: true, flags: { token, tokenTtlSeconds, bcryptCost: cost.cost, warnings } };
  } catch (error) {
    if (error instanceof AuthFlagError) return { ok: false, error: error.message, exitCode: error.exitCode };
    throw error;
  }
}

/** etcd's default when --auth-token and friends are not given. */
export const DEFAULT_AUTH_FLAGS: AuthFlags = {
  token: { type: 'simple' },
  tokenTtlSeconds: DEFAULT_SIMPLE_TOKEN_TTL_SECONDS,
  bcryptCost: BCRYPT_DEFAULT_COST,
  warnings: [],
};

function tokenFlag(spec: string, warnings: string[]): AuthTokenFlag {
  const { type, options } = decomposeOpts(spec);
  switch (type) {
    case 'simple':
      return { type: 'simple' };
    case 'jwt':
      return { type: 'jwt', jwt: jwtFlag(options, warnings) };
    case '':
      return { type: 'none' };
    default:
      throw invalidOptions(`unknown token type: ${type}`);
  }
}

/** etcd's decomposeOpts: `type,k=v,k=v`; a pair without exactly one `=`, or a key twice, is refused. */
function decomposeOpts(spec: string): { type: string; options: Map<string, string> } {
  const [type = '', ...pairs] = spec.split(',');
  const options = new Map<string, string>();
  for (const pair of pairs) {
    const parts = pair.split('=');
    const [key = '', value = ''] = parts;
    if (parts.length !== 2) throw invalidOptions(`invalid token specific option: ${spec}`);
    if (options.has(key)) throw invalidOptions(`invalid token specific option, duplicated parameters (${key}): ${spec}`);
    options.set(key, value);
  }
  return { type, options };
}

const JWT_OPTIONS = ['sign-method', 'pub-key', 'priv-key', 'ttl'];

function jwtFlag(options: ReadonlyMap<string, string>, warnings: string[]): JwtFlag {
  const rawTtl = options.get('ttl') ?? '';
  const ttlMs = rawTtl === '' ? DEFAULT_JWT_TTL_MS : parseGoDurationMs(rawTtl);
  if (ttlMs === null) throw invalidOptions(`problem loading JWT options: ${goDurationError(rawTtl)}`);
  const signMethod = options.get('sign-method') ?? '';
  if (!isRegisteredAlg(signMethod)) throw invalidOptions(`problem loading JWT options: ${ERR_INVALID_AUTH_METHOD}`);
  const unknown = [...options.keys()].filter((key) => !JWT_OPTIONS.includes(key)).sort();
  if (unknown.length > 0) warnings.push(`unknown JWT options: [${unknown.join(' ')}]`);
  return { signMethod, publicKeyFile: options.get('pub-key') ?? '', privateKeyFile: options.get('priv-key') ?? '', ttlMs };
}

const GO_DURATION_UNITS = new Set(['ns', 'us', 'µs', 'μs', 'ms', 's', 'm', 'h']);

/** Go's time.ParseDuration error for a text it refuses. */
export function goDurationError(raw: string): string {
  const quoted = JSON.stringify(raw);
  let rest = raw.replace(/^[+-]/, '');
  while (rest !== '') {
    const match = /^(\d+(?:\.\d*)?|\.\d+)([^\d.]*)/.exec(rest);
    if (match === null) break;
    const [whole, , unit = ''] = match;
    if (unit === '') return `time: missing unit in duration ${quoted}`;
    if (!GO_DURATION_UNITS.has(unit)) return `time: unknown unit ${JSON.stringify(unit)} in duration ${quoted}`;
    rest = rest.slice(whole.length);
  }
  return `time: invalid duration ${quoted}`;
}

const UINT64_MAX = (1n << 64n) - 1n;

/**
 * A Go `uint` flag (strconv.ParseUint(s, 0, 64)): decimal, 0x…, 0o…, 0b…, or 0… octal.
 * undefined when the flag is absent.
 */
function goUint(values: ReadonlyMap<string, string>, flag: string): number | undefined {
  const raw = values.get(flag);
  if (raw === undefined) return undefined;
  const usage = (why: string): AuthFlagError => new AuthFlagError(`invalid value "${raw}" for flag -${flag}: ${why}`, 2);
  const digits = /^0[xX][0-9a-fA-F]+$|^0[oO][0-7]+$|^0[bB][01]+$|^[1-9][0-9]*$|^0[0-7]*$/.exec(raw)?.[0];
  if (digits === undefined) throw usage('parse error');
  const octal = /^0[0-7]+$/.test(digits) ? `0o${digits.slice(1)}` : digits;
  const value = BigInt(octal);
  if (value > UINT64_MAX) throw usage('value out of range');
  // Larger than any TTL or cost means anything; JS numbers hold it exactly below 2^53.
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw usage('value out of range');
  return Number(value);
}
