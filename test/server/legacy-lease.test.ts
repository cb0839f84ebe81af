// Data written before lease ids were bigints still reads, exactly: Raft entries and a
// snapshot image encoded by main dd0654c (envelope 0xb1, lease ids as numbers), and
// the MVCC records it kept in LMDB (lease as float64). The bytes are the fixture
// test/fixtures/legacy-lease/legacy.json, made by make-fixture.mjs beside it with the
// build of that commit.
import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { MemoryBackend } from '../../core/mvcc/backend.js';
import type { Entry } from '../../core/raft/types.js';
import { encodeValue } from '../../core/server/binaryCodec.js';
import { decodeEnvelope, encodeEnvelope } from '../../core/server/requests.js';
import { AUTO_LEASE_ID_BASE, EtcdStateMachine } from '../../core/server/stateMachine.js';
import { decodeStoredKv, encodeStoredKv } from '../../storage/codec.js';

interface Fixture {
  readonly entries: readonly { readonly index: number; readonly data: string }[];
  readonly image: string;
  readonly records: readonly { readonly revision: number; readonly bytes: string }[];
}
const fixture = JSON.parse(readFileSync(path.join(process.cwd(), 'test/fixtures/legacy-lease/legacy.json'), 'utf8')) as Fixture;
const hex = (s: string): Uint8Array => Uint8Array.from(Buffer.from(s, 'hex'));
const entries: Entry[] = fixture.entries.map((e) => ({ index: e.index, term: 1, type: 'normal', data: hex(e.data) }));
const machine = (): EtcdStateMachine => new EtcdStateMachine({
  minLeaseTtlSeconds: 2, clock: { nowMs: () => 0 }, onResult: () => undefined, backend: new MemoryBackend(),
});
const AUTO_2 = AUTO_LEASE_ID_BASE + 2n; // the legacy grant with id 0, at index 2
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);
// What is left on the lease clock (lessor.ts): the checkpointed 30 s, and all of the TTL of
// a lease never checkpointed (an old image's null reads as that too).
const EXPECTED_LEASES = [
  { id: 7n, ttlSeconds: 60, remainingMsAtCheckpoint: 30000, keys: ['a'] },
  { id: AUTO_2, ttlSeconds: 120, remainingMsAtCheckpoint: 120_000, keys: ['b'] },
];

test('the fixture is legacy bytes: envelope version 0xb1; what Tern writes now is 0xb2', (t) => {
  t.true(entries.every((e) => e.data[0] === 0xb1));
  t.is(hex(fixture.image)[0], 0xb1);
  t.is(encodeEnvelope({ requestId: '', proposedAtMs: 0, request: { kind: 'leaseRevoke', id: 1n } })[0], 0xb2);
});

test('legacy entries decode with every lease id a bigint, exactly', (t) => {
  const requests = entries.map((e) => decodeEnvelope(e.data)?.request);
  t.deepEqual(requests[0], { kind: 'leaseGrant', id: 7n, ttlSeconds: 60 });
  t.deepEqual(requests[1], { kind: 'leaseGrant', id: 0n, ttlSeconds: 120 }, 'id 0: the state machine derives it, as then');
  t.deepEqual(requests[2], { kind: 'leaseGrant', id: MAX_SAFE, ttlSeconds: 90 }, '2^53-1 was written as a float64');
  t.like(requests[3], { kind: 'put', put: { lease: 7n } });
  t.like(requests[4], { kind: 'put', put: { lease: AUTO_2 } });
  const txn = requests[5];
  if (txn?.kind !== 'txn') return t.fail('entry 6 is a txn');
  t.like(txn.txn.compare[0], { target: 'lease', lease: 7n });
  t.like(txn.txn.success[0], { put: { lease: MAX_SAFE } });
  t.deepEqual(requests[6], { kind: 'leaseCheckpoint', checkpoints: [{ id: 7n, remainingMs: 30000 }] });
  t.deepEqual(requests[7], { kind: 'leaseRevoke', id: MAX_SAFE });
});

test('replaying a legacy log gives the lessor and keys the old Tern had', (t) => {
  const m = machine();
  for (const e of entries) m.apply(e);
  t.deepEqual(m.lessor.exportLeases(), EXPECTED_LEASES);
  const all = m.store.range({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) });
  if ('kind' in all) return t.fail(all.message);
  t.deepEqual(all.kvs.map((kv) => [new TextDecoder().decode(kv.key), kv.lease]), [['a', 7n], ['b', AUTO_2]], 'c went with its lease');
});

test('a legacy snapshot image restores with bigint lease ids, and a new one written from it restores the same', (t) => {
  const restored = machine();
  restored.restore(hex(fixture.image));
  t.deepEqual(restored.lessor.exportLeases(), EXPECTED_LEASES);
  const kvs = (m: EtcdStateMachine): unknown => {
    const r = m.store.range({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]) });
    return 'kvs' in r ? r.kvs.map((kv) => kv.lease) : r;
  };
  t.deepEqual(kvs(restored), [7n, AUTO_2]);
  const image = restored.snapshot();
  t.is(image[0], 0xb2);
  const again = machine();
  again.restore(image);
  t.deepEqual(again.lessor.exportLeases(), EXPECTED_LEASES);
  t.deepEqual(kvs(again), [7n, AUTO_2]);
  // After the upgrade the lessor goes on: a revoke of the derived id deletes b.
  again.apply({ index: 9, term: 1, type: 'normal', data: encodeEnvelope({ requestId: '', proposedAtMs: 0, request: { kind: 'leaseRevoke', id: AUTO_2 } }) });
  t.deepEqual(kvs(again), [7n]);
});

test('legacy LMDB records (lease as float64) decode to bigint leases; new records keep every int64', (t) => {
  const decoded = fixture.records.map((r) => decodeStoredKv(r.revision, hex(r.bytes)));
  t.deepEqual(decoded.map((kv) => [kv.key, kv.lease, kv.tombstone]), [['a', 7n, false], ['b', AUTO_2, false], ['c', MAX_SAFE, false], ['c', 0n, true]]);
  for (const lease of [2n ** 62n + 12345n, 2n ** 63n - 1n, -5n, -(2n ** 63n)]) {
    const kv = { key: 'k', value: Uint8Array.of(1), createRevision: 2, modRevision: 3, version: 1, lease, tombstone: false };
    t.deepEqual(decodeStoredKv(3, encodeStoredKv(kv)), kv);
  }
});

test('a legacy txn nested in a txn has its lease ids upgraded at every level, and nothing else changes', (t) => {
  const put = (lease: number): unknown => ({ put: { key: Uint8Array.of(1), value: Uint8Array.of(2), lease } });
  const legacy = {
    requestId: 'r', proposedAtMs: 0,
    request: { kind: 'txn', txn: {
      compare: [{ key: Uint8Array.of(1), target: 'lease', result: 'equal', lease: 5 }, { key: Uint8Array.of(1), target: 'version', result: 'equal', version: 3 }],
      success: [put(9), { txn: { compare: [], success: [put(2 ** 53 - 1)], failure: [{ txn: { compare: [], success: [put(11)], failure: [] } }] } }],
      failure: [{ range: { key: Uint8Array.of(1), limit: 4 } }],
    } },
  };
  const decoded = decodeEnvelope(encodeValue(legacy, [0xb1]));
  const bigPut = (lease: bigint): unknown => ({ put: { key: Uint8Array.of(1), value: Uint8Array.of(2), lease } });
  t.deepEqual(decoded?.request, { kind: 'txn', txn: {
    compare: [{ key: Uint8Array.of(1), target: 'lease', result: 'equal', lease: 5n }, { key: Uint8Array.of(1), target: 'version', result: 'equal', version: 3 }],
    success: [bigPut(9n), { txn: { compare: [], success: [bigPut(MAX_SAFE)], failure: [{ txn: { compare: [], success: [bigPut(11n)], failure: [] } }] } }],
    failure: [{ range: { key: Uint8Array.of(1), limit: 4 } }],
  } });
});
