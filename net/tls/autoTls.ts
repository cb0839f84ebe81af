// etcd's --auto-tls / --peer-auto-tls: a self-signed certificate made at the first
// start and kept in the data dir (fixtures/client, fixtures/peer), valid for a year for
// the hosts of the listen URLs. Like etcd (pkg/transport SelfCert), an existing pair
// of files is reused, and clients are not asked for certificates.

import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { issueCertificate, type Usage } from './certificates.js';

const YEAR_MS = 365 * 24 * 3600_000;

export interface SelfSignedFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

/** Host names or IPs of listen URLs ("https://127.0.0.1:2379" → "127.0.0.1"). */
export function hostsOf(urls: readonly string[]): string[] {
  return [...new Set(urls.map((url) => new URL(url).hostname.replace(/^\[(.*)\]$/, '$1')))];
}

/**
 * The certificate and key under `dir`, made now if either file is missing. Peers
 * also use theirs as client certificates, hence clientAuth for them (etcd 3.4 adds it).
 */
export async function selfSignedCertificate(dir: string, hosts: readonly string[], usages: readonly Usage[]): Promise<SelfSignedFiles> {
  const certFile = path.join(dir, 'cert.pem');
  const keyFile = path.join(dir, 'key.pem');
  if (existsSync(certFile) && existsSync(keyFile)) return { certFile, keyFile };
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const now = Date.now();
  // A positive 128-bit serial, as Go's rand.Int(2^128): clear the top bit so DER needs no sign byte.
  const serial = randomBytes(16);
  serial[0] = (serial[0] ?? 0) & 0x7f;
  const issued = await issueCertificate({
    commonName: '', hosts, usages, curve: 'P-521', serialHex: serial.toString('hex'),
    notBefore: new Date(now), notAfter: new Date(now + YEAR_MS),
  });
  writeFileSync(certFile, issued.certPem);
  writeFileSync(keyFile, issued.keyPem, { mode: 0o600 });
  return { certFile, keyFile };
}
