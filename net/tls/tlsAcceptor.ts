// The server side of TLS connections on one port: handshake with the member's current
// files, refuse what etcd refuses (no or an unverifiable client certificate where one
// is required, a revoked one, one that fails the allowed CN/hostname rule), and hand
// the decrypted socket on to whoever serves the port (the client listener's sniffer,
// or the peer gRPC server).
//
// A tls.Server that never listens does the handshakes: raw sockets are given to it
// as 'connection's, so node:tls verifies client certificates as on any TLS server.
// Before each handshake the files are checked for changes (TlsMaterial.current) and a
// change is installed with setSecureContext, so rotation needs no restart.
//
// ALPN: gRPC clients offer only "h2"; curl and browsers offer "h2" and "http/1.1". We
// list "http/1.1" first, so an HTTP client is served HTTP/1.1 (/health, /metrics) and
// a gRPC client still gets h2; after the handshake the bytes are sniffed as on a
// plain port.

import { Socket as NetSocket, type Socket } from 'node:net';
import { createServer, type Server, type TLSSocket } from 'node:tls';
import { verifiesClients, type LoadedTls, type TlsMaterial } from './material.js';
import { CERT_AUTH_FAILED, refusalOf, type CertificateRules } from './peerRules.js';
import { sendRefusalNotice, type RefusalAlert } from './refusalNotice.js';

/** A client that has not finished its handshake within this time is dropped (a bound on half-open sockets). */
export const HANDSHAKE_TIMEOUT_MS = 10_000;

export interface TlsAcceptorOptions {
  readonly material: TlsMaterial;
  readonly rules: CertificateRules;
  /**
   * The decrypted, verified connection, and the raw TCP socket it runs over (null if node
   * did not tell: then the raw socket's owner cannot know the handshake is over).
   */
  readonly onSecure: (socket: TLSSocket, raw: Socket | null) => void;
  /** A refused connection, with etcd's reason (for the member's log). */
  readonly onRefused: (remote: string, reason: string) => void;
  /**
   * Tell a refused dialer which TLS alert etcd would have sent (refusalNotice.ts). For
   * the peer port, whose dialers are Tern members; a client port closes silently.
   */
  readonly noticeRefusals?: boolean;
}

export class TlsAcceptor {
  private readonly server: Server;
  private installed: LoadedTls;

  constructor(private readonly options: TlsAcceptorOptions) {
    this.installed = options.material.current();
    const requestCert = verifiesClients(options.material.files);
    this.server = createServer({
      ...this.installed.contextOptions,
      requestCert,
      // The verdict is ours to act on (admit), so that a refusal is logged with its reason.
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1', 'h2'],
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
    }, (socket) => { this.admit(socket); });
    this.server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
      this.options.onRefused(remoteOf(socket), error.message);
      socket.destroy();
    });
  }

  /** Takes a raw TCP connection; it ends up handed to onSecure, or destroyed and reported. */
  accept(raw: Socket): void {
    try {
      const loaded = this.options.material.current();
      if (loaded !== this.installed) {
        this.server.setSecureContext(loaded.contextOptions);
        this.installed = loaded;
      }
    } catch (error) {
      // etcd fails the handshake when its files cannot be read; the old ones are not served.
      this.options.onRefused(remoteOf(raw), (error as Error).message);
      raw.destroy();
      return;
    }
    this.server.emit('connection', raw);
  }

  private admit(socket: TLSSocket): void {
    if (!verifiesClients(this.options.material.files)) {
      this.options.onSecure(socket, rawOf(socket));
      return;
    }
    if (!socket.authorized) {
      const presented = Object.keys(socket.getPeerCertificate()).length > 0;
      this.options.onRefused(remoteOf(socket), presented ? unverifiedReason(socket.authorizationError) : "tls: client didn't provide a certificate");
      this.refuse(socket, presented ? 'bad certificate' : 'certificate required');
      return;
    }
    const reason = refusalOf(socket.getPeerCertificate(true), this.options.rules, this.installed.revoked);
    if (reason !== null) {
      this.options.onRefused(remoteOf(socket), reason);
      // etcd refuses a CN/hostname mismatch in the handshake (bad_certificate), a
      // revoked certificate after it (its listener closes the connection, no alert).
      this.refuse(socket, reason === CERT_AUTH_FAILED ? 'bad certificate' : null);
      return;
    }
    this.options.onSecure(socket, rawOf(socket));
  }

  private refuse(socket: TLSSocket, alert: RefusalAlert | null): void {
    if (alert !== null && this.options.noticeRefusals === true) sendRefusalNotice(socket, alert);
    else socket.destroy();
  }
}

/**
 * The TCP socket a server-side TLSSocket wraps. node keeps it as `_parent` (not in its
 * typings); a listener needs it to tell sockets still in their handshake, which it must
 * cut on stop, from handed-over ones, which belong to their servers' graceful shutdown.
 */
function rawOf(socket: TLSSocket): Socket | null {
  const parent = (socket as TLSSocket & { _parent?: unknown })._parent;
  return parent instanceof NetSocket ? parent : null;
}

/** Go's texts (as etcd logs them) for node's verification codes. */
function unverifiedReason(code: Error | null | undefined): string {
  const name = code === null || code === undefined ? '' : String(code);
  if (name === 'CERT_HAS_EXPIRED' || name === 'CERT_NOT_YET_VALID') return "tls: failed to verify client's certificate: x509: certificate has expired or is not yet valid";
  return `tls: failed to verify client's certificate: x509: certificate signed by unknown authority (${name})`;
}

function remoteOf(socket: Socket): string {
  return `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
}
