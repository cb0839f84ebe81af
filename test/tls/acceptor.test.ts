// The TLS acceptor admits exactly the clients etcd admits, and serves a rotated
// certificate on the next handshake without a restart.

import test from 'ava';
import { copyFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { connect, type ConnectionOptions } from 'node:tls';
import { readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { revokedSerials } from '../../net/tls/certificates.js';
import { TlsMaterial, type TlsFiles } from '../../net/tls/material.js';
import { TlsAcceptor } from '../../net/tls/tlsAcceptor.js';
import { NO_RULES, type CertificateRules } from '../../net/tls/peerRules.js';
import { probeRefusal } from '../../net/tls/refusalNotice.js';
import { makePki, type PemFiles, type Pki } from './pki.js';

let pki: Pki;
test.before(async () => { pki = await makePki(); });
test.after.always(() => { pki.remove(); });

interface Served {
  readonly port: number;
  readonly refusals: string[];
  close(): Promise<void>;
}

function serverFiles(overrides: Partial<TlsFiles> = {}): TlsFiles {
  return { certFile: pki.server.cert, keyFile: pki.server.key, trustedCaFile: pki.caFile, clientCertAuth: true, crlFile: '', ciphers: undefined, ...overrides };
}

/** A TCP server whose connections go through a TlsAcceptor; an admitted client reads "ok <alpn>". */
async function serve(files: TlsFiles, rules: CertificateRules = NO_RULES, noticeRefusals = false): Promise<Served> {
  const refusals: string[] = [];
  const acceptor = new TlsAcceptor({
    material: new TlsMaterial(files),
    rules,
    noticeRefusals,
    onSecure: (socket) => { socket.end(`ok ${String(socket.alpnProtocol)}`); },
    onRefused: (_remote, reason) => { refusals.push(reason); },
  });
  const server: Server = createServer((raw) => { acceptor.accept(raw); });
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve); });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return { port, refusals, close: () => new Promise((resolve) => { server.close(() => { resolve(); }); }) };
}

interface Outcome {
  readonly text: string;
  readonly error: string;
  readonly serverSerial: string;
}

/** Connects, reads until the server closes; never rejects (a refusal is an outcome). */
function dial(port: number, client: PemFiles | null, extra: ConnectionOptions = {}): Promise<Outcome> {
  return new Promise((resolve) => {
    let text = '';
    let serverSerial = '';
    const socket = connect({
      host: '127.0.0.1', port, ca: readFileSync(pki.caFile),
      ...(client === null ? {} : { cert: readFileSync(client.cert), key: readFileSync(client.key) }),
      ...extra,
    }, () => { serverSerial = socket.getPeerCertificate().serialNumber.toLowerCase(); });
    socket.on('data', (chunk: Buffer) => { text += chunk.toString(); });
    socket.on('error', (error: Error) => { resolve({ text, error: error.message, serverSerial }); });
    socket.on('close', () => { resolve({ text, error: '', serverSerial }); });
  });
}

test('a client with a certificate the CA signed is admitted, and ALPN favours HTTP/1.1 for HTTP clients', async (t) => {
  const served = await serve(serverFiles());
  try {
    t.is((await dial(served.port, pki.client, { ALPNProtocols: ['h2', 'http/1.1'] })).text, 'ok http/1.1');
    t.is((await dial(served.port, pki.client, { ALPNProtocols: ['h2'] })).text, 'ok h2');
    t.deepEqual(served.refusals, []);
  } finally { await served.close(); }
});

test('with client-cert auth, no certificate, an expired one and a stranger CA\'s one are refused', async (t) => {
  const served = await serve(serverFiles());
  try {
    for (const client of [null, pki.expiredClient, pki.strangerClient]) {
      const outcome = await dial(served.port, client);
      t.false(outcome.text.startsWith('ok'), `admitted ${client?.cert ?? 'no certificate'}`);
    }
    t.deepEqual(served.refusals.map((r) => r.replace(/ \(.*\)$/, '')), [
      "tls: client didn't provide a certificate",
      "tls: failed to verify client's certificate: x509: certificate has expired or is not yet valid",
      "tls: failed to verify client's certificate: x509: certificate signed by unknown authority",
    ]);
  } finally { await served.close(); }
});

test('without a CA and client-cert auth, a client without a certificate is served', async (t) => {
  const served = await serve(serverFiles({ trustedCaFile: '', clientCertAuth: false }));
  try {
    t.is((await dial(served.port, null)).text, 'ok false');
  } finally { await served.close(); }
});

test('a certificate the CRL revokes is refused with etcd\'s text; the others pass', async (t) => {
  const served = await serve(serverFiles({ crlFile: pki.crlFile, parseCrl: revokedSerials }));
  try {
    t.false((await dial(served.port, pki.revokedClient)).text.startsWith('ok'));
    t.true((await dial(served.port, pki.client)).text.startsWith('ok'));
    t.deepEqual(served.refusals, [`transport: certificate serial ${pki.revokedClient.issued.serialHex} revoked`]);
  } finally { await served.close(); }
});

test('an allowed CN admits that name only; an allowed hostname checks the SANs', async (t) => {
  const byName = await serve(serverFiles(), { allowedCn: 'client', allowedHostname: '' });
  try {
    t.true((await dial(byName.port, pki.client)).text.startsWith('ok'));
    t.false((await dial(byName.port, pki.otherNameClient)).text.startsWith('ok'));
    t.deepEqual(byName.refusals, ['client certificate authentication failed']);
  } finally { await byName.close(); }
  const byHost = await serve(serverFiles(), { allowedCn: '', allowedHostname: 'example.com' });
  try {
    t.false((await dial(byHost.port, pki.client)).text.startsWith('ok'));
    t.deepEqual(byHost.refusals, ['client certificate authentication failed']);
  } finally { await byHost.close(); }
});

test('a certificate replaced on disk is served on the next handshake, without a restart', async (t) => {
  const certFile = `${pki.dir}/rotating.pem`;
  const keyFile = `${pki.dir}/rotating-key.pem`;
  copyFileSync(pki.server.cert, certFile);
  copyFileSync(pki.server.key, keyFile);
  const served = await serve(serverFiles({ certFile, keyFile }));
  try {
    t.is((await dial(served.port, pki.client)).serverSerial, pki.server.issued.serialHex);
    const next = await pki.issue('rotated', {});
    copyFileSync(next.cert, certFile);
    copyFileSync(next.key, keyFile);
    const after = await dial(served.port, pki.client);
    t.is(after.serverSerial, next.issued.serialHex);
    t.is(new X509Certificate(readFileSync(certFile)).serialNumber.toLowerCase(), next.issued.serialHex);
    t.true(after.text.startsWith('ok'));
  } finally { await served.close(); }
});

test('a peer port tells a refused dialer the TLS alert etcd would send; a client port and a revoked certificate get none', async (t) => {
  const probe = (port: number, client: PemFiles | null): ReturnType<typeof probeRefusal> => probeRefusal('127.0.0.1', port, {
    ca: readFileSync(pki.caFile), ...(client === null ? {} : { cert: readFileSync(client.cert), key: readFileSync(client.key) }),
    checkServerIdentity: () => undefined,
  });
  const peer = await serve(serverFiles({ crlFile: pki.crlFile, parseCrl: revokedSerials }), { allowedCn: 'client', allowedHostname: '' }, true);
  const client = await serve(serverFiles(), { allowedCn: 'client', allowedHostname: '' });
  try {
    t.is(await probe(peer.port, pki.otherNameClient), 'bad certificate', 'a CN the rule does not allow');
    t.is(await probe(peer.port, pki.strangerClient), 'bad certificate', 'a stranger CA\'s certificate');
    t.is(await probe(peer.port, null), 'certificate required', 'no certificate');
    t.is(await probe(peer.port, pki.revokedClient), null, 'revoked: etcd drops it after the handshake, no alert');
    t.is(await probe(peer.port, pki.client), null, 'an admitted peer reads no notice');
    t.is(await probe(client.port, pki.otherNameClient), null, 'a client port closes silently');
  } finally {
    await Promise.all([peer.close(), client.close()]);
  }
});
