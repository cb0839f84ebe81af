// The quota's backend size (core/mvcc/sizedBackend.ts, a running tally) against the size
// Status reports (the bbolt image, laid out in full): the record bytes are counted
// exactly, and the page estimate stays within the documented shortfall of the image
// for small, large, mixed and compacted stores and with leases. And the alarm bucket's
// keys are etcd's AlarmMember encoding.

import test from 'ava';
import fc from 'fast-check';
import type { StoredKv } from '../../../core/mvcc/backend.js';
import { keyValueBytes } from '../../../core/mvcc/recordSize.js';
import { marshalAlarmMember } from '../../../net/snapshot/alarmBucket.js';
import { marshalKeyValue } from '../../../net/snapshot/records.js';
import { snapshotSize } from '../../../net/snapshot/snapshotImage.js';
import type { EtcdServer } from '../../../core/server/server.js';
import { call, enc, ok, ServerCluster } from '../../server/cluster.js';

const PAGE = 4096;

test('a record\'s counted bytes are the length of the mvccpb.KeyValue the image writes', (t) => {
  const kv = fc.record({
    key: fc.string({ maxLength: 300 }), value: fc.uint8Array({ maxLength: 20_000 }),
    createRevision: fc.nat(), modRevision: fc.nat(), version: fc.nat(), lease: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), tombstone: fc.boolean(),
  });
  fc.assert(fc.property(kv, (record: StoredKv) => keyValueBytes(record) === marshalKeyValue(record).length), { numRuns: 300 });
  t.pass();
});

/** The tally's estimate and the image's exact size, in pages. */
function pages(s: EtcdServer): { estimate: number; image: number } {
  return { estimate: s.machine.backendSizeBytes() / PAGE, image: snapshotSize(s.machine) / PAGE };
}

function put(c: ServerCluster, s: EtcdServer, key: string, bytes: number, lease = 0n): void {
  ok(call(c, s.put.bind(s), { key: enc(key), value: new Uint8Array(bytes).fill(0x61), lease }));
}

test('the estimate matches the image for small records, large records and after compaction', (t) => {
  const c = new ServerCluster([1]);
  const s = c.elect();
  t.deepEqual(pages(s), { estimate: 4, image: 4 }, 'an empty store: meta, meta, freelist, root');
  for (let i = 0; i < 600; i++) put(c, s, `key-${i % 150}`, 40);
  const small = pages(s);
  t.log('600 small puts', small);
  t.true(small.estimate <= small.image && small.image - small.estimate <= Math.max(1, 0.03 * small.image), JSON.stringify(small));
  for (let i = 0; i < 12; i++) put(c, s, 'big', 5000);
  const large = pages(s);
  t.log('and 12 puts of 5000 bytes', large);
  t.true(large.estimate <= large.image && large.image - large.estimate <= 2, JSON.stringify(large));
  ok(call(c, s.compact.bind(s), { revision: s.machine.store.currentRevision() }));
  const compacted = pages(s);
  t.log('compacted', compacted);
  t.true(compacted.image < large.image, 'compaction shrinks the image');
  t.true(compacted.estimate <= compacted.image && compacted.image - compacted.estimate <= 1, JSON.stringify(compacted));
});

test('between large records each run of small ones costs at most a page more than estimated; leases are counted', (t) => {
  const c = new ServerCluster([1]);
  const s = c.elect();
  const runs = 10;
  for (let i = 0; i < runs; i++) {
    put(c, s, `big-${i}`, 5000);
    put(c, s, `small-${i}`, 100);
  }
  const mixed = pages(s);
  t.log('alternating', mixed);
  t.true(mixed.estimate <= mixed.image && mixed.image - mixed.estimate <= runs, JSON.stringify(mixed));
  const lease = ok(call(c, s.leaseGrant.bind(s), { ttlSeconds: 600, id: 0n }));
  for (let i = 1n; i < 200n; i++) ok(call(c, s.leaseGrant.bind(s), { ttlSeconds: 600, id: lease.id + i }));
  const leased = pages(s);
  t.log('and 200 leases', leased);
  t.true(leased.estimate > mixed.estimate, 'leases take pages of their own once their bucket is not inline');
  t.true(leased.image - leased.estimate <= runs && leased.estimate - leased.image <= 1, JSON.stringify(leased));
});

test('the alarm bucket keys are etcd\'s AlarmMember: memberID varint (all 64 bits), alarm enum', (t) => {
  // etcd 3.4.23's default member id, as `etcdctl alarm list` printed it.
  t.is(marshalAlarmMember({ memberId: '13668033151171901709', alarm: 'NOSPACE' }).toString('hex'), '088df2f48ec1f7a6d7bd011001');
  t.is(marshalAlarmMember({ memberId: '1', alarm: 'CORRUPT' }).toString('hex'), '08011002');
  t.is(marshalAlarmMember({ memberId: '0', alarm: 'NONE' }).length, 0, 'zero fields are left out');
});
