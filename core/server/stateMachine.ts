// The etcd state machine the node driver applies committed entries to: MVCC, the
// lessor and the watch hub, kept in step. Deterministic: every member applying the
// same entries reaches the same store (the lessor's leader-only deadlines aside).
//
// Exactly once: MVCC stores the index of the last entry it applied with the data
// (backend meta); an entry at or below it is skipped, so a restart that replays the
// log from the last snapshot never applies an entry twice.

import type { StateMachine } from '../node/driver.js';
import type { Clock } from '../node/ports.js';
import type { Entry } from '../raft/types.js';
import { isEtcdError, type EtcdError } from '../errors.js';
import { Lessor, type LeaseImage } from '../lease/lessor.js';
import { MemoryBackend, type BackendMeta, type StoredKv } from '../mvcc/backend.js';
import { fromKey } from '../mvcc/keys.js';
import { MvccStore, type MvccEvent } from '../mvcc/store.js';
import type { Rev } from '../mvcc/revision.js';
import { WatchHub } from '../watch/watchHub.js';
import { decodeAny, decodeEnvelope, encodeBinary, type InternalRequest } from './requests.js';
import type { ApplyResult } from './results.js';

export interface EtcdStateMachineOptions {
  readonly minLeaseTtlSeconds: number;
  readonly clock: Clock;
  /** Called on the member that applied a request, with its result (the proposer answers its client). */
  readonly onResult: (requestId: string, result: ApplyResult) => void;
  /** The state was replaced by a snapshot's (observers start over; watchers catch up). */
  readonly onRestore?: () => void;
}

/**
 * Leases granted with id 0 get AUTO_LEASE_ID_BASE + the index of their Raft entry:
 * unique across the cluster and across restarts, the same on every member, and far
 * from the small ids clients tend to pick themselves.
 */
export const AUTO_LEASE_ID_BASE = 2 ** 52;

interface SnapshotImage {
  readonly records: [Rev, StoredKv][];
  readonly meta: BackendMeta;
  readonly leases: LeaseImage[];
}

export class EtcdStateMachine implements StateMachine {
  store: MvccStore;
  lessor: Lessor;
  readonly hub: WatchHub;
  private readonly options: EtcdStateMachineOptions;

  constructor(options: EtcdStateMachineOptions) {
    this.options = options;
    this.lessor = new Lessor({ minTtlSeconds: options.minLeaseTtlSeconds });
    this.store = this.newStore(new MemoryBackend());
    this.hub = new WatchHub(this.store);
  }

  apply(entry: Entry): void {
    if (entry.index <= this.store.appliedIndex()) return; // already applied before a restart
    const envelope = decodeEnvelope(entry.data);
    if (envelope === null) {
      // Not ours (or corrupt): apply nothing, but record that the index was seen.
      this.store.skip(entry.index);
      return;
    }
    const result = this.execute(envelope.request, entry.index);
    if (envelope.requestId !== '') this.options.onResult(envelope.requestId, result);
  }

  snapshot(): Uint8Array {
    const dump = this.backend().dump();
    const image: SnapshotImage = { records: dump.records, meta: dump.meta, leases: this.lessor.exportLeases() };
    return encodeBinary(image);
  }

  restore(data: Uint8Array): void {
    const image = decodeAny(data) as SnapshotImage | null;
    if (image === null || !Array.isArray(image.records)) throw new Error('the snapshot image is not decodable');
    this.lessor = new Lessor({ minTtlSeconds: this.options.minLeaseTtlSeconds });
    this.lessor.importLeases(image.leases);
    this.store = this.newStore(MemoryBackend.load(image));
    // Watchers keep their place and catch up from the new store's history.
    this.hub.rebind(this.store);
    this.options.onRestore?.();
  }

  private backend(): MemoryBackend {
    const backend = this.store.backend;
    if (!(backend instanceof MemoryBackend)) throw new Error('snapshots of this backend are made by its adapter');
    return backend;
  }

  private newStore(backend: MemoryBackend): MvccStore {
    return new MvccStore(backend, {
      leaseExists: (id) => id === 0 || this.lessor.exists(id),
      onEvents: (events, main) => {
        this.trackLeases(events);
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

  private execute(request: InternalRequest, index: number): ApplyResult {
    const store = this.store;
    switch (request.kind) {
      case 'put': return wrap(store.put(request.put, index), (r) => ({ kind: 'put', response: r }));
      case 'deleteRange': return wrap(store.deleteRange(request.deleteRange, index), (r) => ({ kind: 'deleteRange', response: r }));
      case 'txn': return wrap(store.txn(request.txn, index), (r) => ({ kind: 'txn', response: r }));
      case 'compact': return wrap(store.compact(request.compact, index), (r) => ({ kind: 'compact', response: r }));
      case 'leaseGrant': {
        const id = request.id !== 0 ? request.id : AUTO_LEASE_ID_BASE + index;
        const lease = this.lessor.grant(id, request.ttlSeconds, this.options.clock.nowMs());
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
        for (const cp of request.checkpoints) this.lessor.checkpoint(cp.id, cp.remainingMs);
        store.skip(index);
        return { kind: 'leaseCheckpoint', revision: store.currentRevision() };
    }
  }
}

function wrap<T>(result: T | EtcdError, ok: (value: T) => ApplyResult): ApplyResult {
  return isEtcdError(result) ? { kind: 'error', error: result } : ok(result);
}

