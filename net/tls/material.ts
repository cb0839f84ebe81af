// A member's TLS files (certificate, key, trusted CA, CRL), read and checked at start
// with etcd's error texts, and re-read whenever one of them changes on disk.
//
// etcd reads its certificate and key again on every handshake (GetCertificate in
// pkg/transport), so a rotated certificate is served without a restart. We read them
// at the same moment (a few kB), but parse and rebuild the TLS context only when the
// bytes differ from the last read: timestamps can be too coarse to tell a fast rewrite.

import { X509Certificate, createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSecureContext, type SecureContextOptions } from 'node:tls';
import { invariant } from '../../core/util/invariant.js';

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
  /** '' = none. With a CA, clients must present a certificate it signed (as in etcd 3.4). */
  readonly trustedCaFile: string;
  readonly clientCertAuth: boolean;
  /** '' = none. */
  readonly crlFile: string;
  /**
   * Reads a CRL's revoked serials (PEM or DER) (certificates.ts's revokedSerials); needed only
   * with a crlFile, so that a member without one never loads the X.509 library.
   */
  readonly parseCrl?: (crlFile: Uint8Array) => ReadonlySet<string>;
  /** node:tls `ciphers` (see cipherSuites.ts); undefined = Node's defaults. */
  readonly ciphers: string | undefined;
}

/** What one read of the files gives. */
export interface LoadedTls {
  /** For tls.Server#setSecureContext; already proven to build (bad ciphers are refused at load). */
  readonly contextOptions: SecureContextOptions;
  readonly certificate: X509Certificate;
  /** Serial numbers (normalized hex) the CRL revokes; empty without a CRL. */
  readonly revoked: ReadonlySet<string>;
}

/** A refusal with the text etcd prints (Go's error strings where etcd passes them on). */
export class TlsFileError extends Error {}

/** The file's bytes, or TlsFileError with Go's text for why it cannot be read. */
export function readOrRefuse(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') throw new TlsFileError(`open ${path}: no such file or directory`);
    if (code === 'EACCES') throw new TlsFileError(`open ${path}: permission denied`);
    if (code === 'EISDIR') throw new TlsFileError(`read ${path}: is a directory`);
    throw new TlsFileError(`open ${path}: ${(error as Error).message}`);
  }
}

const PEM_BLOCK = /-----BEGIN [A-Z0-9 ]+-----[\s\S]+?-----END [A-Z0-9 ]+-----/;

function parseCertificate(pem: Buffer): X509Certificate {
  if (!PEM_BLOCK.test(pem.toString('latin1'))) throw new TlsFileError('tls: failed to find any PEM data in certificate input');
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw new TlsFileError(`x509: malformed certificate (${(error as Error).message})`);
  }
}

function parseKey(pem: Buffer): KeyObject {
  if (!PEM_BLOCK.test(pem.toString('latin1'))) throw new TlsFileError('tls: failed to find any PEM data in key input');
  try {
    return createPrivateKey(pem);
  } catch {
    throw new TlsFileError('tls: failed to parse private key');
  }
}

function checkCaFile(path: string, pem: Buffer): void {
  // Go's NewCertPool accepts a file with no certificate, and every client is then
  // refused at handshake with no hint why; refusing at start says it plainly.
  if (!PEM_BLOCK.test(pem.toString('latin1'))) throw new TlsFileError(`no certificate found in trusted CA file ${path}`);
  try {
    new X509Certificate(pem);
  } catch (error) {
    throw new TlsFileError(`x509: malformed certificate in ${path} (${(error as Error).message})`);
  }
}

/** Reads and checks every file; throws TlsFileError with etcd's text. */
export function loadTls(files: TlsFiles): LoadedTls {
  const certPem = readOrRefuse(files.certFile);
  const keyPem = readOrRefuse(files.keyFile);
  const certificate = parseCertificate(certPem);
  const key = parseKey(keyPem);
  if (!certificate.checkPrivateKey(key)) throw new TlsFileError('tls: private key does not match public key');
  const ca = files.trustedCaFile === '' ? undefined : readOrRefuse(files.trustedCaFile);
  if (ca !== undefined) checkCaFile(files.trustedCaFile, ca);
  const revoked = files.crlFile === '' ? new Set<string>() : readRevocations(files.crlFile, files.parseCrl);
  const contextOptions: SecureContextOptions = {
    cert: certPem,
    key: keyPem,
    ...(ca === undefined ? {} : { ca }),
    ...(files.ciphers === undefined ? {} : { ciphers: files.ciphers }),
    minVersion: 'TLSv1.2',
  };
  try {
    createSecureContext(contextOptions);
  } catch (error) {
    throw new TlsFileError(`tls: ${(error as Error).message}`);
  }
  return { contextOptions, certificate, revoked };
}

function readRevocations(path: string, parseCrl: TlsFiles['parseCrl']): ReadonlySet<string> {
  invariant(parseCrl !== undefined, 'a CRL file without a CRL parser');
  const bytes = readOrRefuse(path);
  try {
    return parseCrl(bytes);
  } catch (error) {
    throw new TlsFileError(`x509: malformed crl in ${path} (${(error as Error).message})`);
  }
}

/** Whether client certificates are asked for and verified (etcd 3.4: a CA file or --client-cert-auth). */
export function verifiesClients(files: TlsFiles): boolean {
  return files.clientCertAuth || files.trustedCaFile !== '';
}

/** The files' bytes as one buffer (a missing file reads as a marker), to compare reads. */
export function contentsOf(paths: readonly string[]): Buffer {
  const parts = paths.map((path) => {
    if (path === '') return Buffer.alloc(0);
    try {
      return readFileSync(path);
    } catch {
      return Buffer.from('\0missing\0');
    }
  });
  const lengths = Buffer.from(parts.map((p) => p.length).join(',') + ';');
  return Buffer.concat([lengths, ...parts]);
}

/** The files, loaded once and loaded again when any of them changes. */
export class TlsMaterial {
  private loaded: LoadedTls;
  private stamp: Buffer;

  /** Throws TlsFileError: the member refuses to start. */
  constructor(readonly files: TlsFiles) {
    this.stamp = this.currentStamp();
    this.loaded = loadTls(files);
  }

  /** The files as of now: the cached read, or a new one if a file changed. Throws TlsFileError. */
  current(): LoadedTls {
    const stamp = this.currentStamp();
    if (!stamp.equals(this.stamp)) {
      this.loaded = loadTls(this.files);
      this.stamp = stamp;
    }
    return this.loaded;
  }

  private currentStamp(): Buffer {
    const { certFile, keyFile, trustedCaFile, crlFile } = this.files;
    return contentsOf([certFile, keyFile, trustedCaFile, crlFile]);
  }
}
