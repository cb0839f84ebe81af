// The client side of TLS for gRPC channels a member opens (to its peers) and for the
// tools that talk to a TLS member: the CA to trust, and the certificate to present.
// A self-signed peer certificate (--peer-auto-tls) cannot be verified by anyone, so,
// as etcd does (TLSInfo.ClientConfig: selfCert → InsecureSkipVerify), it is not.

import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';

export interface ChannelTlsFiles {
  /** '' = trust the system's roots. */
  readonly trustedCaFile: string;
  /** '' = present no certificate. */
  readonly certFile: string;
  readonly keyFile: string;
  /** --peer-auto-tls: skip verifying the server. */
  readonly skipVerify: boolean;
}

const read = (path: string): Buffer | null => (path === '' ? null : readFileSync(path));

/** Channel credentials over the files as they are now (a new channel reads them again). */
export function channelCredentials(files: ChannelTlsFiles): grpc.ChannelCredentials {
  const verify: grpc.VerifyOptions = files.skipVerify ? { rejectUnauthorized: false } : {};
  return grpc.credentials.createSsl(read(files.trustedCaFile), read(files.keyFile), read(files.certFile), verify);
}
