// One Tern member on real ports: node timers tick the core, crypto draws the election
// jitter, the wall clock times leases, grpc-js serves etcd's API to clients and Tern's
// Peer service to the other members. The production counterpart of sim/cluster.ts:
// the same EtcdServer and NodeDriver, with messages carried by gRPC streams.

import type { PlantedBugs } from '../../core/raft/plantedBugs.js';
import * as grpc from '@grpc/grpc-js';
import { randomInt } from 'node:crypto';
import { rmSync } from 'node:fs';
import type { Server as HttpServer } from 'node:http';
import type { MvccBackend } from '../../core/mvcc/backend.js';
import { MemoryLogStore } from '../../core/node/memoryLogStore.js';
import type { LogStore } from '../../core/node/ports.js';
import type { AutoCompaction } from '../../core/server/autoCompactor.js';
import { EtcdServer } from '../../core/server/server.js';
import { DEFAULT_QUOTA_BYTES } from '../../core/server/quota.js';
import { peerDialTarget, splitHostPort } from '../config/urls.js';
import { httpEndpoints, type HttpSources } from '../http/endpoints.js';
import { countingBytes } from '../metrics/grpcBytes.js';
import { GrpcCallMetrics, grpcMetricsInterceptor } from '../metrics/grpcMetrics.js';
import type { DirectCalls } from '../grpcDirect/directCalls.js';
import { serveDirectly } from '../grpcDirect/serveDirectly.js';
import { learnerGuard } from '../services/learnerGuard.js';
import { MemberMetrics } from '../metrics/memberMetrics.js';
import { timedLogStore } from '../metrics/timedLogStore.js';
import { PEER_CHANNEL_OPTIONS } from '../peer/channelOptions.js';
import { PeerClients } from '../peer/client.js';
import { LeaderForwarding } from '../../core/membership/leaderForwarding.js';
import { PeerActivity } from '../../core/membership/peerActivity.js';
import { AttributePublisher } from '../../core/membership/publisher.js';
import { adoptAttributes, adoptSnapshotMembers, confChangeContextOf } from '../../core/membership/adopt.js';
import { Reconfigurer } from '../../core/membership/reconfig.js';
import { memberId } from '../config/ids.js';
import { peerLeaderLink } from '../peer/leaderLink.js';
import { raftIdOf, type Membership } from '../../core/membership/members.js';
import { peerHandlers } from '../peer/service.js';
import { PeerTransport } from '../peer/transport.js';
import { loadEtcdServices, peerServerDefinition } from '../proto/load.js';
import { clusterHandlers } from '../services/cluster.js';
import { etcdServices, type EtcdServicesHandle, type ServiceContext } from '../services/register.js';
import { addLaterMethods } from '../services/laterMethods.js';
import { Gateway } from '../gateway/gateway.js';
import { DEFAULT_MAX_REQUEST_BYTES, GRPC_OVERHEAD_BYTES } from '../services/requestLimit.js';
import { invariant } from '../../core/util/invariant.js';
import { ClientListener } from './clientListener.js';
import { TlsPeerListener } from './tlsPeerListener.js';
import type { MemberTls } from '../tls/memberTls.js';
import type { TokenProvider } from '../../core/auth/tokens.js';
import type { Passwords } from '../auth/passwords.js';
import type { ListenAddress } from '../config/urls.js';
import type { Logger } from '../log/logger.js';
import { hashKv } from '../snapshot/hashKv.js';
import { initialCorruptCheck, periodicCorruptCheck, type CorruptCheckDeps } from './corruptCheck.js';

export interface MemberOptions {
  readonly membership: Membership;
  /** host:port pairs to serve clients on, each plain or TLS. */
  readonly clientAddresses: readonly ListenAddress[];
  /** host:port pairs to serve peers on (--listen-peer-urls), each plain or TLS. */
  readonly peerAddresses: readonly ListenAddress[];
  /** The files and rules of the TLS addresses, and how to dial peers; plain if absent. */
  readonly tls?: MemberTls;
  /** This member's name and client URLs, as the others will list them. */
  readonly name: string;
  readonly advertiseClientUrls: readonly string[];
  readonly clusterToken: string;
  readonly heartbeatMs: number;
  readonly electionMs: number;
  /** Applied entries between snapshots (--snapshot-count). */
  readonly snapshotCount?: number;
  /** --auto-compaction-mode/-retention; absent: off. */
  readonly autoCompaction?: AutoCompaction;
  /** Where the Raft log lives; a volatile in-memory store if absent. */
  readonly logStore?: LogStore;
  readonly log?: (line: string) => void;
  /** This member was removed from the cluster (etcd then stops the member). */
  readonly onRemoved?: () => void;
  /** Once this member's name and client URLs applied through Raft (etcd's "published" line). */
  readonly onPublished?: () => void;
  /** Where the MVCC records live; in memory (rebuilt from the log on start) if absent. */
  readonly backend?: MvccBackend;
  /** host:port pairs serving only /metrics and /health (etcd's --listen-metrics-urls). */
  readonly metricsAddresses?: readonly string[];
  /** etcd's --max-request-bytes (default 1.5 MiB). */
  readonly maxRequestBytes?: number;
  /**
   * etcd's --max-concurrent-streams: HTTP/2 streams per client connection, announced in
   * the SETTINGS frame (clients queue calls beyond it; node refuses a stream over it).
   * Default 2^32-1, as etcd's math.MaxUint32, and node's own default.
   */
  readonly maxConcurrentStreams?: number;
  /**
   * KV Range/Put/DeleteRange/Txn and Watch served straight off node:http2
   * (net/grpcDirect); on by default. false leaves every call to grpc-js: the tests
   * compare the two paths.
   */
  readonly directCalls?: boolean;
  /** The --auth-token provider (net/auth/tokenProviders.ts); etcd's simple tokens if absent. */
  readonly tokens?: TokenProvider;
  /** bcrypt at --bcrypt-cost; cost 10 if absent. */
  readonly passwords?: Passwords;
  /** etcd's --strict-reconfig-check (default true). */
  readonly strictReconfigCheck?: boolean;
  /** The metrics the storage adapters already feed; a fresh set if absent. */
  readonly metrics?: MemberMetrics;
  /** Bytes the database takes on disk (etcd_mvcc_db_total_size_in_bytes). */
  readonly dbSizeBytes?: () => number;
  /** etcd's --max-txn-ops (default 128). */
  readonly maxTxnOps?: number;
  /** --pre-vote; Tern's default is on (etcd 3.4's is off). */
  readonly preVote?: boolean;
  /** Test-only planted bugs (testBugs.ts); never set in production. */
  readonly testBugs?: PlantedBugs;
  /** --initial-election-tick-advance (default true): fast-forward the election clock at start. */
  readonly initialElectionTickAdvance?: boolean;
  /** --grpc-keepalive-interval/-timeout: the client server pings idle connections; null or absent: grpc-js's defaults. */
  readonly grpcKeepalive?: { readonly intervalMs: number; readonly timeoutMs: number } | null;
  /** --experimental-watch-progress-notify-interval, ms (default 10 minutes). */
  readonly watchProgressNotifyIntervalMs?: number;
  /** etcd's --quota-backend-bytes: 0 (or absent) its default 2 GiB, negative no quota. */
  readonly quotaBackendBytes?: number;
  /**
   * etcd's corruption checks (net/member/corruptCheck.ts): `initial` before serving (a
   * restarted member only, as etcd), every `intervalMs` on the leader if above 0.
   */
  readonly corruptCheck?: { readonly initial: boolean; readonly intervalMs: number; readonly log: Logger };
}


/** Attributes (names, client URLs) are re-exchanged with every peer this often. */

/** What Member.start builds before the Member itself. */
interface MemberParts {
  readonly server: EtcdServer;
  readonly transport: PeerTransport;
  readonly reconfig: Reconfigurer;
  readonly metrics: MemberMetrics;
  readonly peers: PeerClients;
  readonly forwarding: LeaderForwarding;
}

export class Member {
  readonly server: EtcdServer;
  readonly membership: Membership;
  readonly transport: PeerTransport;
  readonly reconfig: Reconfigurer;
  private readonly peers: PeerClients;
  readonly metrics: MemberMetrics;
  private readonly clientServer: grpc.Server;
  /** The client ports (gRPC and HTTP/1.1 sniffed apart) and the metrics ports. */
  private readonly listeners: { close(): Promise<void> }[] = [];
  private readonly peerServer = new grpc.Server(PEER_CHANNEL_OPTIONS);
  private readonly timers: NodeJS.Timeout[] = [];
  /** The client services added in serve(): the member stops their waiting calls. */
  private services: EtcdServicesHandle | null = null;
  private readonly options: MemberOptions;
  /**
   * Lease keep-alive and time-to-live from any member (forwarded to the leader when this
   * member is a follower), and the leader's answer on learner readiness.
   */
  readonly forwarding: LeaderForwarding;
  /** Publishes this member's attributes through Raft once it serves (etcd's publish). */
  private publisher: AttributePublisher | null = null;

  /** The client port's call counters, shared by grpc-js's interceptor and the direct path. */
  private readonly callMetrics: GrpcCallMetrics;
  private directCalls: DirectCalls | null = null;

  /** Client calls served by the direct path (net/grpcDirect) rather than grpc-js. */
  get directCallsServed(): number {
    return this.directCalls?.served ?? 0;
  }

  private constructor(options: MemberOptions, parts: MemberParts) {
    const { server, transport, reconfig, metrics, peers, forwarding } = parts;
    this.options = options;
    this.metrics = metrics;
    this.peers = peers;
    this.forwarding = forwarding;
    const keepalive = options.grpcKeepalive ?? null;
    this.callMetrics = new GrpcCallMetrics(metrics);
    this.clientServer = new grpc.Server({
      interceptors: [
        grpcMetricsInterceptor(this.callMetrics),
        learnerGuard(() => options.membership.get(options.membership.selfId)?.isLearner === true),
      ],
      'grpc.max_receive_message_length': (options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES) + GRPC_OVERHEAD_BYTES,
      'grpc.max_concurrent_streams': options.maxConcurrentStreams ?? UNLIMITED_STREAMS,
      ...(keepalive === null ? {} : { 'grpc.keepalive_time_ms': keepalive.intervalMs, 'grpc.keepalive_timeout_ms': keepalive.timeoutMs }),
    });
    this.membership = options.membership;
    this.server = server;
    this.transport = transport;
    this.reconfig = reconfig;
  }

  get ids(): { readonly memberId: string; readonly clusterId: string } {
    return { memberId: this.membership.selfId.toString(), clusterId: this.membership.clusterId.toString() };
  }

  static async start(options: MemberOptions): Promise<Member> {
    const { membership } = options;
    const log = options.log ?? ((): void => undefined);
    const activity = new PeerActivity(MONOTONIC_CLOCK);
    const transport = new PeerTransport(membership, { log, activity, ...(options.tls === undefined ? {} : { credentials: options.tls.peerChannel }) });
    const electionTicks = Math.max(2, Math.round(options.electionMs / options.heartbeatMs));
    const holder: { reconfig: Reconfigurer | null; server: EtcdServer | null } = { reconfig: null, server: null };
    const metrics = options.metrics ?? new MemberMetrics();
    const logStore = timedLogStore(options.logStore ?? new MemoryLogStore(), (s) => { metrics.walFsyncSeconds.observe(s); });
    const started = EtcdServer.start(
      {
        id: membership.selfRaftId, initialVoters: membership.voters(), clusterId: 0, tickMs: options.heartbeatMs,
        heartbeatTicks: 1, electionTicks,
        ...(options.snapshotCount === undefined ? {} : { snapshotEveryEntries: Math.max(1, options.snapshotCount) }),
        ...(options.autoCompaction === undefined ? {} : { autoCompaction: options.autoCompaction }),
        ...(options.maxTxnOps === undefined ? {} : { maxTxnOps: options.maxTxnOps }),
        ...(options.preVote === undefined ? {} : { preVote: options.preVote }),
        ...(options.testBugs === undefined ? {} : { bugs: options.testBugs }),
        ...(options.watchProgressNotifyIntervalMs === undefined ? {} : { watchProgressNotifyIntervalMs: options.watchProgressNotifyIntervalMs }),
        quotaBackendBytes: options.quotaBackendBytes ?? 0,
        alarmMemberId: membership.selfId.toString(),
      },
      {
        logStore,
        transport,
        random: { intBelow: (bound) => randomInt(bound) },
        clock: MONOTONIC_CLOCK,
        readsWaiting: flushReadsAfterThisTurn(() => holder.server),
        ...(options.backend === undefined ? {} : { backend: options.backend }),
        ...(options.tokens === undefined ? {} : { tokens: options.tokens }),
      },
      {
        onApplied: (entry) => {
          const change = confChangeContextOf(entry);
          if (change === null) return;
          membership.apply(change); // also while replaying the log at start
          holder.reconfig?.settle(change);
        },
        onAttributes: (attributes) => { adoptAttributes(membership, attributes); },
        // At start (a local snapshot) the server does not exist yet: adopted below.
        onRestore: () => { if (holder.server !== null) adoptSnapshotMembers(membership, holder.server); },
      },
    );
    if ('kind' in started) throw new Error(`cannot start: ${started.kind}: ${started.detail}`);
    holder.server = started;
    adoptSnapshotMembers(membership, started);
    const { peers, forwarding, reconfig } = Member.membershipParts(options, started, activity);
    holder.reconfig = reconfig;
    // etcd's --initial-election-tick-advance: a fresh member fast-forwards its election
    // clock, so that a new cluster elects at once (pre-vote keeps a restarted member
    // from disturbing a cluster that has a leader). A sole voter has nobody to disturb
    // and nobody to wait for: it runs past the longest randomized timeout (2e - 1 ticks)
    // and so elects itself now rather than up to a second later.
    const soleVoter = membership.voters().length === 1 && membership.voters()[0] === membership.selfRaftId;
    const advanceTicks = options.initialElectionTickAdvance === false ? 0 : soleVoter ? 2 * electionTicks - 1 : electionTicks - 1;
    for (let i = 0; i < advanceTicks; i++) started.tick();
    const m = new Member(options, { server: started, transport, reconfig, metrics, peers, forwarding });
    const corruptChecks = await Member.initialCorruptCheck(m, options, started, transport);
    metrics.bind(m.metricSources(options.dbSizeBytes ?? (() => 0)));
    m.timers.push(setInterval(() => {
      started.tick();
      reconfig.expire();
      forwarding.expire();
      m.publisher?.tick();
      metrics.observeLeader(started.driver.status().lead);
    }, options.heartbeatMs));
    membership.onChange(() => {
      if (membership.get(membership.selfId) === undefined) options.onRemoved?.();
    });
    if (corruptChecks !== null && (options.corruptCheck?.intervalMs ?? 0) > 0) {
      m.timers.push(periodicCorruptCheck(corruptChecks, options.corruptCheck?.intervalMs ?? 0));
    }
    await m.serve();
    m.startPublishing();
    return m;
  }

  /** etcd's publish: this member's name and client URLs through Raft, retried on the tick until applied. */
  private startPublishing(): void {
    const { options } = this;
    const log = options.log ?? ((): void => undefined);
    this.publisher = new AttributePublisher({
      server: this.server, name: options.name, clientUrls: options.advertiseClientUrls,
      onPublished: () => { options.onPublished?.(); },
      onFailure: (error) => { log(`failed to publish local member to cluster through raft: ${error.message}`); },
    });
    this.publisher.tick();
  }

  /** The core's membership machinery, bound to this member's clock and Peer service. */
  private static membershipParts(
    options: MemberOptions, server: EtcdServer, activity: PeerActivity,
  ): { peers: PeerClients; forwarding: LeaderForwarding; reconfig: Reconfigurer } {
    const { membership } = options;
    // etcd's request timeout: 5 s plus two election timeouts.
    const requestTimeoutMs = 5000 + 2 * options.electionMs;
    const peers = new PeerClients(options.tls?.peerChannel);
    const forwarding = new LeaderForwarding({
      server, membership, link: peerLeaderLink(membership, peers), clock: MONOTONIC_CLOCK, timeoutMs: requestTimeoutMs,
    });
    const reconfig = new Reconfigurer({
      driver: server.driver, membership, clock: MONOTONIC_CLOCK, timeoutMs: requestTimeoutMs,
      newMemberId: (peerUrls, nowSeconds) => memberId(peerUrls, options.clusterToken + String(nowSeconds)),
      validPeerUrl: (url) => peerDialTarget(url) !== null,
      strict: options.strictReconfigCheck ?? true,
      activeSinceMs: (raftId) => activity.activeSinceMs(raftId),
      learnerReady: (id, done) => { forwarding.learnerReady(id, done); },
    });
    return { peers, forwarding, reconfig };
  }

  /**
   * etcd checks before its Raft node starts and before it serves peers or clients: here
   * before the first tick and before the ports are bound, so the store stays as it was.
   * Throws InitialCorruption on a mismatch; the checks' dependencies if configured.
   */
  private static async initialCorruptCheck(
    m: Member, options: MemberOptions, server: EtcdServer, transport: PeerTransport,
  ): Promise<CorruptCheckDeps | null> {
    const corrupt = options.corruptCheck;
    if (corrupt === undefined) return null;
    const deps: CorruptCheckDeps = {
      server, membership: options.membership, peers: m.peers, timeoutMs: 5000 + 2 * options.electionMs, log: corrupt.log,
      hashKv: (revision) => m.timedHashKv(revision),
    };
    if (!corrupt.initial) return deps;
    try {
      await initialCorruptCheck(deps);
    } catch (error) {
      server.driver.stop();
      transport.close();
      m.peers.close();
      throw error;
    }
    return deps;
  }

  /** HashKV of this member's store, observed in etcd_mvcc_hash_rev_duration_seconds (etcd times every HashByRev). */
  private timedHashKv(revision: number): ReturnType<typeof hashKv> {
    const started = process.hrtime.bigint();
    const result = hashKv(this.server.machine.store, revision);
    this.metrics.hashRevSeconds.observe(Number(process.hrtime.bigint() - started) / 1e9);
    return result;
  }

  private async serve(): Promise<void> {
    this.peerServer.addService(peerServerDefinition(), peerHandlers({
      membership: this.membership,
      deliver: (message) => { this.server.driver.receive(message); },
      peerSeen: (memberId) => { this.transport.peerSeen(raftIdOf(memberId)); },
      peerStreamOpened: (memberId) => this.transport.incomingStreamOpened(raftIdOf(memberId)),
      keepAlive: (id, reply) => {
        this.server.leaseKeepAlive({ id }, (r) => { reply('kind' in r ? r : { ttlSeconds: r.ttlSeconds }); });
      },
      timeToLive: (id, reply) => { this.server.leaseTimeToLive({ id }, reply); },
      learnerReady: (id) => this.forwarding.learnerReadyHere(id),
      hashKv: (revision) => this.timedHashKv(revision),
      log: this.options.log ?? ((): void => undefined),
    }));
    const context: ServiceContext = {
      server: this.server,
      ids: this.ids,
      electionMs: this.options.electionMs,
      coreIdOf: (wireId) => {
        const raftId = /^\d+$/.test(wireId) ? raftIdOf(BigInt(wireId)) : null;
        return raftId !== null && this.membership.byRaftId(raftId) !== undefined ? raftId : null;
      },
      wireIdOf: (raftId) => this.membership.etcdIdOf(raftId).toString(),
      members: () => this.membership.list(),
      observeHash: (kind, seconds) => { (kind === 'hash' ? this.metrics.hashSeconds : this.metrics.hashRevSeconds).observe(seconds); },
      // Only the leader renews leases and knows their time to live: followers forward.
      leaseKeepAlive: (id, reply) => { this.forwarding.keepAlive({ id }, reply); },
      leaseTimeToLive: (id, reply) => { this.forwarding.timeToLive({ id }, reply); },
      clientCertAuth: this.options.tls?.client?.material.files.clientCertAuth ?? false,
      ...(this.options.passwords === undefined ? {} : { passwords: this.options.passwords }),
    };
    const maxRequestBytes = this.options.maxRequestBytes ?? DEFAULT_MAX_REQUEST_BYTES;
    const made = etcdServices(context, maxRequestBytes);
    this.services = made;
    const services = [...made.services];
    services.push([loadEtcdServices().cluster, clusterHandlers({ server: this.server, membership: this.membership, reconfig: this.reconfig })]);
    const registered = services.map(([definition, handlers]) => [countingBytes(definition, this.metrics.clientGrpcBytes), handlers] as const);
    for (const [definition, handlers] of registered) this.clientServer.addService(definition, handlers);
    addLaterMethods(this.clientServer);
    // The JSON gateway calls the same handlers (net/gateway/gateway.ts).
    const gateway = new Gateway({
      services, maxRequestBytes,
      ...(this.options.maxConcurrentStreams === undefined ? {} : { maxConcurrentStreams: this.options.maxConcurrentStreams }),
    });
    await this.servePeers();
    // gRPC and HTTP/1.1 share each client port, as in etcd; metrics ports serve HTTP only.
    const http: HttpSources = {
      healthy: (excluded) => this.healthy(excluded).then((ok) => {
        (ok ? this.metrics.server.healthSuccess : this.metrics.server.healthFailures).inc(); // etcd counts each /health answer
        return ok;
      }),
      metrics: () => this.metrics.exposition(),
    };
    const injector = this.clientServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    if (this.options.directCalls !== false) {
      this.directCalls = serveDirectly({
        server: this.clientServer, services: registered, openWatch: made.openWatch, calls: this.callMetrics,
        maxReceiveBytes: maxRequestBytes + GRPC_OVERHEAD_BYTES,
        // A learner's calls pass grpc-js's learner guard (learnerGuard.ts).
        leaveToGrpc: () => this.membership.get(this.membership.selfId)?.isLearner === true,
      });
    }
    const clientHttp = httpEndpoints(http, 'client', gateway);
    this.listeners.push(closable(clientHttp));
    const onRefused = this.refusalLogger('client');
    for (const { address, secure, unix } of this.options.clientAddresses) {
      const tls = secure ? this.options.tls?.client ?? undefined : undefined;
      invariant(!secure || tls !== undefined, `client address ${address} is TLS but the member has no client TLS files`);
      const listener = new ClientListener({ grpc: injector, http: clientHttp, ...(tls === undefined ? {} : { tls, onRefused }) });
      this.listeners.push(listener);
      if (unix === true) await listener.listenUnix(address);
      else await listener.listen(...splitHostPort(address));
    }
    for (const address of this.options.metricsAddresses ?? []) {
      const server = httpEndpoints(http, 'metrics');
      this.listeners.push(closable(server));
      await listenHttp(server, address);
    }
  }


  /** Plain peer addresses are bound by grpc-js; TLS ones go through the TLS acceptor into the peer server. */
  private async servePeers(): Promise<void> {
    let injector: grpc.ConnectionInjector | null = null;
    for (const { address, secure, unix } of this.options.peerAddresses) {
      if (unix === true) {
        invariant(!secure, `unixs:// peer address ${address}: the flags refuse it`);
        rmSync(address, { force: true }); // a stale socket file, as etcd's unix listener replaces it
        await bind(this.peerServer, `unix:${address}`);
        continue;
      }
      if (!secure) {
        await bind(this.peerServer, address);
        continue;
      }
      const tls = this.options.tls?.peer ?? undefined;
      invariant(tls !== undefined, `peer address ${address} is TLS but the member has no peer TLS files`);
      injector ??= this.peerServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
      const listener = new TlsPeerListener({ tls, injector, onRefused: this.refusalLogger('peer') });
      this.listeners.push(listener);
      await listener.listen(...splitHostPort(address));
    }
  }

  private refusalLogger(side: 'client' | 'peer'): (remote: string, reason: string) => void {
    const log = this.options.log ?? ((): void => undefined);
    return (remote, reason) => { log(`rejected ${side} connection from ${remote}: ${reason}`); };
  }

  /** Whether this member's attributes have applied through Raft. */
  get published(): boolean {
    return this.publisher?.published ?? false;
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
        const r = server.machine.store.peek({ key: all, rangeEnd: all, countOnly: true, serializable: true });
        return 'count' in r ? r.count : 0;
      },
      dbTotalSizeBytes: dbSizeBytes,
      // etcd sets the gauge to the flag, then to the default when the flag is 0.
      quotaBackendBytes: () => (this.options.quotaBackendBytes ?? 0) === 0 ? DEFAULT_QUOTA_BYTES : this.options.quotaBackendBytes ?? 0,
      applyCounts: () => server.machine.applyCounts,
      mvcc: () => {
        const { store, hub } = server.machine;
        return {
          ...store.counters, currentRevision: store.currentRevision(), compactRevision: store.compactRevision(),
          watchStreams: hub.streamCount(), watchers: hub.watcherCount(), slowWatchers: hub.unsyncedCount(), eventsSent: hub.eventsSent,
        };
      },
      serverId: () => this.membership.selfId.toString(16),
      isLearner: () => this.membership.get(this.membership.selfId)?.isLearner ?? false,
      authRevision: () => server.machine.auth.authRevision(),
      leases: () => ({ ...server.machine.leaseCounts, expired: server.expiredLeasesRevoked }),
    };
  }

  /**
   * etcd 3.4's /health: unhealthy at once with an alarm raised (of a type not excluded)
   * or without a leader; otherwise healthy if a request through Raft (here a
   * linearizable read barrier, which counts no mvcc range) completes within a second.
   */
  private healthy(excludedAlarms: ReadonlySet<string>): Promise<boolean> {
    if (this.server.machine.alarms.get('NONE').some((a) => !excludedAlarms.has(a.alarm))) return Promise.resolve(false);
    if (this.server.driver.status().lead === 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => { resolve(false); }, 1000);
      this.server.readBarrier((error) => {
        clearTimeout(timer);
        resolve(error === null);
      });
    });
  }

  isLeader(): boolean {
    return this.server.driver.status().role === 'leader';
  }

  /** A leader is known: this member has joined a working cluster. */
  hasLeader(): boolean {
    return this.server.driver.status().lead !== 0;
  }

  /**
   * Stops serving and ticking; pending calls end with UNAVAILABLE. Peer streams never
   * end on their own (the other members keep theirs open), so the peer server is cut at
   * once; clients get a grace period (long-lived watch streams would hold it forever).
   */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.server.driver.stop();
    this.transport.close();
    this.peers.close();
    this.peerServer.forceShutdown();
    // Lock, Campaign and Observe calls may wait forever: end them now, not after the grace.
    this.services?.stop();
    // A listener's close waits for its sockets, the gRPC ones included: end those in parallel.
    const listenersClosed = Promise.all(this.listeners.map((l) => l.close()));
    const client = this.clientServer;
    await new Promise<void>((resolve) => {
      const force = setTimeout(() => { client.forceShutdown(); resolve(); }, CLIENT_SHUTDOWN_GRACE_MS);
      client.tryShutdown(() => { clearTimeout(force); resolve(); });
    });
    await listenersClosed;
  }
}

const CLIENT_SHUTDOWN_GRACE_MS = 2000;

/**
 * The member's clock: monotonic, as etcd's leases are (Go's time.Now carries a monotonic
 * reading), so that a step of the wall clock (NTP, a VM resumed) neither ends a lease
 * early nor stretches it. Anchored at the wall clock of the process's start, so readings
 * stay comparable with the other members' and with this member's before a restart.
 */
const MONOTONIC_CLOCK = { nowMs: (): number => performance.timeOrigin + performance.now() };
/** etcd's default --max-concurrent-streams (math.MaxUint32), HTTP/2's largest setting. */
const UNLIMITED_STREAMS = 4_294_967_295;


function bind(server: grpc.Server, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (error, port) => {
      if (error !== null) reject(error);
      else resolve(port);
    });
  });
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

/**
 * The linearizable reads that arrive within one event-loop turn (the requests one socket
 * read carried, across every connection polled in it) share one ReadIndex round: the
 * flush runs once the turn's I/O callbacks are done.
 */
function flushReadsAfterThisTurn(server: () => EtcdServer | null): () => void {
  let scheduled = false;
  return () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(() => {
      scheduled = false;
      server()?.flushReads();
    });
  };
}
