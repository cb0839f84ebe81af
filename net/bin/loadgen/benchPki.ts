// Certificates for the TLS cases of bench:server, made fresh in a temporary directory:
// a CA, a server certificate for 127.0.0.1 and a client certificate, so that etcd and
// Tern are measured with the same mutual TLS.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { issueCertificate, type IssuedCertificate } from '../../tls/certificates.js';
import type { ServerTlsFlags } from './servers.js';
import type { ClientTlsFiles } from './task.js';

export interface BenchPki {
  readonly server: ServerTlsFlags;
  readonly client: ClientTlsFiles;
  remove(): void;
}

const DAY_MS = 24 * 3600_000;

export async function makeBenchPki(): Promise<BenchPki> {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-pki-'));
  const now = Date.now();
  const validity = { notBefore: new Date(now - DAY_MS), notAfter: new Date(now + 30 * DAY_MS) };
  const ca = await issueCertificate({ commonName: 'bench-ca', isCa: true, serialHex: '01', ...validity });
  const leaf = (name: string, serialHex: string): Promise<IssuedCertificate> => issueCertificate({
    commonName: name, hosts: ['127.0.0.1'], usages: ['serverAuth', 'clientAuth'], serialHex, issuer: ca, ...validity,
  });
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    writeFileSync(file, text, { mode: 0o600 });
    return file;
  };
  const [server, client] = [await leaf('server', '02'), await leaf('client', '03')];
  const caFile = write('ca.pem', ca.certPem);
  return {
    server: { flags: ['--cert-file', write('server.pem', server.certPem), '--key-file', write('server-key.pem', server.keyPem), '--trusted-ca-file', caFile, '--client-cert-auth'] },
    client: { caFile, certFile: write('client.pem', client.certPem), keyFile: write('client-key.pem', client.keyPem) },
    remove: () => { rmSync(dir, { recursive: true, force: true }); },
  };
}
