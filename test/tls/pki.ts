// A throw-away PKI for the TLS tests, made fresh in a temporary directory on each run:
// a CA, a second CA nobody trusts, server and client certificates (one revoked by a
// CRL, one expired, one with another common name). No certificate lives in the repo.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { issueCertificate, issueRevocationList, type CertificateRequest, type IssuedCertificate } from '../../net/tls/certificates.js';

export interface PemFiles {
  readonly cert: string;
  readonly key: string;
  readonly issued: IssuedCertificate;
}

export interface Pki {
  readonly dir: string;
  readonly caFile: string;
  readonly otherCaFile: string;
  readonly crlFile: string;
  readonly server: PemFiles;
  readonly client: PemFiles;
  /** Signed by the CA, revoked in crlFile. */
  readonly revokedClient: PemFiles;
  /** Signed by the CA, not valid any more. */
  readonly expiredClient: PemFiles;
  /** Signed by the CA, CN=intruder. */
  readonly otherNameClient: PemFiles;
  /** Signed by the untrusted CA. */
  readonly strangerClient: PemFiles;
  /** Writes another certificate signed by the CA; used for rotation. */
  issue(name: string, request: Partial<CertificateRequest>): Promise<PemFiles>;
  remove(): void;
}

const DAY = 24 * 3600_000;
let serial = 0x1000;

function save(dir: string, name: string, issued: IssuedCertificate): PemFiles {
  const cert = path.join(dir, `${name}.pem`);
  const key = path.join(dir, `${name}-key.pem`);
  writeFileSync(cert, issued.certPem);
  writeFileSync(key, issued.keyPem, { mode: 0o600 });
  return { cert, key, issued };
}

function validNow(now: number): Pick<CertificateRequest, 'notBefore' | 'notAfter'> {
  return { notBefore: new Date(now - DAY), notAfter: new Date(now + 30 * DAY) };
}

export async function makePki(): Promise<Pki> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-pki-'));
  const now = Date.now();
  const nextSerial = (): string => (serial++).toString(16);
  const ca = await issueCertificate({ commonName: 'tern-test-ca', isCa: true, serialHex: nextSerial(), ...validNow(now) });
  const otherCa = await issueCertificate({ commonName: 'stranger-ca', isCa: true, serialHex: nextSerial(), ...validNow(now) });
  const leaf = async (name: string, request: Partial<CertificateRequest>, issuer = ca): Promise<PemFiles> => save(dir, name, await issueCertificate({
    commonName: name, hosts: ['127.0.0.1', 'localhost'], usages: ['serverAuth', 'clientAuth'], serialHex: nextSerial(), issuer, ...validNow(now), ...request,
  }));
  const caFile = path.join(dir, 'ca.pem');
  const otherCaFile = path.join(dir, 'other-ca.pem');
  writeFileSync(caFile, ca.certPem);
  writeFileSync(otherCaFile, otherCa.certPem);
  const revokedClient = await leaf('revoked', {});
  const crlFile = path.join(dir, 'ca.crl');
  writeFileSync(crlFile, await issueRevocationList(ca, [revokedClient.issued.serialHex], new Date(now)));
  return {
    dir, caFile, otherCaFile, crlFile, revokedClient,
    server: await leaf('server', {}),
    client: await leaf('client', {}),
    expiredClient: await leaf('expired', { notBefore: new Date(now - 3 * DAY), notAfter: new Date(now - DAY) }),
    otherNameClient: await leaf('intruder', {}),
    strangerClient: await leaf('stranger', {}, otherCa),
    issue: (name, request) => leaf(name, request),
    remove: () => { rmSync(dir, { recursive: true, force: true }); },
  };
}
