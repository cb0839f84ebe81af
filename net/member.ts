// One Tern member on real ports: node timers tick the core, crypto draws the election
// jitter, the wall clock times leases, grpc-js serves etcd's API. This is the
// production counterpart of sim/cluster.ts: the same EtcdServer and NodeDriver.

import * as grpc from '@grpc/grpc-js';
import { randomInt } from 'node:crypto';
import type { Server as HttpServer } from 'node:http';
import type { MvccBackend } from '../core/mvcc/backend.js';
import { MemoryLogStore } from '../core/node/memoryLogStore.js';
import type { LogStore } from '../core/node/ports.js';
import { EtcdServer } from '../core/server/server.js';
import { ClientListener } from './clientListener.js';
import { grpcMetricsInterceptor } from './grpcMetrics.js';
import { httpEndpoints, type HttpSources } from './httpEndpoints.js';
import { clusterId, memberId } from './ids.js';
import { MemberMetrics } from './metrics.js';
import { loadEtcdServices } from './protos.js';
import { DEFAULT_MAX_REQUEST_BYTES, GRPC_OVERHEAD_BYTES, limitRequestSize } from './requestLimit.js';
import { kvHandlers, maintenanceHandlers } from './services.js';
import { timedLogStore } from './timedLogStore.js';

export interface MemberOptions {
  readonly name: string;
  /** host:port pairs to serve clients on. */
  readonly clientAddresses: readonly string[];
  readonly peerUrls: readonly string[];
  readonly clusterToken: string;
  readonly heartbeatMs: number;
  readonly electionMs: number;
  /** Where the Raft log lives; a volatile in-memory store if absent. */
  readonly logStore?: LogStore;
  /** Where the MVCC records live; in memory (rebuilt from the log on start) if absent. */
  readonly backend?: MvccBackend;
  /** host:port pairs serving only /metrics and /health (etcd's --listen-metrics-urls). */
  readonly metricsAddresses?: readonly string[];
  /** etcd's --max-request-bytes (default 1.5 MiB). */
  readonly maxRequestBytes?: number;
  /** The metrics the storage adapters already feed; a fresh set if absent. */
  readonly metrics?: MemberMetrics;
  /** Bytes the database takes on disk (etcd_mvcc_db_total_size_in_bytes). */
  readonly dbSizeBytes?: () => number;
}

export class Member {
  readonly ids: { readonly memberId: string; readonly clusterId: string };
  readonly metrics: MemberMetrics;
  private readonly server: EtcdServer;
  private readonly grpcServer: grpc.Server;
  private readonly listeners: { close(): Promise<void> }[] = [];
  private readonly timer: NodeJS.Timeout;

  private constructor(server: EtcdServer, ids: { memberId: string; clusterId: string }, options: MemberOptions, metrics: MemberMetrics) {
    this.server = server;
    this.ids = ids;
    this.metrics = metrics;
    this.grpcServer = new grpc.Server({
      interceptors: [grpcMetricsInterceptor(metrics)],
      'grpc.max_receive_message_length': (options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES) + GRPC_OVERHEAD_BYTES,
    });
    this.timer = setInterval(() => {
      server.tick();
      metrics.observeLeader(server.driver.status().lead);
    }, options.heartbeatMs);
  }

  static async start(options: MemberOptions): Promise<Member> {
    const metrics = options.metrics ?? new MemberMetrics();
    const logStore = timedLogStore(options.logStore ?? new MemoryLogStore(), (s) => { metrics.walFsyncSeconds.observe(s); });
    const member = memberId(options.peerUrls, options.clusterToken);
    const ids = { memberId: member.toString(), clusterId: clusterId([member]).toString() };
    const started = EtcdServer.start(
      {
        // The core's Raft id: a single member is 1; multi-member id mapping comes with the peer transport.
        id: 1, initialVoters: [1], clusterId: 0, tickMs: options.heartbeatMs,
        heartbeatTicks: 1, electionTicks: Math.max(2, Math.round(options.electionMs / options.heartbeatMs)),
      },
      {
        logStore,
        transport: { send: () => undefined }, // no peers yet
        random: { intBelow: (bound) => randomInt(bound) },
        clock: { nowMs: () => Date.now() },
        ...(options.backend === undefined ? {} : { backend: options.backend }),
      },
    );
    if ('kind' in started) throw new Error(`cannot start: ${started.kind}: ${started.detail}`);
    // etcd's --initial-election-tick-advance: a fresh member fast-forwards its election
    // clock, so that a single member (or a cluster starting together) elects at once.
    const electionTicks = Math.max(2, Math.round(options.electionMs / options.heartbeatMs));
    for (let i = 0; i < electionTicks - 1; i++) started.tick();
    const m = new Member(started, ids, options, metrics);
    metrics.bind(m.metricSources(options.dbSizeBytes ?? (() => 0)));
    const services = loadEtcdServices();
    const limit = options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    m.grpcServer.addService(...limitRequestSize(services.kv, kvHandlers(started, ids), limit));
    m.grpcServer.addService(services.maintenance, maintenanceHandlers(started, ids));
    const http: HttpSources = { healthy: () => m.healthy(), metrics: () => metrics.exposition() };
    // gRPC and HTTP/1.1 share each client port, as in etcd; metrics ports serve HTTP only.
    const injector = m.grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    const clientHttp = httpEndpoints(http, 'client');
    m.listeners.push(closable(clientHttp));
    for (const address of options.clientAddresses) {
      const listener = new ClientListener({ grpc: injector, http: clientHttp });
      m.listeners.push(listener);
      await listener.listen(...splitHostPort(address));
    }
    for (const address of options.metricsAddresses ?? []) {
      const server = httpEndpoints(http, 'metrics');
      m.listeners.push(closable(server));
      await listenHttp(server, address);
    }
    return m;
  }

  private metricSources(dbSizeBytes: () => number): Parameters<MemberMetrics['bind']>[0] {
    const server = this.server;
    return {
      raft: () => {
        const s = server.driver.status();
        return { lead: s.lead, isLeader: s.role === 'leader', committedIndex: s.hardState.commit, appliedIndex: s.applied };
      },
      pendingProposals: () => server.pendingProposals(),
      keysTotal: () => {
        const all = new Uint8Array([0]);
        const r = server.machine.store.range({ key: all, rangeEnd: all, countOnly: true, serializable: true });
        return 'count' in r ? r.count : 0;
      },
      dbTotalSizeBytes: dbSizeBytes,
      applyCounts: () => server.machine.applyCounts,
    };
  }

  /**
   * etcd 3.4's /health: unhealthy at once without a leader; otherwise healthy if a
   * request through Raft (here a linearizable read) completes within a second.
   */
  private healthy(): Promise<boolean> {
    if (this.server.driver.status().lead === 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => { resolve(false); }, 1000);
      this.server.range({ key: new TextEncoder().encode('health') }, (result) => {
        clearTimeout(timer);
        resolve(!('kind' in result));
      });
    });
  }

  isLeader(): boolean {
    return this.server.driver.status().role === 'leader';
  }

  /** Stops serving and ticking; pending calls end with UNAVAILABLE. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.server.driver.stop();
    await Promise.all(this.listeners.map((l) => l.close()));
    // Injected connections are not the server's own ports: forceShutdown ends them.
    this.grpcServer.forceShutdown();
  }
}

/** "127.0.0.1:2379" → ["127.0.0.1", 2379]; "[::1]:2379" → ["::1", 2379]. */
function splitHostPort(address: string): [string, number] {
  const colon = address.lastIndexOf(':');
  return [address.slice(0, colon).replace(/^\[(.*)\]$/, '$1'), Number(address.slice(colon + 1))];
}

function listenHttp(server: HttpServer, address: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(splitHostPort(address)[1], splitHostPort(address)[0], () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function closable(server: HttpServer): { close(): Promise<void> } {
  return {
    close: () => new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => { resolve(); });
    }),
  };
}
