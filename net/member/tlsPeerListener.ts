// A TLS peer port (an https:// --listen-peer-urls): TCP connections go through the TLS
// acceptor, which checks the peer's certificate as etcd does (peer CA, CRL, allowed CN
// or hostname), and the decrypted socket is injected into the member's peer gRPC server.

import type * as grpc from '@grpc/grpc-js';
import { createServer, type Server, type Socket } from 'node:net';
import type { ServingTls } from '../tls/memberTls.js';
import { TlsAcceptor } from '../tls/tlsAcceptor.js';
import { closeWith, listenOn } from './listen.js';

export interface TlsPeerListenerOptions {
  readonly tls: ServingTls;
  readonly injector: grpc.ConnectionInjector;
  readonly onRefused: (remote: string, reason: string) => void;
}

export class TlsPeerListener {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(options: TlsPeerListenerOptions) {
    const acceptor = new TlsAcceptor({
      ...options.tls,
      onSecure: (socket) => { options.injector.injectConnection(socket); },
      onRefused: options.onRefused,
      noticeRefusals: true,
    });
    this.server = createServer((socket) => {
      this.sockets.add(socket);
      socket.once('close', () => { this.sockets.delete(socket); });
      acceptor.accept(socket);
    });
  }

  listen(host: string, port: number): Promise<number> {
    return listenOn(this.server, host, port);
  }

  /** Peer streams never end on their own: cut every connection. */
  close(): Promise<void> {
    return closeWith(this.server, this.sockets);
  }
}
