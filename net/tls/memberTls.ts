// What a member serves and dials with, from its TLS flags: a TLS material per side that
// has https listen URLs (files given, or made by auto-TLS in the data dir), and the
// channel credentials for calling peers (which read the files again for each new
// connection, rereadingCredentials.ts). Bad files refuse the start (TlsFileError).

import * as grpc from '@grpc/grpc-js';
import path from 'node:path';
import { isSecureUrl } from '../config/urls.js';
import { TlsMaterial } from './material.js';
import type { CertificateRules } from './peerRules.js';
import { RereadingCredentials } from './rereadingCredentials.js';
import { hasFiles, type TlsFlags, type TlsSideFlags } from './tlsFlags.js';

export interface ServingTls {
  readonly material: TlsMaterial;
  readonly rules: CertificateRules;
}

export interface MemberTls {
  /** null: no https client URL. */
  readonly client: ServingTls | null;
  /** null: no https peer URL. */
  readonly peer: ServingTls | null;
  /** For every call to a peer (Raft stream, attributes, forwarded lease calls). */
  readonly peerChannel: grpc.ChannelCredentials;
}

export interface MemberTlsInput {
  readonly tls: TlsFlags;
  readonly dataDir: string;
  readonly listenClientUrls: readonly string[];
  readonly listenPeerUrls: readonly string[];
}

interface SideFiles {
  readonly certFile: string;
  readonly keyFile: string;
  readonly selfSigned: boolean;
}

/** etcd: auto-TLS only when no files are given ("ignoring client auto TLS since certs given"). */
async function filesOf(side: TlsSideFlags, dir: string, urls: readonly string[], kind: 'client' | 'peer'): Promise<SideFiles> {
  if (hasFiles(side) || !side.autoTls) return { certFile: side.certFile, keyFile: side.keyFile, selfSigned: false };
  const { hostsOf, selfSignedCertificate } = await import('./autoTls.js'); // the X.509 library: only for auto-TLS
  const usages = kind === 'peer' ? (['serverAuth', 'clientAuth'] as const) : (['serverAuth'] as const);
  const made = await selfSignedCertificate(dir, hostsOf(urls), usages);
  return { ...made, selfSigned: true };
}

async function serving(side: TlsSideFlags, files: SideFiles, ciphers: string | undefined): Promise<ServingTls> {
  const parseCrl = side.crlFile === '' ? undefined : (await import('./certificates.js')).revokedSerials;
  // A self-signed pair replaces the side's TLS info wholesale in etcd: no CA, no client-cert auth.
  const material = new TlsMaterial({
    certFile: files.certFile,
    keyFile: files.keyFile,
    trustedCaFile: files.selfSigned ? '' : side.trustedCaFile,
    clientCertAuth: files.selfSigned ? false : side.clientCertAuth,
    crlFile: side.crlFile,
    ...(parseCrl === undefined ? {} : { parseCrl }),
    ciphers,
  });
  return { material, rules: side.rules };
}

/** One serving side from its flags: its files, or a self-signed pair made in `dir` for `urls` (auto-TLS). */
export async function servingTlsOf(side: TlsSideFlags, dir: string, urls: readonly string[], ciphers: string | undefined): Promise<ServingTls> {
  return serving(side, await filesOf(side, dir, urls, 'client'), ciphers);
}

export async function memberTls(input: MemberTlsInput): Promise<MemberTls> {
  const { tls } = input;
  const clientSecure = input.listenClientUrls.some(isSecureUrl);
  const peerSecure = input.listenPeerUrls.some(isSecureUrl);
  const client = clientSecure ? await servingTlsOf(tls.client, path.join(input.dataDir, 'fixtures', 'client'), input.listenClientUrls, tls.ciphers) : null;
  // Auto-TLS makes a peer certificate only for a member that serves https peer URLs.
  const peerFiles = peerSecure
    ? await filesOf(tls.peer, path.join(input.dataDir, 'fixtures', 'peer'), input.listenPeerUrls, 'peer')
    : { certFile: tls.peer.certFile, keyFile: tls.peer.keyFile, selfSigned: false };
  const peer = peerSecure ? await serving(tls.peer, peerFiles, tls.ciphers) : null;
  const dialsTls = peerSecure || hasFiles(tls.peer);
  const peerChannel = dialsTls
    ? new RereadingCredentials({ trustedCaFile: peerFiles.selfSigned ? '' : tls.peer.trustedCaFile, certFile: peerFiles.certFile, keyFile: peerFiles.keyFile, skipVerify: peerFiles.selfSigned })
    : grpc.credentials.createInsecure();
  return { client, peer, peerChannel };
}
