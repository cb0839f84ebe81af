// `etcd grpc-proxy start`: a stateless gRPC endpoint in front of a cluster. Every client
// service is forwarded as bytes to one member (passThrough.ts, backends.ts); its port
// also answers /health, /version and /metrics over HTTP as a member's does, and
// --metrics-addr serves /health and /metrics alone.
//
// What etcd's proxy adds beyond forwarding and Tern's does not: coalescing identical
// watches into one upstream watch, a serializable-read cache, the JSON gateway on the
// proxy port, and registering itself in the cluster. docs/grpc-proxy.md lists them.

import * as grpc from '@grpc/grpc-js';
import { request as httpRequest, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readFileSync } from 'node:fs';
import { loadEtcdServices } from '../proto/load.js';
import { httpEndpoints, type HttpSources } from '../http/endpoints.js';
import { ClientListener } from '../member/clientListener.js';
import { listenOn } from '../member/listen.js';
import type { ServingTls } from '../tls/memberTls.js';
import type { Backends } from './backends.js';
import { passThroughService } from './passThrough.js';
import type { ProxyClientTls } from './proxyCommand.js';

export interface GrpcProxyOptions {
  readonly backends: Backends;
  /** Files for fetching members' /metrics over https (null: plain http). */
  readonly clientTls: ProxyClientTls | null;
  readonly servingTls: ServingTls | null;
  readonly maxConcurrentStreams: number;
  readonly onRefused: (remote: string, reason: string) => void;
}

/** etcd's HandleHealth: a member answered a range within this time. */
const HEALTH_TIMEOUT_MS = 1000;
const METRICS_TIMEOUT_MS = 5000;
/** A member's /metrics page is a few hundred KiB; beyond this the answer is cut off as an error. */
const MAX_METRICS_BYTES = 16 * 1024 * 1024;
/** A RangeRequest for key "health" (field 1, bytes), as etcd's proxy health check reads. */
const HEALTH_RANGE = Buffer.from([0x0a, 0x06, ...Buffer.from('health')]);

export class GrpcProxy {
  private readonly server: grpc.Server;
  private readonly listener: ClientListener;
  private readonly http: HttpServer;
  private metricsServer: HttpServer | null = null;

  constructor(private readonly options: GrpcProxyOptions) {
    this.server = new grpc.Server({
      'grpc.max_concurrent_streams': options.maxConcurrentStreams,
      // Sizes are the members' to enforce (--max-request-bytes); the proxy passes bytes on.
      'grpc.max_receive_message_length': -1,
      'grpc.max_send_message_length': -1,
    });
    const services = loadEtcdServices();
    const definitions = [services.kv, services.watch, services.lease, services.maintenance, services.cluster, services.auth, services.health, services.lock, services.election];
    for (const definition of definitions) {
      const [raw, handlers] = passThroughService(definition, options.backends);
      this.server.addService(raw, handlers);
    }
    const sources: HttpSources = { healthy: () => this.healthy(), metrics: () => this.memberMetrics() };
    this.http = httpEndpoints(sources, 'client');
    const injector = this.server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    this.listener = new ClientListener({
      grpc: injector, http: this.http,
      ...(options.servingTls === null ? {} : { tls: options.servingTls, onRefused: options.onRefused }),
    });
  }

  /** Serves on host:port; resolves with the bound port. */
  listen(host: string, port: number): Promise<number> {
    return this.listener.listen(host, port);
  }

  /** --metrics-addr: /metrics and /health over plain HTTP. */
  listenMetrics(host: string, port: number): Promise<number> {
    this.metricsServer = httpEndpoints({ healthy: () => this.healthy(), metrics: () => this.memberMetrics() }, 'metrics');
    return listenOn(this.metricsServer, host, port);
  }

  async close(): Promise<void> {
    await this.listener.close();
    this.http.closeAllConnections();
    this.metricsServer?.closeAllConnections();
    this.metricsServer?.close();
    this.server.forceShutdown();
    this.options.backends.close();
  }

  /** etcd's grpcproxy.HandleHealth: healthy when a member answers a range (a permission error counts: it answered). */
  private healthy(): Promise<boolean> {
    return new Promise((resolve) => {
      const deadline = Date.now() + HEALTH_TIMEOUT_MS;
      const identity = (b: Buffer): Buffer => b;
      this.options.backends.pick().makeUnaryRequest('/etcdserverpb.KV/Range', identity, identity, HEALTH_RANGE, new grpc.Metadata(), { deadline }, (error) => {
        resolve(error === null || error.code === grpc.status.PERMISSION_DENIED);
      });
    });
  }

  /** etcd's grpcproxy.HandleMetrics: the /metrics page of a member, fetched as is. */
  private memberMetrics(): Promise<{ contentType: string; body: string }> {
    const endpoint = this.options.backends.endpoints[0] ?? '';
    const tls = this.options.clientTls;
    const read = (path: string): Buffer | undefined => (path === '' ? undefined : readFileSync(path));
    return new Promise((resolve, reject) => {
      const onAnswer = (answer: IncomingMessage): void => {
        const chunks: Buffer[] = [];
        let size = 0;
        answer.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_METRICS_BYTES) {
            answer.destroy(new Error(`the member's /metrics is over ${MAX_METRICS_BYTES} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        answer.on('error', reject);
        answer.on('end', () => {
          resolve({ contentType: answer.headers['content-type'] ?? 'text/plain; version=0.0.4', body: Buffer.concat(chunks).toString('utf8') });
        });
      };
      const url = `${tls === null ? 'http' : 'https'}://${endpoint}/metrics`;
      const sent = tls === null
        ? httpRequest(url, { timeout: METRICS_TIMEOUT_MS }, onAnswer)
        : httpsRequest(url, {
          timeout: METRICS_TIMEOUT_MS, ca: read(tls.caFile), cert: read(tls.certFile), key: read(tls.keyFile), rejectUnauthorized: !tls.skipVerify,
        }, onAnswer);
      sent.on('timeout', () => { sent.destroy(new Error(`no /metrics from ${endpoint} within ${METRICS_TIMEOUT_MS} ms`)); });
      sent.on('error', reject);
      sent.end();
    });
  }
}
