// The channel credentials a member dials its peers with, reading the certificate, key
// and CA files again for every new connection, so that a peer client certificate
// rotated on disk is presented from the next dial on, with no restart.
//
// etcd does the same: its peer transport's tls.Config has a GetClientCertificate that
// loads the key pair from the files at each handshake (pkg/transport's TLSInfo). grpc-js
// builds one TLS context per credentials object, and asks the credentials for a
// "secure connector" once per subchannel, whose connect() runs for each new connection
// (after a peer restarted, too). That connect() is our hook: it compares the files'
// bytes with the last read and builds new credentials only when they differ, then
// hands the socket to grpc-js's own connector of those, which does the handshake and
// the server check exactly as the plain credentials would.

import * as grpc from '@grpc/grpc-js';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { channelCredentials, type ChannelTlsFiles } from './channelCredentials.js';
import { contentsOf } from './material.js';
import { probeRefusal, type RefusalAlert } from './refusalNotice.js';

type SecureConnector = grpc.experimental.SecureConnector;
type SecureConnectResult = grpc.experimental.SecureConnectResult;

export class RereadingCredentials extends grpc.ChannelCredentials {
  private built: grpc.ChannelCredentials;
  private stamp: Buffer;

  /** Reads the files now: a bad file refuses the start, as before any dial. */
  constructor(private readonly files: ChannelTlsFiles) {
    super();
    this.stamp = this.currentStamp();
    this.built = channelCredentials(files);
  }

  _isSecure(): boolean {
    return true;
  }

  /** grpc-js shares subchannels between equal credentials; ours are equal only to themselves. */
  _equals(other: grpc.ChannelCredentials): boolean {
    return other === this;
  }

  _createSecureConnector(target: grpc.experimental.GrpcUri, options: grpc.ChannelOptions, callCredentials?: grpc.CallCredentials): SecureConnector {
    const calls = callCredentials ?? grpc.CallCredentials.createEmpty();
    return {
      connect: (socket: Socket): Promise<SecureConnectResult> => {
        let current: grpc.ChannelCredentials;
        try {
          current = this.current();
        } catch (error) {
          // A file half rewritten or unreadable: this dial fails (grpc-js retries with
          // backoff), as etcd's handshake fails when GetClientCertificate errs.
          return Promise.reject(error instanceof Error ? error : new Error(String(error)));
        }
        const connector = current._createSecureConnector(target, options, calls);
        return connector.connect(socket).finally(() => { connector.destroy(); });
      },
      waitForReady: () => Promise.resolve(),
      getCallCredentials: () => calls,
      destroy: () => undefined,
    };
  }

  /**
   * Whether the peer at `address` (host:port) refuses our certificate, and with which
   * alert (refusalNotice.ts): one probe connection presenting the files as they are now.
   */
  refusalBy(address: string): Promise<RefusalAlert | null> {
    const colon = address.lastIndexOf(':');
    const host = address.slice(0, colon).replace(/^\[(.*)\]$/, '$1');
    const port = Number(address.slice(colon + 1));
    const read = (file: string): Buffer | undefined => (file === '' ? undefined : readFileSync(file));
    try {
      return probeRefusal(host, port, {
        ca: read(this.files.trustedCaFile), cert: read(this.files.certFile), key: read(this.files.keyFile),
        rejectUnauthorized: !this.files.skipVerify,
        // Only the refusal is read from this connection, nothing is sent on it: the
        // name the server's certificate carries does not matter here.
        checkServerIdentity: () => undefined,
      });
    } catch {
      return Promise.resolve(null); // files unreadable: the dial's own error says so
    }
  }

  /** The credentials over the files as they are now; throws if they cannot be used. */
  private current(): grpc.ChannelCredentials {
    const stamp = this.currentStamp();
    if (!stamp.equals(this.stamp)) {
      this.built = channelCredentials(this.files);
      this.stamp = stamp;
    }
    return this.built;
  }

  private currentStamp(): Buffer {
    return contentsOf([this.files.certFile, this.files.keyFile, this.files.trustedCaFile]);
  }
}
