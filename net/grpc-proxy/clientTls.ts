// The proxy's TLS towards the members (--cert, --key, --cacert). As etcd's proxy, its
// certificate must have an empty Common Name: a member with client-cert auth takes a
// certificate's CN as the user, and every client of the proxy would act as that user
// (etcd's TLSInfo.EmptyCN, refused at start with "cert has non empty Common Name").

import * as grpc from '@grpc/grpc-js';
import { X509Certificate } from 'node:crypto';
import { channelCredentials } from '../tls/channelCredentials.js';
import { readOrRefuse, TlsFileError } from '../tls/material.js';
import type { ProxyClientTls } from './proxyCommand.js';

/** The Common Name of a PEM certificate's subject ('' when it has none). */
export function commonNameOf(pem: Buffer): string {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(pem);
  } catch (error) {
    throw new TlsFileError(`x509: malformed certificate (${(error as Error).message})`);
  }
  const line = certificate.subject.split('\n').find((l) => l.startsWith('CN='));
  return line === undefined ? '' : line.slice('CN='.length);
}

/** Credentials for dialling the members; throws TlsFileError with etcd's text. */
export function proxyChannelCredentials(tls: ProxyClientTls | null): grpc.ChannelCredentials {
  if (tls === null) return grpc.credentials.createInsecure();
  if ((tls.certFile === '') !== (tls.keyFile === '')) throw new TlsFileError('tls: both --cert and --key are needed for a client certificate');
  for (const file of [tls.caFile, tls.keyFile]) if (file !== '') readOrRefuse(file);
  if (tls.certFile !== '') {
    const cn = commonNameOf(readOrRefuse(tls.certFile));
    if (cn !== '') throw new TlsFileError(`cert has non empty Common Name (${cn})`);
  }
  return channelCredentials({ trustedCaFile: tls.caFile, certFile: tls.certFile, keyFile: tls.keyFile, skipVerify: tls.skipVerify });
}
