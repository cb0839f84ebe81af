// Bad TLS files are refused at start with etcd's texts; auto-TLS makes a certificate
// once and reuses it.

import test from 'ava';
import { X509Certificate } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { selfSignedCertificate, hostsOf } from '../../net/tls/autoTls.js';
import { TlsMaterial, loadTls, TlsFileError, type TlsFiles } from '../../net/tls/material.js';
import { opensslCiphers } from '../../net/tls/cipherSuites.js';
import { revokedSerials } from '../../net/tls/certificates.js';
import { makePki, type Pki } from './pki.js';

let pki: Pki;
test.before(async () => { pki = await makePki(); });
test.after.always(() => { pki.remove(); });

function files(overrides: Partial<TlsFiles>): TlsFiles {
  return { certFile: pki.server.cert, keyFile: pki.server.key, trustedCaFile: '', clientCertAuth: false, crlFile: '', ciphers: undefined, ...overrides };
}

function refusal(overrides: Partial<TlsFiles>): string {
  try {
    loadTls(files(overrides));
    return 'loaded';
  } catch (error) {
    return error instanceof TlsFileError ? error.message : `unexpected ${String(error)}`;
  }
}

test('each bad file gets etcd\'s (Go\'s) text', (t) => {
  const junk = path.join(pki.dir, 'junk.pem');
  writeFileSync(junk, 'not a pem file\n');
  t.is(refusal({}), 'loaded');
  t.is(refusal({ certFile: '/nonexistent/cert.pem' }), 'open /nonexistent/cert.pem: no such file or directory');
  t.is(refusal({ keyFile: '/nonexistent/key.pem' }), 'open /nonexistent/key.pem: no such file or directory');
  t.is(refusal({ keyFile: pki.client.key }), 'tls: private key does not match public key');
  t.is(refusal({ certFile: junk }), 'tls: failed to find any PEM data in certificate input');
  t.is(refusal({ keyFile: junk }), 'tls: failed to find any PEM data in key input');
  t.is(refusal({ trustedCaFile: junk }), `no certificate found in trusted CA file ${junk}`);
  t.is(refusal({ crlFile: junk, parseCrl: revokedSerials }).startsWith(`x509: malformed crl in ${junk}`), true);
  t.is(refusal({ ciphers: 'NO-SUCH-CIPHER' }).startsWith('tls: '), true);
});

test('etcd\'s cipher-suite names map to OpenSSL\'s; an unknown one is refused with etcd\'s text', (t) => {
  t.deepEqual(opensslCiphers([]), { ok: true, ciphers: undefined });
  t.deepEqual(opensslCiphers(['TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305']),
    { ok: true, ciphers: 'ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305' });
  t.deepEqual(opensslCiphers(['TLS_AES_128_GCM_SHA256']), { ok: true, ciphers: 'TLS_AES_128_GCM_SHA256' });
  t.deepEqual(opensslCiphers(['FOO']), { ok: false, error: 'unexpected TLS cipher suite "FOO"' });
});

test('a material notices a changed file and keeps its read while nothing changes', async (t) => {
  const certFile = path.join(pki.dir, 'm.pem');
  const keyFile = path.join(pki.dir, 'm-key.pem');
  writeFileSync(certFile, readFileSync(pki.server.cert));
  writeFileSync(keyFile, readFileSync(pki.server.key));
  const material = new TlsMaterial(files({ certFile, keyFile }));
  const first = material.current();
  t.is(material.current(), first);
  const next = await pki.issue('m2', {});
  writeFileSync(certFile, readFileSync(next.cert));
  writeFileSync(keyFile, readFileSync(next.key));
  const second = material.current();
  t.not(second, first);
  t.is(second.certificate.serialNumber.toLowerCase(), next.issued.serialHex);
  writeFileSync(keyFile, readFileSync(pki.client.key));
  t.throws(() => material.current(), { message: 'tls: private key does not match public key' });
});

test('auto-TLS makes a self-signed P-521 certificate for the listen hosts once, then reuses it', async (t) => {
  const dir = path.join(pki.dir, 'data', 'fixtures', 'client');
  const hosts = hostsOf(['https://127.0.0.1:2379', 'https://localhost:22379', 'https://[::1]:2379']);
  t.deepEqual(hosts, ['127.0.0.1', 'localhost', '::1']);
  const made = await selfSignedCertificate(dir, hosts, ['serverAuth']);
  const cert = new X509Certificate(readFileSync(made.certFile));
  t.is(cert.subject, 'O=etcd');
  t.is(cert.issuer, cert.subject);
  t.true(cert.checkHost('localhost') === 'localhost');
  t.is(cert.checkIP('127.0.0.1'), '127.0.0.1');
  t.is(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'secp521r1');
  t.is(statSync(made.keyFile).mode & 0o777, 0o600);
  const again = await selfSignedCertificate(dir, hosts, ['serverAuth']);
  t.is(readFileSync(again.certFile, 'utf8'), readFileSync(made.certFile, 'utf8'));
  t.notThrows(() => loadTls(files({ certFile: made.certFile, keyFile: made.keyFile })));
});

test('a CRL file is read as PEM or as DER, as Go\'s x509.ParseCRL reads it (etcd\'s e2e fixture is DER)', (t) => {
  const pem = readFileSync(pki.crlFile);
  const der = Buffer.from(pem.toString('latin1').replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, ''), 'base64');
  const fromPem = revokedSerials(pem);
  t.is(fromPem.size, 1);
  t.deepEqual(revokedSerials(der), fromPem);
});
