// The TCP proxies between members: one in front of each member's peer listener. A
// member's advertised peer URL is its proxy, so every peer connection to it passes
// through; the proxy learns which member dialed (dialer.ts) and so knows the link
// (dialer to listener) each connection belongs to.
//
// A cut link is a black hole, as etcd's robustness suite makes it: connections on it
// are closed when the cut starts, and new ones are accepted and then ignored (no bytes
// either way), so the dialer sees timeouts, not refusals. Healing closes the ignored
// connections, and the dialer's next attempt goes through.

import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { dialerOf } from './dialer.js';

/** The cut links, each as an unordered pair of member names. */
export class Cuts {
  private readonly pairs = new Set<string>();
  private readonly listeners: (() => void)[] = [];

  private static key(a: string, b: string): string {
    return a < b ? `${a}|${b}` : `${b}|${a}`;
  }

  isCut(a: string, b: string): boolean {
    return this.pairs.has(Cuts.key(a, b));
  }

  /** Replaces the cut links (an empty list heals everything). */
  set(links: readonly (readonly [string, string])[]): void {
    this.pairs.clear();
    for (const [a, b] of links) this.pairs.add(Cuts.key(a, b));
    for (const listener of this.listeners) listener();
  }

  list(): string[] {
    return [...this.pairs].sort();
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }
}

interface Conn {
  readonly from: string;
  readonly downstream: Socket;
  /** null while the link is cut (held in the black hole). */
  upstream: Socket | null;
}

/** More peer connections than this at one proxy means something loops: refuse the rest. */
const MAX_CONNECTIONS = 512;
const CLOSE_WAIT_MS = 2000;

export interface ProxyOptions {
  /** The member behind this proxy. */
  readonly to: string;
  readonly listenPort: number;
  readonly targetPort: number;
  readonly cuts: Cuts;
  /** The members' pids by name, now (a restarted member has a new pid). */
  readonly pids: () => ReadonlyMap<number, string>;
}

/** Connections seen by one proxy: whose dialer was found, and how many were cut. */
export interface ProxyStats {
  identified: number;
  unidentified: number;
  cut: number;
}

export class PeerProxy {
  private readonly conns = new Set<Conn>();
  /** Accepted sockets whose dialer is still being looked up (close() must end them too). */
  private readonly pending = new Set<Socket>();
  readonly stats: ProxyStats = { identified: 0, unidentified: 0, cut: 0 };
  private server: Server | null = null;

  constructor(private readonly options: ProxyOptions) {
    options.cuts.onChange(() => { this.enforce(); });
  }

  listen(): Promise<void> {
    const server = createServer({ pauseOnConnect: true }, (socket) => { void this.accept(socket); });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.listenPort, '127.0.0.1', () => { resolve(); });
    });
  }

  close(): Promise<void> {
    for (const conn of this.conns) this.drop(conn);
    for (const socket of this.pending) socket.destroy();
    this.pending.clear();
    const server = this.server;
    this.server = null;
    // server.close() waits for every connection; none should be left, but a stop must not hang on one.
    return new Promise((resolve) => {
      if (server === null) { resolve(); return; }
      const timer = setTimeout(resolve, CLOSE_WAIT_MS);
      server.close(() => { clearTimeout(timer); resolve(); });
    });
  }

  private async accept(downstream: Socket): Promise<void> {
    downstream.on('error', () => undefined);
    if (this.conns.size >= MAX_CONNECTIONS || this.server === null) {
      downstream.destroy();
      return;
    }
    this.pending.add(downstream);
    const dialer = await dialerOf(downstream.remotePort ?? 0, this.options.listenPort, this.options.pids());
    this.pending.delete(downstream);
    if (dialer === undefined) this.stats.unidentified++;
    else this.stats.identified++;
    const from = dialer ?? 'unknown';
    if (downstream.destroyed || this.isClosed()) {
      // A paused socket nobody reads would hold server.close() open for ever.
      downstream.destroy();
      return;
    }
    const conn: Conn = { from, downstream, upstream: null };
    this.conns.add(conn);
    downstream.once('close', () => { this.drop(conn); });
    if (this.options.cuts.isCut(from, this.options.to)) return; // held: paused, never read
    this.connectUpstream(conn);
  }

  /** Closed while a dialer lookup was in flight (a method: the field changes across awaits). */
  private isClosed(): boolean {
    return this.server === null;
  }

  private connectUpstream(conn: Conn): void {
    const upstream = createConnection({ host: '127.0.0.1', port: this.options.targetPort });
    conn.upstream = upstream;
    upstream.on('error', () => undefined);
    upstream.once('close', () => { this.drop(conn); });
    conn.downstream.pipe(upstream);
    upstream.pipe(conn.downstream);
    conn.downstream.resume();
  }

  /** After a change of cuts: close connections on newly cut links and held ones on healed links. */
  private enforce(): void {
    for (const conn of this.conns) {
      const cut = this.options.cuts.isCut(conn.from, this.options.to);
      if (cut && conn.upstream !== null) {
        this.stats.cut++;
        this.drop(conn);
      }
      else if (!cut && conn.upstream === null) this.drop(conn);
    }
  }

  private drop(conn: Conn): void {
    if (!this.conns.delete(conn)) return;
    conn.downstream.destroy();
    conn.upstream?.destroy();
  }
}
