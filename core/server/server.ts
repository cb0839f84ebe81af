// The etcd server core of one member: client requests in, etcd responses out, over
// the shared node driver. Pure and callback-based: the host (simulator or gRPC layer)
// calls tick() every tick interval and the request methods, and gets answers through
// the callbacks it passed.
//
//   writes        validated, proposed through Raft, answered when applied here
//   linearizable  reads: ReadIndex round, then served once applied ≥ read index
//   serializable  reads: served at once from this member's applied state
//   leases        grant/revoke through Raft; expiry and checkpoints decided by the
//                 leader's clock and proposed through Raft; keep-alive on the leader

import { RenewalAnswers } from '../lease/renewalAnswers.js';
import { CatchUp } from './catchUp.js';
import { ReadRounds } from './readRounds.js';
import { NodeDriver, type DriverConfig, type DriverObserver } from '../node/driver.js';
import type { Accepted } from '../raft/rawNode.js';
import type { Clock, LogStore, RecoveryFailure, Transport } from '../node/ports.js';
import type { MvccBackend } from '../mvcc/backend.js';
import type { NodeId } from '../raft/types.js';
import type { Random } from '../util/random.js';
import { etcdError, isEtcdError, type EtcdError, type EtcdErrorName } from '../errors.js';
import { invariant, InvariantError } from '../util/invariant.js';
import { assertLeaseId, drawLeaseId, NO_LEASE, type LeaseId } from '../lease/leaseId.js';
import { minLeaseTtlSeconds, type TimeToLive } from '../lease/lessor.js';
import type {
  CompactionRequest, CompactionResponse, DeleteRangeRequest, DeleteRangeResponse, PutRequest, PutResponse,
  RangeRequest, RangeResponse, TxnRequest, TxnResponse,
} from '../mvcc/types.js';
import { DEFAULT_MAX_TXN_OPS, validateDeleteRange, validatePut, validateRange, validateTxn } from '../mvcc/validate.js';
import { DEFAULT_SERVER_LIMITS, MAX_LEASES_REVOKING, type ServerLimits } from './limits.js';
import { encodeEnvelope, type InternalRequest } from './requests.js';
import type { ApplyResult } from './results.js';
import { AutoCompactor, type AutoCompaction } from './autoCompactor.js';
import { EtcdStateMachine } from './stateMachine.js';
import { AuthApi } from './authApi.js';
import { AuthGate, type Credentials } from './authGate.js';
import { ROOT_USER } from '../auth/authStore.js';
import type { AuthInfo } from '../auth/permissionCheck.js';
import { checkRange } from '../auth/requestChecks.js';
import { drawSimplePrefix, type TokenProvider } from '../auth/tokens.js';
import { WatchStreams, type WatchSink, type WatchStream } from './watchStreams.js';
import type { WatchHubLimits } from '../watch/watchHub.js';
import type { MvccEvent } from '../mvcc/store.js';
import { assertAttributes, type MemberAttributes } from '../membership/attributes.js';
import type { AlarmMember, AlarmRequest } from './alarms.js';
import { fitsQuota, quotaBytesOf, quotaCost } from './quota.js';

export interface ResponseHeader {
  readonly clusterId: number;
  readonly memberId: number;
  readonly revision: number;
  readonly raftTerm: number;
}

export type Reply<T> = (result: ({ readonly header: ResponseHeader } & T) | EtcdError) => void;

export interface ServerConfig extends DriverConfig {
  readonly clusterId: number;
  /** The tick interval, ms (etcd's --heartbeat-interval). */
  readonly tickMs: number;
  /** Ticks a request may wait for its entry to apply before `request timed out`. */
  readonly requestTimeoutTicks?: number;
  /** How often watchers that asked for progress notifications get one, ms (etcd: 10 min). */
  readonly watchProgressNotifyIntervalMs?: number;
  /** etcd's --auto-compaction-mode/-retention; absent: no auto compaction (etcd's default). */
  readonly autoCompaction?: AutoCompaction;
  /** Lower limits than etcd's (tests); see limits.ts. */
  readonly limits?: Partial<ServerLimits>;
  /** etcd's --max-txn-ops: the most operations in each list of a txn (default 128). */
  readonly maxTxnOps?: number;
  /** etcd's --quota-backend-bytes: 0 (or absent) etcd's default 2 GiB, negative no quota (quota.ts). */
  readonly quotaBackendBytes?: number;
  /** This member's etcd id (decimal uint64), as the alarms it raises name it; the Raft id if absent. */
  readonly alarmMemberId?: string;
  /** The watch hub's bounds (watchHub.ts); etcd's if absent. */
  readonly watchLimits?: WatchHubLimits;
}

export interface ServerPorts {
  readonly logStore: LogStore;
  readonly transport: Transport;
  readonly random: Random;
  readonly clock: Clock;
  /** Where MVCC records live (a durable backend in production); in memory if absent. */
  readonly backend?: MvccBackend;
  /** Auth tokens (a JWT provider from the host); etcd's simple tokens if absent. */
  readonly tokens?: TokenProvider;
  /**
   * A linearizable read waits for the next flushReads(), the first since the last flush.
   * The host flushes soon (the gRPC host: after this event-loop turn), and the reads that
   * arrived in between share one ReadIndex round (readRounds.ts). Absent: every read is
   * asked for at once.
   */
  readonly readsWaiting?: () => void;
}

/** What the host may observe: the driver's events, plus a state machine replaced by a snapshot. */
export interface ServerObserver extends DriverObserver {
  onRestore?(): void;
  /** A member's published attributes applied here (core/membership/attributes.ts). */
  onAttributes?(attributes: MemberAttributes): void;
  /** Every write this member applies, as MVCC events (also while it replays its log at start). */
  onEvents?(events: readonly MvccEvent[], mainRevision: number): void;
}

interface Waiter {
  readonly deadlineTick: number;
  readonly settle: (result: ApplyResult | EtcdError) => void;
}

/** The client writes that go through Raft and answer with the response their entry produced. */
interface WriteResponses {
  readonly put: PutResponse;
  readonly deleteRange: DeleteRangeResponse;
  readonly txn: TxnResponse;
}
type WriteKind = keyof WriteResponses;

/** How often a request whose token went stale before its entry applied is proposed again. */
const MAX_AUTH_RETRIES = 3;
/**
 * How often the leader moves the replicated lease clock on while leases exist (lessor.ts):
 * a new leader's view of the clock is at most this stale (plus the commit latency), so a
 * key outlives its TTL by at most this plus an election timeout. Half the default
 * election timeout; it costs one small entry per interval, and none without leases.
 */
export const LEASE_CLOCK_INTERVAL_MS = 500;
/** Renewals per checkpoint entry (etcd's maxLeaseCheckpointBatchSize); the rest go on the next tick. */
const MAX_CHECKPOINTS_PER_ENTRY = 1000;
/** Keep-alive answers held for their checkpoint at once; beyond, keep-alives are refused as too many requests. */
const MAX_RENEWAL_ANSWERS_WAITING = 10_000;

function isResultOf<K extends WriteKind>(
  result: ApplyResult, kind: K,
): result is ApplyResult & { readonly kind: K; readonly response: WriteResponses[K] } {
  return result.kind === kind;
}

export class EtcdServer {
  readonly driver: NodeDriver;
  readonly machine: EtcdStateMachine;
  private readonly config: ServerConfig;
  private readonly clock: Clock;
  private readonly random: Random;
  private readonly limits: ServerLimits;
  /** Proposals waiting for their entry to apply. Invariant: size <= limits.pendingProposals. */
  private readonly waiters = new Map<string, Waiter>();
  /**
   * Requests refused because no leader is known yet: retried every tick until they are
   * accepted or their deadline passes (etcd holds proposals while there is no leader,
   * and answers "request timed out" if none appears). Every id is also in `waiters` or
   * is a read round out. Invariant: size <= waiters.size + rounds out (MAX_UNSENT_REQUESTS).
   */
  private readonly unsent = new Map<string, () => boolean>();
  /** Linearizable reads, batched into ReadIndex rounds (readRounds.ts). Invariant: waiting <= limits.pendingReads. */
  private readonly readRounds: ReadRounds;
  private readonly readsWaiting: (() => void) | undefined;
  private nextRequest = 1;
  private ticks = 0;
  private wasLeader = false;
  private lastCheckpointMs = 0;
  /** Leader only: the lease clock moves on once this index is applied (leaseDuties). */
  private leaseClockFromIndex = 0;
  private lastProgressNotifyMs: number;
  private readonly watches: WatchStreams;
  private readonly compactor: AutoCompactor | null;
  /** Keep-alive answers waiting for their renewal's checkpoint to apply (renewalAnswers.ts). */
  private readonly renewalAnswers = new RenewalAnswers(MAX_RENEWAL_ANSWERS_WAITING);
  /** Serializable reads wait for a restarted member to apply again what it had (catchUp.ts). */
  private readonly catchUp: CatchUp;
  /** Leases whose revoke this leader proposed and has not seen applied. Invariant: size <= MAX_LEASES_REVOKING. */
  private readonly revoking = new Set<LeaseId>();
  /** Expired leases this member revoked as leader, since it started (etcd_debugging_server_lease_expired_total). */
  expiredLeasesRevoked = 0;
  /** An entry applied here crossed this member's quota with no NOSPACE alarm raised: raise it next tick. */
  private quotaExceededAtApply = false;

  private readonly incarnation: string;
  /** Decides who a request comes from (its token or certificate). */
  readonly gate: AuthGate;
  /** The Auth service's calls. */
  readonly authApi: AuthApi;

  private constructor(config: ServerConfig, driver: NodeDriver, machine: EtcdStateMachine, ports: ServerPorts, incarnation: string) {
    this.config = config;
    this.driver = driver;
    this.machine = machine;
    this.clock = ports.clock;
    this.random = ports.random;
    this.incarnation = incarnation;
    const clock = ports.clock;
    this.limits = { ...DEFAULT_SERVER_LIMITS, ...config.limits };
    for (const [name, limit] of Object.entries(this.limits)) {
      invariant(Number.isInteger(limit) && limit > 0, () => `server limit ${name} must be a positive integer, got ${limit}`);
    }
    this.readsWaiting = ports.readsWaiting;
    this.readRounds = new ReadRounds({
      maxReads: this.limits.pendingReads,
      joinRoundOut: config.bugs?.reuseReadIndex === true,
    }, {
      ask: (context) => { this.submit(context, () => this.driver.readIndex(context)); },
      dropped: (context) => { this.unsent.delete(context); },
      newContext: () => `read-${this.config.id}-${this.incarnation}-${this.nextRequest++}`,
    });
    invariant(config.maxTxnOps === undefined || (Number.isSafeInteger(config.maxTxnOps) && config.maxTxnOps >= 0), 'maxTxnOps must be a count');
    const booted = driver.status();
    this.catchUp = new CatchUp({ lastIndex: booted.lastIndex, term: booted.hardState.term, applied: booted.applied }, this.limits.pendingReads);
    this.watches = new WatchStreams(() => machine.hub);
    this.compactor = config.autoCompaction === undefined ? null : new AutoCompactor(config.autoCompaction);
    this.lastProgressNotifyMs = clock.nowMs();
    this.gate = new AuthGate({
      auth: () => machine.auth,
      tokens: () => machine.tokens,
      appliedIndex: () => machine.store.appliedIndex(),
      nowMs: () => clock.nowMs(),
    }, this.limits.pendingProposals, config.requestTimeoutTicks ?? 70);
    this.authApi = new AuthApi({
      auth: () => machine.auth,
      proposeAs: (credentials, request, onResult) => { this.proposeAs(credentials, request, onResult); },
      decide: (credentials, decide) => { this.gate.decide(credentials ?? {}, this.ticks, decide); },
      linearizable: (serve, fail) => { this.linearizable(serve, fail); },
      header: (revision) => this.header(revision),
      drawTokenPrefix: () => (machine.tokens.kind === 'simple' ? drawSimplePrefix((n) => ports.random.intBelow(n)) : ''),
    });
  }

  static start(config: ServerConfig, ports: ServerPorts, observer: ServerObserver = {}): EtcdServer | RecoveryFailure {
    const holder: { server: EtcdServer | null } = { server: null };
    const machine = new EtcdStateMachine({
      minLeaseTtlSeconds: minLeaseTtlSeconds((config.electionTicks ?? 10) * config.tickMs),
      clock: ports.clock,
      onResult: (requestId, result) => holder.server?.settle(requestId, result),
      onRestore: () => observer.onRestore?.(),
      onEvents: (events, mainRevision) => observer.onEvents?.(events, mainRevision),
      onAttributes: (attributes) => observer.onAttributes?.(attributes),
      ...(ports.backend === undefined ? {} : { backend: ports.backend }),
      ...(ports.tokens === undefined ? {} : { tokens: ports.tokens }),
      ...(config.bugs?.authCheckStaleRevision === true ? { trustArrivalVerdict: true } : {}),
      ...(config.bugs === undefined ? {} : { watchBugs: config.bugs }),
      ...(config.watchLimits === undefined ? {} : { watchLimits: config.watchLimits }),
      ...(config.bugs?.leaseTtlResetLost === true ? { resetLeaseTtlOnPromote: true } : {}),
      quotaBytes: quotaBytesOf(config.quotaBackendBytes ?? 0),
      // Not proposed from inside apply: on the next tick.
      onQuotaExceeded: () => { if (holder.server !== null) holder.server.quotaExceededAtApply = true; },
      beforeLeaseGrant: () => { holder.server?.promoteIfLeader(); },
    });
    const driver = NodeDriver.start(config, { ...ports, stateMachine: machine }, {
      onApplied: (entry) => {
        holder.server?.catchUp.onApplied(entry.index, entry.term);
        holder.server?.watches.flush();
        holder.server?.gate.onApplied();
        observer.onApplied?.(entry);
      },
      onReadReady: (context, index) => {
        holder.server?.serveRead(context);
        observer.onReadReady?.(context, index);
      },
      onFatal: (reason) => observer.onFatal?.(reason),
    });
    if ('kind' in driver) return driver;
    // Request ids must not repeat across restarts: an entry proposed by the previous
    // incarnation may apply after this one started, and must not answer its requests.
    const incarnation = `${ports.clock.nowMs().toString(36)}.${ports.random.intBelow(2 ** 31).toString(36)}`;
    const server = new EtcdServer(config, driver, machine, ports, incarnation);
    holder.server = server;
    return server;
  }

  get memberId(): NodeId {
    return this.config.id;
  }

  /** Proposals waiting for their entry to apply (etcd's proposals_pending). */
  pendingProposals(): number {
    return this.waiters.size;
  }

  // ------------------------------------------------------------------ time

  tick(): void {
    this.ticks++;
    this.driver.tick();
    this.retryUnsent();
    this.leaseDuties();
    this.expireWaiters();
    this.watchDuties();
    this.compactionDuties();
    if (this.quotaExceededAtApply) {
      this.quotaExceededAtApply = false;
      this.raiseNoSpace(() => undefined);
    }
    this.gate.tick(this.ticks);
    this.assertBounded();
  }

  /** The limit of every map this server keeps (limits.ts), checked once a tick. */
  private assertBounded(): void {
    invariant(this.waiters.size <= this.limits.pendingProposals, 'more proposals pending than the limit');
    invariant(this.readRounds.waiting <= this.limits.pendingReads, 'more reads pending than the limit');
    invariant(this.unsent.size <= this.waiters.size + this.readRounds.roundsOut, 'an unsent request with nobody waiting for it');
    invariant(this.revoking.size <= MAX_LEASES_REVOKING, 'more lease revokes in flight than the limit');
    invariant(this.gate.waiting <= this.limits.pendingProposals, 'more requests waiting for a token than the limit');
  }

  private compactionDuties(): void {
    if (this.compactor === null) return;
    const store = this.machine.store;
    const isLeader = this.driver.status().role === 'leader';
    const target = this.compactor.onTick(this.clock.nowMs(), isLeader, store.currentRevision(), store.compactRevision());
    // A refusal (already compacted by hand, say) changes nothing; the next period retries.
    if (target !== null) this.propose({ kind: 'compact', compact: { revision: target } }, () => undefined);
  }

  private watchDuties(): void {
    const now = this.clock.nowMs();
    if (now - this.lastProgressNotifyMs >= (this.config.watchProgressNotifyIntervalMs ?? 10 * 60 * 1000)) {
      this.lastProgressNotifyMs = now;
      this.watches.notifyProgress();
    }
    // Catching-up watchers advance a bounded step per flush.
    this.watches.flush();
  }

  private retryUnsent(): void {
    for (const [id, attempt] of this.unsent) {
      if (attempt()) this.unsent.delete(id);
    }
  }

  /**
   * A member that has become leader promotes its lessor (etcd's Promote) before anything
   * else touches a lease: on the tick, or first thing when a grant or keep-alive comes
   * sooner. A grant applied before the promotion would get the promotion's extension
   * too (a 3 s lease living 4 s: etcd's TestCtlV3LeaseTestTimeToLiveExpired).
   */
  private promoteIfLeader(): void {
    if (this.wasLeader || this.driver.status().role !== 'leader') return;
    const now = this.clock.nowMs();
    this.leaseClockFromIndex = this.driver.status().lastIndex;
    this.machine.lessor.promote(now, (this.config.electionTicks ?? 10) * this.config.tickMs, this.leaseClockFromIndex);
    this.lastCheckpointMs = now;
    this.wasLeader = true;
  }

  private leaseDuties(): void {
    this.promoteIfLeader();
    const isLeader = this.driver.status().role === 'leader';
    const now = this.clock.nowMs();
    const lessor = this.machine.lessor;
    if (!isLeader && this.wasLeader) {
      lessor.demote();
      this.revoking.clear();
      // Their renewals may never commit: the clients retry with the next leader.
      this.renewalAnswers.failAll(etcdError('notLeader'));
    }
    this.wasLeader = isLeader;
    if (!isLeader) return;
    for (const id of lessor.expired(now)) {
      if (this.revoking.size >= MAX_LEASES_REVOKING) break; // the rest on a later tick
      if (this.revoking.has(id)) continue;
      this.revoking.add(id);
      // etcd revokes expired leases as root (authStore.WithRoot), whatever keys they hold.
      const asRoot = this.machine.auth.isEnabled() ? { user: ROOT_USER, revision: this.machine.auth.authRevision() } : null;
      this.propose({ kind: 'leaseRevoke', id }, (result) => {
        this.revoking.delete(id);
        if (result.kind === 'leaseRevoke') this.expiredLeasesRevoked++; // etcd counts the revokes of expired leases that succeed
      }, asRoot);
    }
    // The lease clock moves on while leases exist; renewals not yet proposed go out now.
    if (lessor.count > 0 && (lessor.renewalsPending > 0 || now - this.lastCheckpointMs >= LEASE_CLOCK_INTERVAL_MS)) this.proposeLeaseClock(now);
  }

  /**
   * Proposes the lease clock entry: the time passed since the last one and the renewals
   * since (up to MAX_CHECKPOINTS_PER_ENTRY; the rest next time). The keep-alive answers
   * held for those renewals go out once it applies. Not before this leader applied
   * everything its predecessors committed (up to its own term's first entry): their
   * clock entries cover time its first one would count again.
   */
  private proposeLeaseClock(now: number): void {
    if (this.driver.status().applied < this.leaseClockFromIndex) return;
    const lessor = this.machine.lessor;
    this.lastCheckpointMs = now;
    const { elapsedMs, checkpoints, taken } = lessor.takeCheckpoint(now, MAX_CHECKPOINTS_PER_ENTRY);
    const answers = this.renewalAnswers.bind(taken);
    this.propose({ kind: 'leaseCheckpoint', elapsedMs, checkpoints }, (result) => {
      if (result.kind === 'error') {
        lessor.renewalsNotCheckpointed(taken);
        this.renewalAnswers.fail(answers, result.error);
        return;
      }
      this.renewalAnswers.answer(answers);
    });
  }

  private expireWaiters(): void {
    this.renewalAnswers.expire(this.ticks, etcdError('timeout'));
    this.catchUp.expire(this.ticks, etcdError('timeout'));
    for (const [id, w] of this.waiters) {
      if (w.deadlineTick > this.ticks) continue;
      this.waiters.delete(id);
      this.unsent.delete(id);
      w.settle(etcdError('timeout'));
    }
    this.readRounds.expire(this.ticks);
  }

  // ------------------------------------------------------------------ KV

  range(request: RangeRequest, reply: Reply<RangeResponse>, credentials?: Credentials): void {
    invariant(request.key instanceof Uint8Array, 'a range key must be bytes');
    const invalid = validateRange(request);
    if (invalid !== null) {
      reply(invalid);
      return;
    }
    this.withAuthInfo(credentials, reply, (info) => {
      const serve = (): void => {
        // etcd's doSerialize: the permission as of serving, on this member's applied state.
        const machine = this.machine;
        const refused = machine.auth.isEnabled() ? checkRange({ store: machine.auth, info, leaseKeys: () => [] }, request) : null;
        const result = refused ?? machine.store.range(request);
        reply('kind' in result ? result : { header: this.header(), ...result });
      };
      if (request.serializable === true) {
        const deadlineTick = this.ticks + (this.config.requestTimeoutTicks ?? 70);
        this.catchUp.whenCaughtUp({ deadlineTick, serve, fail: (error) => { reply(error); } }, etcdError('tooManyRequests'));
        return;
      }
      this.linearizable(serve, (error) => { reply(error); });
    });
  }

  /** Runs `then` with who the request comes from, or answers the credentials' error. */
  private withAuthInfo(credentials: Credentials | undefined, fail: (error: EtcdError) => void, then: (info: AuthInfo | null) => void): void {
    if (credentials === undefined || (credentials.token === undefined && credentials.commonName === undefined)) {
      then(null);
      return;
    }
    this.gate.decide(credentials, this.ticks, (decision) => {
      if (isEtcdError(decision)) fail(decision);
      else then(decision);
    });
  }

  put(request: PutRequest, reply: Reply<PutResponse>, credentials?: Credentials): void {
    invariant(request.key instanceof Uint8Array && request.value instanceof Uint8Array, 'a put key and value must be bytes');
    this.write({ kind: 'put', put: request }, validatePut(request), reply, credentials);
  }

  deleteRange(request: DeleteRangeRequest, reply: Reply<DeleteRangeResponse>, credentials?: Credentials): void {
    invariant(request.key instanceof Uint8Array, 'a delete key must be bytes');
    this.write({ kind: 'deleteRange', deleteRange: request }, validateDeleteRange(request), reply, credentials);
  }

  txn(request: TxnRequest, reply: Reply<TxnResponse>, credentials?: Credentials): void {
    invariant(Array.isArray(request.compare) && Array.isArray(request.success) && Array.isArray(request.failure),
      'a txn has compare, success and failure lists');
    this.write({ kind: 'txn', txn: request }, validateTxn(request, this.config.maxTxnOps ?? DEFAULT_MAX_TXN_OPS), reply, credentials);
  }

  /** A validated client write: proposed, answered with the response its entry produced. */
  private write<K extends WriteKind>(
    request: InternalRequest & { readonly kind: K }, invalid: EtcdError | null, reply: Reply<WriteResponses[K]>,
    credentials: Credentials | undefined,
  ): void {
    if (!this.fitsQuota(request)) {
      this.raiseNoSpace(() => { reply(etcdError('noSpace')); });
      return;
    }
    if (invalid !== null) {
      reply(invalid);
      return;
    }
    this.proposeAs(credentials, request, (r) => {
      reply(isResultOf(r, request.kind) ? { header: this.header(r.response.revision), ...r.response } : this.failure(r));
    });
  }

  compact(request: CompactionRequest, reply: Reply<CompactionResponse>, credentials?: Credentials): void {
    invariant(Number.isInteger(request.revision), 'a compaction revision must be an integer');
    this.proposeAs(credentials, { kind: 'compact', compact: request }, (r) => {
      reply(r.kind === 'compact' ? { header: this.header(), ...r.response } : this.failure(r));
    });
  }

  // ------------------------------------------------------------------ leases

  leaseGrant(request: { ttlSeconds: number; id: LeaseId }, reply: Reply<{ id: LeaseId; ttlSeconds: number }>, credentials?: Credentials): void {
    invariant(Number.isInteger(request.ttlSeconds), 'a lease grant has an integer TTL');
    assertLeaseId(request.id);
    if (!this.fitsQuota({ kind: 'leaseGrant', id: request.id, ttlSeconds: request.ttlSeconds })) {
      this.raiseNoSpace(() => { reply(etcdError('noSpace')); });
      return;
    }
    const ttl = this.machine.lessor.grantableTtl(request.ttlSeconds);
    if (typeof ttl !== 'number') {
      reply(ttl);
      return;
    }
    const id = request.id !== NO_LEASE ? request.id : this.drawLeaseId();
    this.proposeAs(credentials, { kind: 'leaseGrant', id, ttlSeconds: ttl }, (r) => {
      reply(r.kind === 'leaseGrant' ? { header: this.header(), id: r.id, ttlSeconds: r.ttlSeconds } : this.failure(r));
    });
  }

  /**
   * etcd's server picks a grant's id when the client names none: random, positive, 63
   * bits (etcd: reqIDGen.Next() & (1<<63 - 1)), not one of the leases this member knows.
   * Drawn by the proposer, so the entry carries it and every member applies the same id;
   * a lease granted concurrently with the same id (odds 2^-63) answers "lease already exists".
   */
  private drawLeaseId(): LeaseId {
    for (let attempt = 0; attempt < 16; attempt++) {
      const id = drawLeaseId((n) => this.random.intBelow(n));
      if (!this.machine.lessor.exists(id)) return id;
    }
    throw new InvariantError('sixteen random lease ids in a row are taken');
  }

  leaseRevoke(request: { id: LeaseId }, reply: Reply<object>, credentials?: Credentials): void {
    assertLeaseId(request.id);
    this.proposeAs(credentials, { kind: 'leaseRevoke', id: request.id }, (r) => {
      reply(r.kind === 'leaseRevoke' ? { header: this.header(r.revision) } : this.failure(r));
    });
  }

  /** Keep-alive is served by the leader (the gRPC layer forwards from followers). */
  leaseKeepAlive(request: { id: LeaseId }, reply: Reply<{ id: LeaseId; ttlSeconds: number }>): void {
    assertLeaseId(request.id);
    if (this.driver.status().role !== 'leader') {
      reply(etcdError('notLeader'));
      return;
    }
    // etcd 3.5's ensureLeadership (#15247): a leader cut off from its peers that has not
    // noticed yet must not renew, for its renewal's checkpoint can never commit and the
    // next leader would end the lease before the TTL this answer promises (found by
    // `npm run jepsen -- --workload lease --nemesis leader`). A ReadIndex round confirms
    // the leadership first; the renewal happens only once it has.
    this.linearizable(() => {
      if (this.driver.status().role !== 'leader') {
        reply(etcdError('notLeader'));
        return;
      }
      // A member that just won an election is leader before its next tick promotes its
      // lessor: promote it now, or renew would find a lessor that is not primary (found by
      // the simulator, seed 19 --nodes 5).
      this.promoteIfLeader();
      const header = this.header(); // etcd fills the header before renewing
      if (this.renewalAnswers.full) {
        reply(etcdError('tooManyRequests'));
        return;
      }
      const now = this.clock.nowMs();
      const ttlSeconds = this.machine.lessor.renew(request.id, now);
      if (ttlSeconds === 0) {
        reply({ header, id: request.id, ttlSeconds }); // gone: nothing to replicate
        return;
      }
      // The answer waits for the renewal's checkpoint to apply (renewalAnswers.ts), proposed now.
      this.renewalAnswers.hold(request.id, {
        deadlineTick: this.ticks + (this.config.requestTimeoutTicks ?? 70),
        answer: () => { reply({ header, id: request.id, ttlSeconds }); },
        fail: (error) => { reply(error); },
      });
      this.proposeLeaseClock(now);
    }, (error) => { reply(error); });
  }

  leaseTimeToLive(request: { id: LeaseId }, reply: Reply<TimeToLive>): void {
    assertLeaseId(request.id);
    this.linearizable(() => {
      reply({ header: this.header(), ...this.machine.lessor.timeToLive(request.id, this.clock.nowMs()) });
    }, (error) => { reply(error); });
  }

  /**
   * A linearizable read that reads nothing: done(null) once this member has applied
   * everything committed when it was asked, else done(error). etcd's /health goes
   * through Raft without touching the mvcc store, so it counts no range.
   */
  readBarrier(done: (error: EtcdError | null) => void): void {
    this.linearizable(() => { done(null); }, (error) => { done(error); });
  }

  leaseLeases(reply: Reply<{ ids: LeaseId[] }>): void {
    this.linearizable(() => { reply({ header: this.header(), ids: this.machine.lessor.ids() }); }, (e) => { reply(e); });
  }

  // ------------------------------------------------------------------ membership

  /**
   * Publishes this member's name and client URLs through Raft (etcd's publish at start);
   * `done` once applied here, or with the error (the caller tries again, as etcd's
   * publish loop does).
   */
  publishAttributes(attributes: Omit<MemberAttributes, 'raftId'>, done: (error: EtcdError | null) => void): void {
    const published: MemberAttributes = { raftId: this.config.id, name: attributes.name, clientUrls: [...attributes.clientUrls] };
    assertAttributes(published);
    this.propose({ kind: 'memberAttributes', attributes: published }, (r) => {
      done(r.kind === 'memberAttributes' ? null : this.failure(r));
    });
  }

  // ------------------------------------------------------------------ alarms and quota

  /** etcd's Maintenance.Alarm: through Raft, so every member answers from the same alarms. */
  alarm(request: AlarmRequest, reply: Reply<{ alarms: readonly AlarmMember[] }>, credentials?: Credentials): void {
    invariant(typeof request.memberId === 'string' && /^\d+$/.test(request.memberId), 'an alarm names a member by its decimal id');
    this.proposeAs(credentials, { kind: 'alarm', alarm: request }, (r) => {
      reply(r.kind === 'alarm' ? { header: this.header(r.revision), alarms: r.alarms } : this.failure(r));
    });
  }

  /** This member's quota in bytes (Infinity: none): etcd_server_quota_backend_bytes reports it. */
  get quotaBytes(): number {
    return quotaBytesOf(this.config.quotaBackendBytes ?? 0);
  }

  /** etcd's request-time check (api/v3rpc/quota.go): whether the request fits this member's quota. */
  private fitsQuota(request: InternalRequest): boolean {
    const cost = quotaCost(request);
    return cost === 0 || fitsQuota({ sizeBytes: this.machine.backendSizeBytes(), cost, quotaBytes: this.quotaBytes });
  }

  /**
   * Raises this member's NOSPACE alarm through Raft, then calls `then` (etcd answers the
   * refused request once the alarm applied, so an `alarm list` after it sees the alarm).
   * Already raised: `then` at once, no entry.
   */
  private raiseNoSpace(then: () => void): void {
    const self = this.config.alarmMemberId ?? String(this.config.id);
    if (this.machine.alarms.get('NOSPACE').some((a) => a.memberId === self)) {
      then();
      return;
    }
    this.propose({ kind: 'alarm', alarm: { action: 'activate', memberId: self, alarm: 'NOSPACE' } }, then);
  }

  /**
   * Raises CORRUPT through Raft for `memberId` (etcd 3.4.23's leader raises it for 0), then
   * calls `then`; already raised for it: `then` at once, no entry.
   */
  raiseCorrupt(memberId: string, then: () => void): void {
    if (this.machine.alarms.get('CORRUPT').some((a) => a.memberId === memberId)) {
      then();
      return;
    }
    this.propose({ kind: 'alarm', alarm: { action: 'activate', memberId, alarm: 'CORRUPT' } }, () => { then(); });
  }

  // ------------------------------------------------------------------ watches

  /**
   * Opens a watch stream on this member's store (watches are served locally, as in
   * etcd: not linearizable, but ordered and complete from their start revision).
   */
  openWatchStream(sink: WatchSink, ready?: () => boolean): WatchStream {
    invariant(typeof sink === 'function', 'a watch stream needs a sink');
    return this.watches.open(sink, ready);
  }

  /** Watch streams open now (a host checks that a client's departure closed its stream). */
  get openWatchStreams(): number {
    return this.watches.size;
  }

  // ------------------------------------------------------------------ internals

  header(revision?: number): ResponseHeader {
    return {
      clusterId: this.config.clusterId,
      memberId: this.config.id,
      revision: revision ?? this.machine.store.currentRevision(),
      raftTerm: this.driver.status().hardState.term,
    };
  }

  private failure(r: ApplyResult): EtcdError {
    return r.kind === 'error' ? r.error : etcdError('stopped');
  }

  /**
   * Proposes as the credentials' user. A stale auth revision at apply (the store changed
   * after the token was checked) is retried with the token checked again, as etcd's
   * raftRequest does, at most MAX_AUTH_RETRIES times.
   */
  private proposeAs(
    credentials: Credentials | undefined, request: InternalRequest, onResult: (result: ApplyResult) => void, retries = MAX_AUTH_RETRIES,
  ): void {
    this.withAuthInfo(credentials, (error) => { onResult({ kind: 'error', error }); }, (info) => {
      this.propose(request, (r) => {
        const stale = r.kind === 'error' && r.error.name === 'authOldRevision';
        if (stale && retries > 0 && info !== null) this.proposeAs(credentials, request, onResult, retries - 1);
        else onResult(r);
      }, info);
    });
  }

  private propose(request: InternalRequest, onResult: (result: ApplyResult) => void, info: AuthInfo | null = null): void {
    const overload = this.proposalOverload();
    if (overload !== null) {
      onResult({ kind: 'error', error: overload });
      return;
    }
    const requestId = `${this.config.id}-${this.incarnation}-${this.nextRequest++}`;
    const data = encodeEnvelope({
      requestId, proposedAtMs: this.clock.nowMs(), request, ...(info === null ? {} : { auth: info }), ...this.arrivalVerdict(request, info),
    });
    this.waiters.set(requestId, {
      deadlineTick: this.ticks + (this.config.requestTimeoutTicks ?? 70),
      settle: (result) => { onResult(isEtcdError(result) ? { kind: 'error', error: result } : result); },
    });
    this.submit(requestId, () => this.driver.propose(data));
  }

  /** Only with the planted bug authCheckStaleRevision: the permission as of arrival, for apply to trust. */
  private arrivalVerdict(request: InternalRequest, info: AuthInfo | null): { arrivalVerdict?: EtcdErrorName | 'allowed' } {
    if (this.config.bugs?.authCheckStaleRevision !== true || !this.machine.auth.isEnabled()) return {};
    return { arrivalVerdict: this.machine.permission(request, info)?.name ?? 'allowed' };
  }

  /**
   * etcd's preflight check before a proposal (processInternalRaftRequestOnce): too many
   * committed entries not yet applied, or too many proposals waiting here.
   */
  private proposalOverload(): EtcdError | null {
    if (this.driver.raft.unappliedEntries() > this.limits.applyGapEntries) return etcdError('tooManyRequests');
    if (this.waiters.size >= this.limits.pendingProposals) return etcdError('tooManyRequests');
    return null;
  }

  /** Hands a request to Raft now, or — if no leader is known — on a later tick. */
  private submit(id: string, attempt: () => Accepted): void {
    invariant(this.waiters.has(id) !== this.readRounds.has(id), 'a request submitted is not waited for exactly once');
    const first = attempt();
    if (first.ok) return;
    switch (first.refusal) {
      case 'proposalDropped': // no leader known yet (or the leader's uncommitted tail is full): retry
        this.unsent.set(id, () => attempt().ok);
        invariant(this.unsent.size <= this.waiters.size + this.readRounds.roundsOut, 'more unsent requests than waiting ones');
        return;
      case 'tooManyReads':
        this.failNow(id, 'tooManyRequests');
        return;
      case 'confChangePending':
        this.failNow(id, 'timeout');
        return;
      case 'notLeader':
      case 'invalidConfChange':
        this.failNow(id, 'noLeader');
        return;
    }
  }

  private failNow(id: string, error: EtcdErrorName): void {
    if (this.readRounds.has(id)) {
      this.readRounds.failed(id, etcdError(error));
      return;
    }
    const waiter = this.waiters.get(id);
    this.waiters.delete(id);
    waiter?.settle(etcdError(error));
  }

  private linearizable(serve: () => void, fail: (error: EtcdError) => void): void {
    const deadlineTick = this.ticks + (this.config.requestTimeoutTicks ?? 70);
    if (!this.readRounds.read({ serve, fail, deadlineTick })) {
      fail(etcdError('tooManyRequests'));
      return;
    }
    if (this.readsWaiting === undefined) {
      this.readRounds.flush();
    } else if (this.readRounds.unasked === 1) {
      this.readsWaiting();
    }
  }

  /** Asks one ReadIndex round for every linearizable read since the last flush (ports.readsWaiting). */
  flushReads(): void {
    this.readRounds.flush();
  }

  private settle(requestId: string, result: ApplyResult): void {
    const waiter = this.waiters.get(requestId);
    if (waiter === undefined) return; // proposed elsewhere, or timed out here
    this.waiters.delete(requestId);
    waiter.settle(result);
  }

  private serveRead(context: string): void {
    this.readRounds.served(context);
  }

}
