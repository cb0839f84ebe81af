// X.509 certificates and revocation lists made in-process: etcd's --auto-tls writes a
// self-signed certificate at start, and the tests make their own CA, server, peer and
// client certificates (no certificate of unknown origin is kept in the repository).
//
// node:crypto makes keys and verifies certificates but cannot issue them, so issuing
// goes through @peculiar/x509 over WebCrypto. Its dependency-injection container wants
// the reflect-metadata polyfill loaded first. Loading both costs ~0.2 s, so a member
// imports this module only when it needs it (auto-TLS, a CRL file; see memberTls.ts).

import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { isIP } from 'node:net';
import { normalizeSerial } from './serials.js';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

/** ECDSA over P-256 signs with SHA-256; etcd's auto-TLS uses P-521 (SHA-512, as Go pairs them). */
export type Curve = 'P-256' | 'P-521';

const HASH_OF: Record<Curve, string> = { 'P-256': 'SHA-256', 'P-521': 'SHA-512' };

export interface KeyPair {
  readonly curve: Curve;
  readonly keys: webcrypto.CryptoKeyPair;
}

/** A certificate with the key that signs for it, both PEM. */
export interface IssuedCertificate {
  readonly certPem: string;
  readonly keyPem: string;
  readonly serialHex: string;
  readonly pair: KeyPair;
  readonly subject: string;
}

export type Usage = 'serverAuth' | 'clientAuth';

export interface CertificateRequest {
  /** The subject's common name; '' leaves the subject with the organization alone (as auto-TLS does). */
  readonly commonName: string;
  /** DNS names and IP addresses for the subject-alternative-name extension. */
  readonly hosts?: readonly string[];
  readonly usages?: readonly Usage[];
  readonly isCa?: boolean;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Hex, without a leading sign bit concern: the generator keeps it positive. */
  readonly serialHex: string;
  readonly curve?: Curve;
  /** The CA that signs it; absent = self-signed. */
  readonly issuer?: IssuedCertificate;
}

const EXTENDED_USAGE: Record<Usage, string> = {
  serverAuth: x509.ExtendedKeyUsage.serverAuth,
  clientAuth: x509.ExtendedKeyUsage.clientAuth,
};

export async function generateKeyPair(curve: Curve): Promise<KeyPair> {
  const keys = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: curve }, true, ['sign', 'verify']);
  return { curve, keys };
}

function signingAlgorithm(curve: Curve): { name: string; hash: string; namedCurve: string } {
  return { name: 'ECDSA', hash: HASH_OF[curve], namedCurve: curve };
}

function subjectName(commonName: string): string {
  return commonName === '' ? 'O=etcd' : `CN=${commonName}, O=etcd`;
}

function alternativeNames(hosts: readonly string[]): x509.JsonGeneralName[] {
  return hosts.map((host) => (isIP(host) === 0 ? { type: 'dns', value: host } : { type: 'ip', value: host }));
}

function extensionsFor(request: CertificateRequest): x509.Extension[] {
  const isCa = request.isCa === true;
  const flags = isCa
    ? [x509.KeyUsageFlags.keyCertSign, x509.KeyUsageFlags.cRLSign, x509.KeyUsageFlags.digitalSignature]
    : [x509.KeyUsageFlags.keyEncipherment, x509.KeyUsageFlags.digitalSignature];
  // KeyUsageFlags is a bit set: the extension takes the OR of its members.
  // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment
  const usage: x509.KeyUsageFlags = flags.reduce<number>((all, flag) => all | flag, 0);
  const extensions: x509.Extension[] = [
    new x509.BasicConstraintsExtension(isCa, undefined, true),
    new x509.KeyUsagesExtension(usage, true),
  ];
  const usages = request.usages ?? [];
  if (usages.length > 0) extensions.push(new x509.ExtendedKeyUsageExtension(usages.map((u) => EXTENDED_USAGE[u])));
  const hosts = request.hosts ?? [];
  if (hosts.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(alternativeNames(hosts)));
  return extensions;
}

async function privateKeyPem(pair: KeyPair): Promise<string> {
  const der = await webcrypto.subtle.exportKey('pkcs8', pair.keys.privateKey);
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

/** Issues one certificate: self-signed, or signed by request.issuer. */
export async function issueCertificate(request: CertificateRequest): Promise<IssuedCertificate> {
  const pair = await generateKeyPair(request.curve ?? 'P-256');
  const subject = subjectName(request.commonName);
  const issuer = request.issuer;
  const signer = issuer?.pair ?? pair;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: request.serialHex,
    subject,
    issuer: issuer?.subject ?? subject,
    notBefore: request.notBefore,
    notAfter: request.notAfter,
    publicKey: pair.keys.publicKey,
    signingKey: signer.keys.privateKey,
    signingAlgorithm: signingAlgorithm(signer.curve),
    extensions: extensionsFor(request),
  });
  return { certPem: cert.toString('pem'), keyPem: await privateKeyPem(pair), serialHex: request.serialHex, pair, subject };
}

/** A CRL signed by `issuer` that revokes the given serial numbers (hex). */
export async function issueRevocationList(issuer: IssuedCertificate, revokedSerialsHex: readonly string[], now: Date): Promise<string> {
  const crl = await x509.X509CrlGenerator.create({
    issuer: issuer.subject,
    thisUpdate: now,
    nextUpdate: new Date(now.getTime() + 24 * 3600_000),
    entries: revokedSerialsHex.map((serialNumber) => ({ serialNumber, revocationDate: now })),
    signingKey: issuer.pair.keys.privateKey,
    signingAlgorithm: signingAlgorithm(issuer.pair.curve),
  });
  return crl.toString('pem');
}

/** The serial numbers (lower-case hex, no leading zeros) a CRL revokes: PEM or DER, as Go's x509.ParseCRL takes. */
export function revokedSerials(crlFile: Uint8Array): Set<string> {
  const text = Buffer.from(crlFile).toString('latin1');
  const crl = new x509.X509Crl(text.trimStart().startsWith('-----BEGIN') ? text : Buffer.from(crlFile));
  return new Set(crl.entries.map((entry) => normalizeSerial(entry.serialNumber)));
}

