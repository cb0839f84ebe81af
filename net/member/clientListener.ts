// One listening socket for both of etcd's client protocols, as etcd's cmux does: gRPC
// (HTTP/2 with prior knowledge) and HTTP/1.1 (/health, /version, /metrics) on the same
// --listen-client-urls port.
//
// Every HTTP/2 connection opens with the fixed client preface "PRI * HTTP/2.0\r\n\r\n
// SM\r\n\r\n" (RFC 9113 §3.4); no HTTP/1 request can start that way. So the listener
// reads until the bytes received either diverge from the preface or match it whole,
// puts them back (socket.unshift) and hands the socket to grpc-js's connection
// injector or to a node:http server, which then read them as if first.
//
// gRPC connections whose requests carry a URL as :authority (etcdctl's `endpoint status`,
// issue #15) are served through a rewriter that nghttp2 would otherwise refuse; which
// ones is decided from the connection's first request (net/http2/openingInspector.ts),
// and the others are handed over raw.
//
// On an https:// URL the TLS acceptor (net/tls/tlsAcceptor.ts) first does the handshake
// and the checks etcd makes on client certificates; the decrypted socket is then sniffed
// the same way, so gRPC and HTTP share a TLS port too.

import type * as grpc from '@grpc/grpc-js';
import type { Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import type { ServingTls } from '../tls/memberTls.js';
import { EMPTY_SETTINGS } from '../http2/frames.js';
import { OpeningInspector, type Verdict } from '../http2/openingInspector.js';
import { RewritingConnection } from '../http2/rewritingConnection.js';
import { TlsAcceptor } from '../tls/tlsAcceptor.js';
import { closeWith, listenOn, listenOnPath } from './listen.js';

const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/** A client that sends nothing within this time is dropped (a bound on half-open sockets). */
const SNIFF_TIMEOUT_MS = 10_000;
/**
 * How long a gRPC connection's opening waits for a first request before it is handed
 * over raw (an idle client). grpc-go sends its first request as soon as it has our
 * SETTINGS, so this only runs out for clients that connect ahead of use.
 */
const REQUEST_WAIT_MS = 3_000;

export type Protocol = 'grpc' | 'http';

/** 'grpc' / 'http' once the bytes decide it; null while they are still a prefix of the preface. */
export function classify(head: Buffer): Protocol | null {
  const n = Math.min(head.length, HTTP2_PREFACE.length);
  if (head.subarray(0, n).equals(HTTP2_PREFACE.subarray(0, n))) return n === HTTP2_PREFACE.length ? 'grpc' : null;
  return 'http';
}

export interface ClientListenerOptions {
  readonly grpc: grpc.ConnectionInjector;
  readonly http: HttpServer;
  /** Serve TLS with these files and rules; absent = plain. */
  readonly tls?: ServingTls;
  /** A TLS connection refused (bad certificate, rule failed), for the member's log. */
  readonly onRefused?: (remote: string, reason: string) => void;
}

/** A TCP server that sorts connections between grpc-js and node:http. */
export class ClientListener {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  private readonly acceptor: TlsAcceptor | null;

  constructor(private readonly options: ClientListenerOptions) {
    const tls = options.tls;
    this.acceptor = tls === undefined ? null : new TlsAcceptor({
      ...tls,
      onSecure: (socket, raw) => {
        // Handshake done: from now on the connection is the TLS socket's; destroying that
        // closes the raw one too. Once sniffed, it belongs to grpc-js or node:http, which
        // close it with the grace a plain connection gets.
        if (raw !== null) this.sockets.delete(raw);
        this.sniff(socket);
      },
      onRefused: options.onRefused ?? ((): void => undefined),
    });
    this.server = createServer({ pauseOnConnect: true }, (socket) => {
      if (this.acceptor === null) {
        this.sniff(socket);
        return;
      }
      this.sockets.add(socket);
      socket.once('close', () => { this.sockets.delete(socket); });
      this.acceptor.accept(socket);
      socket.resume();
    });
  }

  /** Listens on host:port; resolves with the bound port (port 0 picks one). */
  listen(host: string, port: number): Promise<number> {
    return listenOn(this.server, host, port);
  }

  /** Listens on a unix socket (unix:// and unixs:// URLs); node removes the file on close. */
  listenUnix(path: string): Promise<void> {
    return listenOnPath(this.server, path);
  }

  /**
   * Stops accepting; sockets still in their TLS handshake or being sniffed are dropped
   * (handed-over ones belong to their servers, on a TLS port as on a plain one).
   */
  close(): Promise<void> {
    return closeWith(this.server, this.sockets);
  }

  private sniff(socket: Socket): void {
    this.sockets.add(socket);
    const chunks: Buffer[] = [];
    let opening: OpeningInspector | null = null;
    let giveUp: NodeJS.Timeout | undefined;
    const onTimeout = (): void => { socket.destroy(); };
    socket.setTimeout(SNIFF_TIMEOUT_MS);
    socket.once('timeout', onTimeout);
    const release = (): void => {
      socket.off('readable', onReadable);
      socket.off('end', onEnd);
      clearTimeout(giveUp);
      // The new owner keeps its own timeouts (HTTP keep-alive); ours must not fire on them.
      socket.off('timeout', onTimeout);
      socket.setTimeout(0);
      this.sockets.delete(socket);
    };
    const settle = (inspect: (inspector: OpeningInspector) => Verdict): void => {
      if (opening === null) return;
      let verdict: Verdict;
      try {
        verdict = inspect(opening);
      } catch {
        // Malformed framing or HPACK, or an opening over its bound: nghttp2 would end it too.
        socket.destroy();
        return;
      }
      if (verdict.kind === 'wait') return;
      release();
      this.handOverGrpc(socket, verdict);
    };
    const onReadable = (): void => {
      const fresh: Buffer[] = [];
      for (let chunk = socket.read() as Buffer | null; chunk !== null; chunk = socket.read() as Buffer | null) fresh.push(chunk);
      if (opening !== null) {
        settle((inspector) => inspector.push(Buffer.concat(fresh)));
        return;
      }
      chunks.push(...fresh);
      const head = Buffer.concat(chunks);
      const protocol = classify(head);
      if (protocol === null) return; // a prefix of the preface so far: wait for more
      if (protocol === 'http') {
        release();
        socket.unshift(head);
        this.handOverHttp(socket);
        return;
      }
      // See OpeningInspector: our SETTINGS lets a gRPC client send its first request.
      opening = new OpeningInspector();
      socket.write(EMPTY_SETTINGS);
      giveUp = setTimeout(() => { settle((inspector) => inspector.giveUp()); }, REQUEST_WAIT_MS);
      settle((inspector) => inspector.push(head.subarray(HTTP2_PREFACE.length)));
    };
    const onEnd = (): void => {
      release();
      socket.destroy();
    };
    socket.on('readable', onReadable);
    socket.once('end', onEnd);
    socket.once('close', () => { clearTimeout(giveUp); this.sockets.delete(socket); });
    socket.once('error', () => { this.sockets.delete(socket); });
  }

  /** The opening's verdict decides: the raw socket (native reads), or through the rewriter. */
  private handOverGrpc(socket: Socket, verdict: Verdict & { readonly kind: 'raw' | 'rewrite' }): void {
    const head = Buffer.concat([HTTP2_PREFACE, verdict.bytes]);
    if (verdict.kind === 'rewrite') {
      this.options.grpc.injectConnection(new RewritingConnection(socket, head));
      return;
    }
    // node's HTTP/2 session reads the socket's handle directly, and takes the bytes
    // already buffered (ours, unshifted) on the next tick: the socket must not flow
    // before, or they would be emitted to no one.
    socket.unshift(head);
    this.options.grpc.injectConnection(socket);
  }

  private handOverHttp(socket: Socket): void {
    this.options.http.emit('connection', socket);
    // pauseOnConnect: the HTTP parser listens for 'data' now; let the bytes flow.
    socket.resume();
  }
}
