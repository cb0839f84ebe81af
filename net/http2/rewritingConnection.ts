// A client connection seen through the :authority rewriter, as a Duplex that node's
// HTTP/2 server (grpc-js's connection injector) can serve: reads are the client's bytes
// rewritten (AuthorityRewriter), writes go to the socket untouched.
//
// node wraps a Duplex that is not a native socket in a JS stream, so these connections
// cost more than raw ones; that is why only connections that need it come here
// (OpeningInspector). Backpressure: when the server stops reading, the socket is paused
// until it reads again, so the rewriter holds at most one chunk's output.
//
// What the server sees of the socket through the wrapper: no remote address (logs say
// "unknown") and, on TLS, no peer certificate, so --client-cert-auth's common name does
// not reach these requests (a token still does). etcdctl is not affected: over TLS,
// grpc-go sends the TLS server name (the bare host) as :authority, so its TLS
// connections are never rewritten; only a client that puts a URL in :authority over
// TLS would meet this.

import type { Socket } from 'node:net';
import { Duplex } from 'node:stream';
import { AuthorityRewriter } from './authorityRewriter.js';

export class RewritingConnection extends Duplex {
  private readonly rewriter = new AuthorityRewriter();

  /** `head`: the bytes already read from the socket, from the preface on. */
  constructor(private readonly socket: Socket, head: Buffer) {
    super({ allowHalfOpen: true });
    this.forward(head);
    socket.on('data', (chunk: Buffer) => { this.forward(chunk); });
    socket.once('end', () => { this.push(null); });
    socket.once('error', (error) => { this.destroy(error); });
    socket.once('close', () => { this.destroy(); });
    socket.resume();
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.socket.write(chunk, callback);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.socket.end(callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.socket.destroy();
    callback(error);
  }

  private forward(chunk: Buffer): void {
    if (this.destroyed) return;
    let out: Buffer[];
    try {
      out = this.rewriter.push(chunk);
    } catch {
      // Malformed framing or HPACK: nghttp2 would end the connection; so do we.
      this.destroy();
      return;
    }
    let more = true;
    for (const bytes of out) more = this.push(bytes) && more;
    if (!more) this.socket.pause();
  }
}
