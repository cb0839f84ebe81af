// etcd's TLS flags for the client side and the peer side, read from the parsed flag
// map, with etcd's defaults and refusals. Whether a side serves TLS at all is decided
// by its listen URLs (https:// or unixs://), as in etcd; the files are only read later,
// when the member starts (material.ts).

import { opensslCiphers } from './cipherSuites.js';
import type { CertificateRules } from './peerRules.js';

export interface TlsSideFlags {
  readonly certFile: string;
  readonly keyFile: string;
  readonly trustedCaFile: string;
  readonly clientCertAuth: boolean;
  readonly crlFile: string;
  readonly autoTls: boolean;
  readonly rules: CertificateRules;
}

export interface TlsFlags {
  readonly client: TlsSideFlags;
  readonly peer: TlsSideFlags;
  /** node:tls `ciphers`, from --cipher-suites (for both sides, as in etcd). */
  readonly ciphers: string | undefined;
}

/** Flags that take a value. */
export const TLS_VALUE_FLAGS = [
  'cert-file', 'key-file', 'trusted-ca-file', 'client-crl-file', 'client-cert-allowed-hostname',
  'peer-cert-file', 'peer-key-file', 'peer-trusted-ca-file', 'peer-crl-file', 'peer-cert-allowed-cn',
  'peer-cert-allowed-hostname', 'cipher-suites',
] as const;

/** Go bool flags: `--flag` alone means true; `--flag=false` turns it off. */
export const TLS_BOOL_FLAGS = ['client-cert-auth', 'auto-tls', 'peer-client-cert-auth', 'peer-auto-tls'] as const;

export type TlsFlagsResult =
  | { readonly ok: true; readonly flags: TlsFlags }
  | { readonly ok: false; readonly error: string; readonly exitCode: 1 | 2 };

const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

/** Go's strconv.ParseBool; null for anything else. */
export function parseGoBool(raw: string): boolean | null {
  if (GO_TRUE.has(raw)) return true;
  if (GO_FALSE.has(raw)) return false;
  return null;
}

class TlsFlagError extends Error {
  constructor(message: string, readonly exitCode: 1 | 2) {
    super(message);
  }
}

function bool(values: ReadonlyMap<string, string>, flag: string): boolean {
  const raw = values.get(flag);
  if (raw === undefined) return false;
  const parsed = parseGoBool(raw);
  if (parsed === null) throw new TlsFlagError(`invalid boolean value "${raw}" for -${flag}: parse error`, 2);
  return parsed;
}

function side(values: ReadonlyMap<string, string>, prefix: '' | 'peer-'): TlsSideFlags {
  const text = (flag: string): string => values.get(flag) ?? '';
  const rules: CertificateRules = prefix === ''
    ? { allowedCn: '', allowedHostname: text('client-cert-allowed-hostname') }
    : { allowedCn: text('peer-cert-allowed-cn'), allowedHostname: text('peer-cert-allowed-hostname') };
  if (rules.allowedCn !== '' && rules.allowedHostname !== '') {
    throw new TlsFlagError(`AllowedCN and AllowedHostname are mutually exclusive (cn="${rules.allowedCn}", hostname="${rules.allowedHostname}")`, 1);
  }
  return {
    certFile: text(`${prefix}cert-file`),
    keyFile: text(`${prefix}key-file`),
    trustedCaFile: text(`${prefix}trusted-ca-file`),
    clientCertAuth: bool(values, `${prefix}client-cert-auth`),
    crlFile: text(prefix === '' ? 'client-crl-file' : 'peer-crl-file'),
    autoTls: bool(values, `${prefix}auto-tls`),
    rules,
  };
}

export function tlsFlagsFrom(values: ReadonlyMap<string, string>): TlsFlagsResult {
  try {
    const suites = (values.get('cipher-suites') ?? '').split(',').filter((s) => s !== '');
    const ciphers = opensslCiphers(suites);
    if (!ciphers.ok) throw new TlsFlagError(ciphers.error, 1);
    return { ok: true, flags: { client: side(values, ''), peer: side(values, 'peer-'), ciphers: ciphers.ciphers } };
  } catch (error) {
    if (error instanceof TlsFlagError) return { ok: false, error: error.message, exitCode: error.exitCode };
    throw error;
  }
}

/** Whether a side has files of its own (etcd's TLSInfo.Empty() is its negation). */
export function hasFiles(flags: TlsSideFlags): boolean {
  return flags.certFile !== '' || flags.keyFile !== '';
}

/**
 * etcd's start-time refusal for a TLS URL with nothing to serve it: null when every
 * https/unixs URL of the side has a certificate (given, or made by auto-TLS).
 */
export function missingCertificate(flags: TlsSideFlags, urls: readonly string[], kind: 'client' | 'peer'): string | null {
  if (hasFiles(flags) || flags.autoTls) return null;
  const secure = urls.find((url) => /^(https|unixs):\/\//i.test(url));
  if (secure === undefined) return null;
  return kind === 'client'
    ? `TLS key/cert (--cert-file, --key-file) must be provided for client url ${secure} with HTTPS scheme`
    : `cannot listen on TLS for ${secure.replace(/^[a-z]+:\/\//i, '')}: KeyFile and CertFile are not presented`;
}
