// The member's Prometheus metrics, under etcd 3.4's names, help texts, types and
// buckets (what Grafana's etcd dashboards and alert rules read), plus prom-client's
// default process metrics (process_resident_memory_bytes is what `etcdctl check
// datascale` reads).
//
// Gauges that mirror core state (leader, Raft indexes, key count, database size) are
// read at scrape time through `MetricSources`: the core is not told about metrics.
// Counters and histograms that count events are fed by the adapters that see the
// events (the log store's sync, the backend's commit, gRPC calls, ticks).

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, exponentialBuckets } from 'prom-client';
import { ETCD_VERSION } from '../services/context.js';
import { registerMvccMetrics, scrapeTimeGauges, type MvccReadings } from './mvccMetrics.js';
import { CellCounter } from './counterCells.js';
import { byteCounters, type ByteCounters } from './grpcBytes.js';
import { registerServerMetrics, type LeaseReadings, type ServerCounters } from './serverMetrics.js';

/** What the Raft gauges read at scrape time (etcd_server_has_leader, is_leader, proposals committed/applied). */
export interface RaftGaugeReadings {
  /** The leader this member knows, 0 if none. */
  readonly lead: number;
  readonly isLeader: boolean;
  readonly committedIndex: number;
  readonly appliedIndex: number;
}

export interface MetricSources {
  readonly raft: () => RaftGaugeReadings;
  /** Proposals waiting to be applied (etcd's proposals_pending). */
  readonly pendingProposals: () => number;
  /** Live keys (etcd_debugging_mvcc_keys_total). */
  readonly keysTotal: () => number;
  /** Bytes the database file takes on disk, 0 if in memory. */
  readonly dbTotalSizeBytes: () => number;
  /** etcd_server_quota_backend_bytes: the quota as etcd reports it (the flag; its default for 0; negative: none). */
  readonly quotaBackendBytes: () => number;
  /** Committed entries the state machine executed / skipped as already applied, since start. */
  readonly applyCounts: () => { readonly executed: number; readonly skipped: number };
  readonly mvcc: () => MvccReadings;
  /** This member's id, in hex as etcd prints it. */
  readonly serverId: () => string;
  readonly isLearner: () => boolean;
  readonly authRevision: () => number;
  readonly leases: () => LeaseReadings;
}

/** etcd's disk latency buckets: 1 ms … 8.192 s, doubling (wal.go, backend/metrics.go). */
const DISK_BUCKETS = exponentialBuckets(0.001, 2, 14);
/** etcd's peer round-trip buckets: 0.1 ms … 0.8192 s, doubling (rafthttp/metrics.go). */
const RTT_BUCKETS = exponentialBuckets(0.0001, 2, 14);

export type GrpcType = 'unary' | 'client_stream' | 'server_stream' | 'bidi_stream';
export type GrpcLabels = 'grpc_type' | 'grpc_service' | 'grpc_method';

export class MemberMetrics {
  readonly registry = new Registry();
  readonly leaderChanges: Counter;
  readonly proposalsFailed: Counter;
  readonly walFsyncSeconds: Histogram;
  readonly backendCommitSeconds: Histogram;
  readonly peerRoundTripSeconds: Histogram<'To'>;
  readonly hashSeconds: Histogram;
  readonly hashRevSeconds: Histogram;
  readonly grpcStarted: CellCounter<GrpcLabels>;
  readonly grpcHandled: CellCounter<GrpcLabels | 'grpc_code'>;
  readonly grpcMsgReceived: CellCounter<GrpcLabels>;
  readonly grpcMsgSent: CellCounter<GrpcLabels>;
  /** etcd_server_client_requests_total: one per client call, by "unary"/"stream" and the client's API version. */
  readonly clientRequests: Counter<'client_api_version' | 'type'>;
  readonly server: ServerCounters;
  readonly clientGrpcBytes: ByteCounters;
  private lastLead = 0;
  /** Bound once the member runs; the storage adapters feed their histograms before that. */
  private sources: MetricSources | null = null;

  constructor() {
    const registers = [this.registry];
    const current = (): MetricSources | null => this.sources;
    const gauge = scrapeTimeGauges(this.registry, current);
    gauge('etcd_server_has_leader', 'Whether or not a leader exists. 1 is existence, 0 is not.',
      (s) => (s.raft().lead === 0 ? 0 : 1));
    gauge('etcd_server_is_leader', 'Whether or not this member is a leader. 1 if is, 0 otherwise.',
      (s) => (s.raft().isLeader ? 1 : 0));
    // etcd declares these two "_total" series as gauges set to the Raft indexes.
    gauge('etcd_server_proposals_committed_total', 'The total number of consensus proposals committed.',
      (s) => s.raft().committedIndex);
    gauge('etcd_server_proposals_applied_total', 'The total number of consensus proposals applied.',
      (s) => s.raft().appliedIndex);
    gauge('etcd_server_proposals_pending', 'The current number of pending proposals to commit.', (s) => s.pendingProposals());
    gauge('etcd_mvcc_db_total_size_in_bytes', 'Total size of the underlying database physically allocated in bytes.',
      (s) => s.dbTotalSizeBytes());
    gauge('etcd_server_quota_backend_bytes', 'Current backend storage quota size in bytes.', (s) => s.quotaBackendBytes());
    gauge('etcd_debugging_mvcc_keys_total', 'Total number of keys.', (s) => s.keysTotal());
    ({ hashSeconds: this.hashSeconds, hashRevSeconds: this.hashRevSeconds } = registerMvccMetrics(this.registry, () => this.sources));
    this.server = registerServerMetrics(this.registry, current);
    // Tern's own: proves a restart resumes from the stored state instead of re-executing the log.
    gauge('tern_server_apply_executed_entries', 'Committed entries the state machine executed since this process started.',
      (s) => s.applyCounts().executed);
    gauge('tern_server_apply_skipped_entries',
      'Committed entries skipped since this process started because the stored state already contained them.',
      (s) => s.applyCounts().skipped);

    // The version gauges etcd sets once (tooling, and etcd's e2e cipher-suite test, look for them).
    new Gauge({
      name: 'etcd_server_version', help: "Which version is running. 1 for 'server_version' label with current version.",
      labelNames: ['server_version'], registers,
    }).set({ server_version: ETCD_VERSION }, 1);
    new Gauge({
      name: 'etcd_cluster_version', help: "Which version is running. 1 for 'cluster_version' label with current cluster version",
      labelNames: ['cluster_version'], registers,
    }).set({ cluster_version: ETCD_VERSION.split('.').slice(0, 2).join('.') }, 1);

    this.leaderChanges = new Counter({
      name: 'etcd_server_leader_changes_seen_total', help: 'The number of leader changes seen.', registers,
    });
    this.proposalsFailed = new Counter({
      name: 'etcd_server_proposals_failed_total', help: 'The total number of failed proposals seen.', registers,
    });
    this.walFsyncSeconds = new Histogram({
      name: 'etcd_disk_wal_fsync_duration_seconds', help: 'The latency distributions of fsync called by WAL.',
      buckets: DISK_BUCKETS, registers,
    });
    this.backendCommitSeconds = new Histogram({
      name: 'etcd_disk_backend_commit_duration_seconds', help: 'The latency distributions of commit called by backend.',
      buckets: DISK_BUCKETS, registers,
    });
    this.peerRoundTripSeconds = new Histogram({
      name: 'etcd_network_peer_round_trip_time_seconds', help: 'Round-Trip-Time histogram between peers',
      labelNames: ['To'], buckets: RTT_BUCKETS, registers,
    });
    this.grpcStarted = new CellCounter({
      name: 'grpc_server_started_total', help: 'Total number of RPCs started on the server.',
      labelNames: ['grpc_method', 'grpc_service', 'grpc_type'], registers,
    });
    this.grpcHandled = new CellCounter({
      name: 'grpc_server_handled_total', help: 'Total number of RPCs completed on the server, regardless of success or failure.',
      labelNames: ['grpc_code', 'grpc_method', 'grpc_service', 'grpc_type'], registers,
    });
    this.grpcMsgReceived = new CellCounter({
      name: 'grpc_server_msg_received_total', help: 'Total number of RPC stream messages received on the server.',
      labelNames: ['grpc_method', 'grpc_service', 'grpc_type'], registers,
    });
    this.grpcMsgSent = new CellCounter({
      name: 'grpc_server_msg_sent_total', help: 'Total number of gRPC stream messages sent by the server.',
      labelNames: ['grpc_method', 'grpc_service', 'grpc_type'], registers,
    });
    this.clientRequests = new Counter({
      name: 'etcd_server_client_requests_total', help: 'The total number of client requests per client version.',
      labelNames: ['client_api_version', 'type'], registers,
    });
    this.clientGrpcBytes = byteCounters(this.registry);
    collectDefaultMetrics({ register: this.registry });
  }

  bind(sources: MetricSources): void {
    this.sources = sources;
  }

  /** Called every tick with the leader this member knows: counts changes to a new leader. */
  observeLeader(lead: number): void {
    if (lead !== 0 && lead !== this.lastLead) this.leaderChanges.inc();
    this.lastLead = lead;
  }

  async exposition(): Promise<{ contentType: string; body: string }> {
    // A leader elected since the last tick counts already.
    if (this.sources !== null) this.observeLeader(this.sources.raft().lead);
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}
