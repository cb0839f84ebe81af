// The etcd state machine the node driver applies committed entries to: MVCC, the
// lessor, the watch hub, the auth store and the alarms, kept in step. Deterministic: every member applying the
// same entries reaches the same store (the lessor's leader-only deadlines aside).
//
// Exactly once: MVCC stores the index of the last entry it applied with the data
// (backend meta); an entry at or below it is skipped, so a restart that replays the
// log from the last snapshot never applies an entry twice.
//
// Where the data lives is injected: the simulator and tests keep MVCC in a
// MemoryBackend (rebuilt from snapshot + log on restart); a production member keeps it
// in LMDB, so a restart resumes from the stored data and only skips through the log.

import type { StateMachine } from '../node/driver.js';
import type { Clock } from '../node/ports.js';
import type { ConfChange, Entry, NodeId } from '../raft/types.js';
import type { PlantedBugs } from '../raft/plantedBugs.js';
import { etcdError, isEtcdError, type EtcdError } from '../errors.js';
import { applyAuth } from '../auth/authApplier.js';
import { decodeAuthImage, encodeAuthImage } from '../auth/image.js';
import { AuthStore } from '../auth/authStore.js';
import type { AuthInfo } from '../auth/permissionCheck.js';
import { checkDeleteRange, checkLeaseKeys, checkPut, checkTxn, type RequestAuth } from '../auth/requestChecks.js';
import { SimpleTokens, type TokenProvider } from '../auth/tokens.js';
import { NO_LEASE, type LeaseId } from '../lease/leaseId.js';
import { Lessor, newLeaseCounts, type LeaseImage } from '../lease/lessor.js';
import { upgradeLegacyImage } from './legacyLeaseIds.js';
import { MemoryBackend, type BackendMeta, type MvccBackend, type StoredKv } from '../mvcc/backend.js';
import { fromKey, toKey } from '../mvcc/keys.js';
import { newMvccCounters } from '../mvcc/mvccCounters.js';
import { MvccStore, type MvccEvent } from '../mvcc/store.js';
import type { Rev } from '../mvcc/revision.js';
import { invariant } from '../util/invariant.js';
import { WatchHub, type WatchHubLimits } from '../watch/watchHub.js';
import { AlarmStore, type AlarmMember } from './alarms.js';
import { AttributeRecords, validAttributes, type MemberAttributes } from '../membership/attributes.js';
import { fitsQuota, quotaCost } from './quota.js';
import { SizedBackend, estimateImageBytes } from '../mvcc/sizedBackend.js';
import { decodeAny, decodeEnvelope, encodeBinary, type Envelope, type InternalRequest } from './requests.js';
import type { ApplyResult } from './results.js';

export interface EtcdStateMachineOptions {
  readonly minLeaseTtlSeconds: number;
  readonly clock: Clock;
  /** Called on the member that applied a request, with its result (the proposer answers its client). */
  readonly onResult: (requestId: string, result: ApplyResult) => void;
  /** The state was replaced by a snapshot's (observers start over; watchers catch up). */
  readonly onRestore?: () => void;
  /** Every applied write's MVCC events, as the watch hub gets them (a host's observer: the simulator's ground truth). */
  readonly onEvents?: (events: readonly MvccEvent[], mainRevision: number) => void;
  /** Where MVCC records live; a fresh MemoryBackend if absent. A durable one may hold applied state already. */
  readonly backend?: MvccBackend;
  /** Where auth tokens are made and checked; etcd's simple tokens (TTL 300 s) if absent. */
  readonly tokens?: TokenProvider;
  /** The planted bug authCheckStaleRevision: trust the entry's arrival verdict instead of checking at apply. */
  readonly trustArrivalVerdict?: boolean;
  /** Test-only: the planted bugs the watch hub honours (plantedBugs.ts). */
  readonly watchBugs?: PlantedBugs;
  /** The watch hub's bounds; its defaults (etcd's) if absent. */
  readonly watchLimits?: WatchHubLimits;
  /** The planted bug leaseTtlResetLost: a new leader restarts leases from their full TTL. */
  readonly resetLeaseTtlOnPromote?: boolean;
  /** This member's backend quota in bytes (quota.ts quotaBytesOf); Infinity (no quota) if absent. */
  readonly quotaBytes?: number;
  /**
   * A request applied here grew the backend past the quota while no NOSPACE alarm is
   * raised: the member raises its own (etcd's applyEntryNormal). Called on every member
   * whose quota the entry crossed, not only the proposer.
   */
  readonly onQuotaExceeded?: () => void;
  /** Called before a grant is applied: the server promotes the lessor first if it leads now. */
  readonly beforeLeaseGrant?: () => void;
  /** A member's published attributes applied here (the host's membership adopts them). */
  readonly onAttributes?: (attributes: MemberAttributes) => void;
}

/**
 * A grant with id 0 is only found in entries written before the proposer drew ids
 * (server.ts leaseGrant): it got AUTO_LEASE_ID_BASE + the index of its Raft entry, the
 * same on every member, and still does when such a log is replayed.
 */
export const AUTO_LEASE_ID_BASE = 2n ** 52n;

/** The id a grant applies with: its own, or (legacy entries, id 0) the one derived from the index. */
function grantedId(id: LeaseId, index: number): LeaseId {
  return id !== NO_LEASE ? id : AUTO_LEASE_ID_BASE + BigInt(index);
}

/** What a snapshot of the state machine holds (encodeSnapshotImage: its bytes). */
export interface SnapshotImage {
  readonly records: readonly (readonly [Rev, StoredKv])[];
  readonly meta: BackendMeta;
  readonly leases: LeaseImage[];
  /** The auth state (core/auth/image.ts); absent in images from before auth existed. */
  readonly auth?: Uint8Array;
  /** memberContexts, by Raft id; absent in images from before members were kept. */
  readonly members?: readonly (readonly [NodeId, Uint8Array])[];
  /** The raised alarms, in order; absent in images from before alarms were kept. */
  readonly alarms?: readonly AlarmMember[];
  /** The members' published attributes; absent in images from before they went through Raft. */
  readonly attributes?: readonly MemberAttributes[];
}

/**
 * The bytes restore() reads: how snapshot() encodes its image, for a host that builds an
 * image from state held elsewhere (an etcd data dir being imported, net/etcdData/).
 */
export function encodeSnapshotImage(image: SnapshotImage): Uint8Array {
  return encodeBinary(image);
}

/** key = range_end = "\0": every key. */
const ALL_KEYS = new Uint8Array([0]);

export class EtcdStateMachine implements StateMachine {
  store: MvccStore;
  lessor: Lessor;
  /** Users, roles, permissions and the auth revision (replicated: every change is an entry). */
  auth: AuthStore = new AuthStore();
  /** Member-local: tokens are made by every member as Authenticate entries apply, not replicated state. */
  readonly tokens: TokenProvider;
  readonly hub: WatchHub;
  /** etcd's mvcc operation counts, kept across stores (a snapshot install replaces the store, not the counts). */
  private readonly mvccCounters = newMvccCounters();
  /**
   * The latest conf-change context of every member added through Raft (the host's member
   * record: name, peer URLs, learner flag), dropped when the member is removed. Replicated
   * state, and in the snapshot: a member that catches up by snapshot learns from it the
   * members added in entries compacted away. Members of the initial cluster have none.
   */
  private memberContextsById = new Map<NodeId, Uint8Array>();
  /** The members' published names and client URLs (core/membership/attributes.ts): replicated, in the snapshot. */
  attributes = new AttributeRecords();
  /** The raised alarms (alarms.ts): replicated, in the snapshot; while one is raised, apply refuses requests. */
  alarms: AlarmStore = new AlarmStore();
  /** Committed entries executed / skipped as already in the backend, since construction. */
  readonly applyCounts = { executed: 0, skipped: 0 };
  /** Since this process started, across snapshot restores (etcd's lease metrics). */
  readonly leaseCounts = newLeaseCounts();
  private readonly options: EtcdStateMachineOptions;
  private readonly backendStore: SizedBackend;
  /**
   * The applied index a durable backend held when this process opened it (0: none).
   * Entries up to it are not executed again, but the lessor is not stored with the
   * records: it comes from the last snapshot, and the lease requests after the snapshot
   * are replayed on it alone (see replayLeases).
   */
  private resumedAt: number;

  constructor(options: EtcdStateMachineOptions) {
    this.options = options;
    this.lessor = this.newLessor();
    this.tokens = options.tokens ?? new SimpleTokens();
    this.backendStore = new SizedBackend(options.backend ?? new MemoryBackend());
    this.store = this.newStore(this.backendStore);
    this.hub = new WatchHub(this.store, { ...options.watchLimits, ...(options.watchBugs === undefined ? {} : { bugs: options.watchBugs }) });
    this.resumedAt = this.store.appliedIndex();
  }

  apply(entry: Entry): void {
    // The driver hands over only normal entries with data (conf changes and a leader's
    // empty entry stay in the core).
    invariant(entry.type === 'normal' && entry.data.length > 0, 'an entry without a request reached the state machine');
    if (entry.index <= this.store.appliedIndex()) { // already applied before a restart
      this.applyCounts.skipped++;
      if (entry.index <= this.resumedAt) this.replayOutsideBackend(entry);
      return;
    }
    this.applyCounts.executed++;
    const envelope = decodeEnvelope(entry.data);
    if (envelope === null) {
      // Not ours (or corrupt): apply nothing, but record that the index was seen.
      this.store.skip(entry.index);
      return;
    }
    const result = this.execute(envelope, entry.index);
    // Exactly once rests on this: every request records its index with its effects.
    invariant(this.store.appliedIndex() === entry.index, 'an entry applied without its index recorded in the store');
    if (envelope.requestId !== '') this.options.onResult(envelope.requestId, result);
  }

  applyConfChange(change: ConfChange, index: number): void {
    invariant(index > 0, 'a conf change applied without its index');
    // One record per member in the configuration: the map is as bounded as the cluster.
    if (change.type === 'removeVoter') {
      this.memberContextsById.delete(change.nodeId);
      this.attributes.remove(change.nodeId);
    } else if (change.context !== undefined) this.memberContextsById.set(change.nodeId, change.context);
  }

  /** memberContextsById's entries, by Raft id. */
  memberContexts(): ReadonlyMap<NodeId, Uint8Array> {
    return this.memberContextsById;
  }

  /**
   * The backend's size as the quota sees it: the estimate of the bbolt image (Status's
   * dbSize) from the running tally of records (mvcc/sizedBackend.ts). O(1), so it is
   * asked on every put; deterministic, so every member with the same data agrees.
   */
  backendSizeBytes(): number {
    return estimateImageBytes(this.backendStore.tally(), this.lessor.count);
  }

  snapshot(): Uint8Array {
    const dump = this.store.backend.dump();
    return encodeSnapshotImage({
      records: dump.records, meta: dump.meta, leases: this.lessor.exportLeases(), auth: encodeAuthImage(this.auth.state()),
      members: [...this.memberContextsById], alarms: this.alarms.image(), attributes: this.attributes.all(),
    });
  }

  restore(data: Uint8Array): void {
    const decoded = decodeAny(data);
    if (decoded?.legacy === true) upgradeLegacyImage(decoded.value);
    const image = decoded?.value as SnapshotImage | null | undefined;
    if (typeof image !== 'object' || image === null || !Array.isArray(image.records)) {
      throw new Error('the snapshot image is not decodable');
    }
    this.lessor = this.newLessor();
    this.lessor.importLeases(image.leases, this.options.clock.nowMs());
    this.auth = image.auth === undefined ? new AuthStore() : new AuthStore(decodeAuthImage(image.auth));
    this.memberContextsById = new Map(image.members ?? []);
    this.alarms = new AlarmStore(image.alarms ?? []);
    this.attributes = new AttributeRecords(image.attributes ?? []);
    this.store = this.storeFor(image);
    // Watchers keep their place and catch up from the new store's history.
    this.hub.rebind(this.store);
    this.options.onRestore?.();
  }

  /**
   * A store over the snapshot's records — unless the backend already holds a later
   * state: a durable backend opened on restart is usually ahead of the last snapshot,
   * and the store over it is kept as it is (no second index rebuild).
   */
  private storeFor(image: SnapshotImage): MvccStore {
    if (image.meta.appliedIndex >= this.resumedAt) this.resumedAt = 0; // nothing left to replay
    if (image.meta.appliedIndex <= this.backendStore.meta().appliedIndex) return this.store;
    this.backendStore.replaceAll(image);
    return this.newStore(this.backendStore);
  }

  /**
   * An entry the backend already holds, between the last snapshot and the index the
   * backend was opened at: only its effect on the lessor and the auth store (which are
   * not stored with the records) is redone; tokens are not made again (etcd's are lost
   * on restart too). Once the replay reaches that index, the lessor's key sets are
   * rebuilt from the stored keys (the puts that attached them were not executed again).
   */
  private replayOutsideBackend(entry: Entry): void {
    const envelope = decodeEnvelope(entry.data);
    // What the raised alarms refused then, they refuse now (lease grants and revokes).
    if (envelope !== null && this.alarms.refusalAtApply(envelope.request) === null) this.redoOutsideBackend(envelope, entry.index);
    if (entry.index < this.resumedAt) return;
    this.resumedAt = 0;
    this.lessor.detachAllKeys();
    const all = this.store.peek({ key: ALL_KEYS, rangeEnd: ALL_KEYS, serializable: true });
    if (isEtcdError(all)) return;
    for (const kv of all.kvs) {
      if (this.lessor.exists(kv.lease)) this.lessor.attach(kv.lease, toKey(kv.key));
    }
  }

  /** One request's effect on the alarms, the auth store or the lessor. */
  private redoOutsideBackend(envelope: Envelope, index: number): void {
    const { request } = envelope;
    const now = this.options.clock.nowMs();
    if (request.kind === 'alarm') {
      this.alarms.apply(request.alarm);
    } else if (request.kind === 'memberAttributes') {
      this.publish(request.attributes);
    } else if (request.kind === 'auth') {
      applyAuth(this.auth, request.auth, envelope.auth ?? null, { index, nowMs: now, tokens: null });
    } else if (request.kind === 'leaseGrant') {
      this.lessor.grant(grantedId(request.id, index), request.ttlSeconds, now);
    } else if (request.kind === 'leaseRevoke') {
      this.lessor.revoke(request.id);
    } else if (request.kind === 'leaseCheckpoint') {
      this.lessor.applyCheckpoint(request.elapsedMs ?? 0, request.checkpoints, now, index);
    }
  }

  private newLessor(): Lessor {
    return new Lessor({
      minTtlSeconds: this.options.minLeaseTtlSeconds, bugResetTtlOnPromote: this.options.resetLeaseTtlOnPromote === true, counts: this.leaseCounts,
    });
  }

  private newStore(backend: MvccBackend): MvccStore {
    return new MvccStore(backend, {
      ...(this.options.watchBugs?.compactDropsDeleteEvent === true ? { compactDropsDeleteEvent: true } : {}),
      leaseExists: (id) => id === NO_LEASE || this.lessor.exists(id),
      counters: this.mvccCounters,
      onEvents: (events, main) => {
        this.trackLeases(events);
        this.options.onEvents?.(events, main);
        this.hub.onEvents(events, main);
      },
    });
  }

  /** Keeps each lease's key set in step with puts and deletes. */
  private trackLeases(events: readonly MvccEvent[]): void {
    for (const e of events) {
      if (e.prevKv !== null) this.lessor.detach(e.prevKv.lease, e.kv.key);
      if (e.type === 'put') this.lessor.attach(e.kv.lease, e.kv.key);
    }
  }

  /**
   * Runs one request, in etcd's order of appliers: the raised alarms refuse first
   * (CORRUPT, then NOSPACE), then auth, then the quota, which lets the request apply but
   * answers "database space exceeded" if it did not fit (etcd's quotaApplierV3).
   */
  private execute(envelope: Envelope, index: number): ApplyResult {
    const { request } = envelope;
    const refused = this.alarms.refusalAtApply(request) ?? (this.auth.isEnabled() ? this.refusalAtApply(envelope) : null);
    if (refused !== null) {
      this.store.skip(index);
      return { kind: 'error', error: refused };
    }
    const cost = quotaCost(request);
    const fits = fitsQuota({ sizeBytes: cost === 0 ? 0 : this.backendSizeBytes(), cost, quotaBytes: this.options.quotaBytes ?? Infinity });
    const result = this.run(envelope, index);
    if (fits || result.kind === 'error') return result;
    if (!this.alarms.has('NOSPACE')) this.options.onQuotaExceeded?.();
    return { kind: 'error', error: etcdError('noSpace') };
  }

  private run(envelope: Envelope, index: number): ApplyResult {
    const { request } = envelope;
    const info = envelope.auth ?? null;
    const store = this.store;
    switch (request.kind) {
      case 'put': return wrap(store.put(request.put, index), (r) => ({ kind: 'put', response: r }));
      case 'deleteRange': return wrap(store.deleteRange(request.deleteRange, index), (r) => ({ kind: 'deleteRange', response: r }));
      case 'txn': return wrap(store.txn(request.txn, index), (r) => ({ kind: 'txn', response: r }));
      case 'compact': return wrap(store.compact(request.compact, index), (r) => ({ kind: 'compact', response: r }));
      case 'leaseGrant': {
        this.options.beforeLeaseGrant?.();
        const lease = this.lessor.grant(grantedId(request.id, index), request.ttlSeconds, this.options.clock.nowMs());
        store.skip(index);
        if (isEtcdError(lease)) return { kind: 'error', error: lease };
        return { kind: 'leaseGrant', id: lease.id, ttlSeconds: lease.ttlSeconds, revision: store.currentRevision() };
      }
      case 'leaseRevoke': {
        const keys = this.lessor.revoke(request.id);
        if (isEtcdError(keys)) {
          store.skip(index);
          return { kind: 'error', error: keys };
        }
        if (keys.length === 0) {
          store.skip(index);
        } else {
          // Every attached key goes in one revision.
          const deleted = store.txn({ compare: [], success: keys.map((k) => ({ deleteRange: { key: fromKey(k) } })), failure: [] }, index);
          if (isEtcdError(deleted)) return { kind: 'error', error: deleted };
        }
        return { kind: 'leaseRevoke', revision: store.currentRevision() };
      }
      case 'leaseCheckpoint':
        this.lessor.applyCheckpoint(request.elapsedMs ?? 0, request.checkpoints, this.options.clock.nowMs(), index);
        store.skip(index);
        return { kind: 'leaseCheckpoint', revision: store.currentRevision() };
      case 'auth': {
        const answer = applyAuth(this.auth, request.auth, info, { index, nowMs: this.options.clock.nowMs(), tokens: this.tokens });
        store.skip(index);
        return isEtcdError(answer) ? { kind: 'error', error: answer } : { kind: 'auth', answer, revision: store.currentRevision() };
      }
      case 'alarm': {
        const alarms = this.alarms.apply(request.alarm);
        store.skip(index);
        return { kind: 'alarm', alarms, revision: store.currentRevision() };
      }
      case 'memberAttributes':
        this.publish(request.attributes);
        store.skip(index);
        return { kind: 'memberAttributes', revision: store.currentRevision() };
    }
  }

  /** A member's published attributes applied (also when replayed outside the backend). */
  private publish(attributes: MemberAttributes): void {
    // Only a Tern member proposes these, and it checks them first; a malformed one
    // (a damaged or foreign entry) changes nothing rather than stop every member.
    if (!validAttributes(attributes)) return;
    this.attributes.apply(attributes);
    this.options.onAttributes?.(attributes);
  }

  private refusalAtApply(envelope: Envelope): EtcdError | null {
    const verdict = envelope.arrivalVerdict;
    if (this.options.trustArrivalVerdict === true && verdict !== undefined) return verdict === 'allowed' ? null : etcdError(verdict);
    return this.permission(envelope.request, envelope.auth ?? null);
  }

  /**
   * With auth on: whether the request's user may make it, as of this entry (requestChecks.ts).
   * Public for the planted bug authCheckStaleRevision, which asks it on arrival instead.
   */
  permission(request: InternalRequest, info: AuthInfo | null): EtcdError | null {
    const auth: RequestAuth = { store: this.auth, info, leaseKeys: (id) => this.lessor.keysOf(id) };
    switch (request.kind) {
      case 'put': return checkPut(auth, request.put);
      case 'deleteRange': return checkDeleteRange(auth, request.deleteRange);
      case 'txn': return checkTxn(auth, request.txn);
      case 'leaseRevoke': return checkLeaseKeys(auth, request.id);
      default: return null; // compaction, lease grants and checkpoints are not checked (etcd 3.4); auth requests check themselves
    }
  }
}

function wrap<T>(result: T | EtcdError, ok: (value: T) => ApplyResult): ApplyResult {
  return isEtcdError(result) ? { kind: 'error', error: result } : ok(result);
}

