// `etcd gateway start`: etcd's stateless L4 proxy. Every client connection is piped, byte
// for byte, to one of the cluster's client endpoints, picked round-robin among those not
// marked down; an endpoint that refuses a connection is marked down and tried again after
// --retry-delay. It knows nothing of gRPC or HTTP (etcd's proxy/tcpproxy does the same).

import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface TcpGatewayOptions {
  /** host:port of each endpoint. */
  readonly endpoints: readonly string[];
  readonly retryDelayMs: number;
  readonly log: (line: string) => void;
}

/** A bound on client connections piped at once; more are closed on arrival. */
export const MAX_GATEWAY_CONNECTIONS = 4096;

interface Remote {
  readonly host: string;
  readonly port: number;
  /** When it may be tried again after a refusal (0: up). */
  downUntilMs: number;
}

export class TcpGateway {
  private readonly remotes: Remote[];
  private readonly server: Server;
  private readonly open = new Set<Socket>();
  private picks = 0;

  constructor(private readonly options: TcpGatewayOptions) {
    if (options.endpoints.length === 0) throw new Error('no endpoints found');
    this.remotes = options.endpoints.map((endpoint) => {
      const at = endpoint.lastIndexOf(':');
      const port = Number(endpoint.slice(at + 1));
      if (at <= 0 || !Number.isInteger(port) || port <= 0 || port > 65535) throw new Error(`error parsing endpoint "${endpoint}"`);
      return { host: endpoint.slice(0, at).replace(/^\[|\]$/g, ''), port, downUntilMs: 0 };
    });
    this.server = createServer((client) => { this.serve(client); });
  }

  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  close(): Promise<void> {
    for (const socket of this.open) socket.destroy();
    return new Promise((resolve) => { this.server.close(() => { resolve(); }); });
  }

  private serve(client: Socket): void {
    if (this.open.size >= MAX_GATEWAY_CONNECTIONS) {
      client.destroy();
      return;
    }
    this.open.add(client);
    client.once('close', () => { this.open.delete(client); });
    client.on('error', () => undefined);
    client.pause();
    this.connect(client, this.remotes.length);
  }

  /** Tries remotes in round-robin order until one accepts, `left` more at most. */
  private connect(client: Socket, left: number): void {
    const remote = this.pick();
    if (remote === null || left === 0 || client.destroyed) {
      client.destroy();
      return;
    }
    const upstream = createConnection({ host: remote.host, port: remote.port });
    upstream.once('connect', () => {
      remote.downUntilMs = 0;
      this.open.add(upstream);
      upstream.once('close', () => { this.open.delete(upstream); client.destroy(); });
      client.once('close', () => { upstream.destroy(); });
      client.pipe(upstream);
      upstream.pipe(client);
      client.resume();
    });
    upstream.once('error', (error) => {
      if (upstream.connecting) {
        remote.downUntilMs = Date.now() + this.options.retryDelayMs;
        this.options.log(`deactivated endpoint ${remote.host}:${String(remote.port)} due to ${error.message}; retry in ${String(this.options.retryDelayMs)} ms`);
        this.connect(client, left - 1);
      } else {
        client.destroy();
      }
    });
  }

  /** The next remote that is up (or whose retry delay has passed), round-robin. */
  private pick(): Remote | null {
    const now = Date.now();
    for (let i = 0; i < this.remotes.length; i++) {
      const remote = this.remotes[this.picks++ % this.remotes.length];
      if (remote !== undefined && remote.downUntilMs <= now) return remote;
    }
    return null;
  }
}
