// An EtcdStateMachine opened over a backend that already holds applied state (what a
// member finds in LMDB on restart) skips the entries the backend holds, yet ends with
// the same lessor as a machine that executed them all: leases are not stored with the
// records, so the lease requests after the last snapshot are replayed on the lessor
// and its key sets rebuilt from the stored keys.
import test from 'ava';
import { MemoryBackend } from '../../core/mvcc/backend.js';
import { encodeEnvelope, type InternalRequest } from '../../core/server/requests.js';
import { EtcdStateMachine } from '../../core/server/stateMachine.js';
import type { Entry } from '../../core/raft/types.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const entry = (index: number, request: InternalRequest): Entry => ({
  index, term: 1, type: 'normal', data: encodeEnvelope({ requestId: '', proposedAtMs: 0, request }),
});
const machine = (backend: MemoryBackend): EtcdStateMachine => new EtcdStateMachine({
  minLeaseTtlSeconds: 2, clock: { nowMs: () => 0 }, onResult: () => undefined, backend,
});

const LOG: Entry[] = [
  entry(1, { kind: 'leaseGrant', id: 7n, ttlSeconds: 60 }),
  entry(2, { kind: 'put', put: { key: enc('a'), value: enc('1'), lease: 7n } }),
  entry(3, { kind: 'put', put: { key: enc('b'), value: enc('2'), lease: 7n } }),
  entry(4, { kind: 'leaseGrant', id: 8n, ttlSeconds: 60 }),
  entry(5, { kind: 'put', put: { key: enc('c'), value: enc('3'), lease: 8n } }),
  entry(6, { kind: 'put', put: { key: enc('a'), value: enc('4') } }), // a leaves lease 7
  entry(7, { kind: 'leaseRevoke', id: 8n }), // deletes c
];

const leases = (m: EtcdStateMachine): unknown => m.lessor.exportLeases();

test('restarting over a backend that holds everything: nothing executed again, same lessor, same store', (t) => {
  for (const snapshotAt of [0, 1, 3, 5, 7]) {
    const backend = new MemoryBackend();
    const before = machine(backend);
    let snapshot: Uint8Array | null = null;
    for (const e of LOG) {
      before.apply(e);
      if (e.index === snapshotAt) snapshot = before.snapshot();
    }

    const after = machine(backend); // the "restart": same stored records
    if (snapshot !== null) after.restore(snapshot);
    for (const e of LOG.filter((x) => x.index > snapshotAt)) after.apply(e);
    t.deepEqual(after.applyCounts, { executed: 0, skipped: LOG.length - snapshotAt }, `snapshot at ${snapshotAt}`);
    t.deepEqual(leases(after), leases(before), `snapshot at ${snapshotAt}: lessor`);
    // No lease clock entry in the log: all of the TTL is left.
    t.deepEqual(leases(after), [{ id: 7n, ttlSeconds: 60, remainingMsAtCheckpoint: 60_000, keys: ['b'] }]);

    // Revoking lease 7 now deletes exactly the key it holds.
    after.apply(entry(8, { kind: 'leaseRevoke', id: 7n }));
    const keys = after.store.range({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) });
    t.deepEqual('kvs' in keys ? keys.kvs.map((kv) => new TextDecoder().decode(kv.key)) : keys, ['a']);
  }
});

test('a snapshot newer than the stored records replaces them', (t) => {
  const source = machine(new MemoryBackend());
  for (const e of LOG) source.apply(e);
  const stale = new MemoryBackend();
  const behind = machine(stale);
  for (const e of LOG.slice(0, 2)) behind.apply(e);

  const restarted = machine(stale);
  restarted.restore(source.snapshot());
  t.is(restarted.store.appliedIndex(), 7);
  t.deepEqual(leases(restarted), leases(source));
  t.deepEqual(stale.dump(), source.store.backend.dump());
});
