// How Go's flag package parses the value of each kind of etcd flag, and the reason it
// gives when it refuses one (`invalid value "x" for flag -name: <reason>`). etcd's
// numbers are strconv.ParseUint/ParseInt with base 0 (so "0x10", "0o17", "017",
// "1_000" are numbers too), its durations time.ParseDuration, its bools
// strconv.ParseBool, its one-of flags a fixed set (flags.SelectiveStringValue).

import { parseGoDurationMs } from './duration.js';
import { parseGoBool } from '../tls/tlsFlags.js';

/** The Go type behind a flag: what its value must parse as. */
export type GoType =
  | { readonly kind: 'string' }
  | { readonly kind: 'bool' }
  /** uint and uint64 (64 bits on etcd's platforms). */
  | { readonly kind: 'uint' }
  /** int and int64. */
  | { readonly kind: 'int' }
  | { readonly kind: 'duration' }
  /** One of a fixed set (etcd's SelectiveStringValue: "invalid value" otherwise). */
  | { readonly kind: 'choice'; readonly values: readonly string[] }
  /** Comma-separated URLs; checked when the flags are interpreted (flags.ts). */
  | { readonly kind: 'urls' }
  /** Comma-separated strings. */
  | { readonly kind: 'strings' };

const UINT64_MAX = (1n << 64n) - 1n;
const INT64_MAX = (1n << 63n) - 1n;
const INT64_MIN = -(1n << 63n);

/** Go's base-0 integer syntax, without a sign; underscores only between digits. */
const BASE0 = [
  { re: /^0[xX](?:_?[0-9a-fA-F])+$/, prefix: '' },
  { re: /^0[bB](?:_?[01])+$/, prefix: '' },
  { re: /^0[oO](?:_?[0-7])+$/, prefix: '' },
  { re: /^0(?:_?[0-7])+$/, prefix: '0o' },
  { re: /^(?:0|[1-9](?:_?[0-9])*)$/, prefix: '' },
] as const;

/** strconv.ParseUint/ParseInt(text, 0, 64): the value, or Go's reason ("parse error", "value out of range"). */
export function parseGoInteger(text: string, signed: boolean): bigint | 'parse error' | 'value out of range' {
  const negative = signed && text.startsWith('-');
  const body = signed && (text.startsWith('-') || text.startsWith('+')) ? text.slice(1) : text;
  const form = BASE0.find((f) => f.re.test(body));
  if (form === undefined) return 'parse error';
  const digits = body.replaceAll('_', '');
  const magnitude = BigInt(form.prefix === '' ? digits : `${form.prefix}${digits.slice(1)}`);
  const value = negative ? -magnitude : magnitude;
  const [min, max] = signed ? [INT64_MIN, INT64_MAX] : [0n, UINT64_MAX];
  return value < min || value > max ? 'value out of range' : value;
}

/** Why Go's flag package refuses `text` for a flag of this type; null if it parses. */
export function goValueProblem(type: GoType, text: string): string | null {
  switch (type.kind) {
    case 'bool':
      return parseGoBool(text) === null ? 'parse error' : null;
    case 'uint':
    case 'int': {
      const parsed = parseGoInteger(text, type.kind === 'int');
      return typeof parsed === 'bigint' ? null : parsed;
    }
    case 'duration':
      return parseGoDurationMs(text) === null ? 'parse error' : null;
    case 'choice':
      return type.values.includes(text) ? null : 'invalid value';
    case 'string':
    case 'urls':
    case 'strings':
      return null;
  }
}
