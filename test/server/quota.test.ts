// The backend quota and the alarms it raises, on the server core: a write over the quota
// is refused with etcd's text and raises this member's NOSPACE alarm through Raft; while
// it is raised every member refuses puts, txns with puts and lease grants at apply, and
// lets deletes, reads and compaction through; CORRUPT refuses every write; the alarms are
// replicated state, carried by snapshots.
import test from 'ava';
import { isEtcdError } from '../../core/errors.js';
import { EtcdStateMachine } from '../../core/server/stateMachine.js';
import type { EtcdServer } from '../../core/server/server.js';
import type { AlarmRequest } from '../../core/server/alarms.js';
import { DEFAULT_QUOTA_BYTES, fitsQuota, quotaBytesOf, quotaCost } from '../../core/server/quota.js';
import { call, enc, ok, ServerCluster } from './cluster.js';

const QUOTA = 13 * 4096; // etcd's e2e TestCtlV3Alarm
const BIG = new Uint8Array(4096).fill(0x62);

function alarm(c: ServerCluster, s: EtcdServer, request: AlarmRequest): string[] {
  return ok(call(c, s.alarm.bind(s), request)).alarms.map((a) => `${a.memberId}/${a.alarm}`);
}

/** Puts 4 KiB values until the quota refuses one; the number that went in. */
function fill(c: ServerCluster, s: EtcdServer): number {
  for (let n = 0; n < 100; n++) {
    const r = call(c, s.put.bind(s), { key: enc('big'), value: BIG });
    if (isEtcdError(r)) {
      if (r.message !== 'etcdserver: mvcc: database space exceeded') throw new Error(r.message);
      return n;
    }
  }
  throw new Error('the quota never refused a put');
}

test('etcd\'s costs: put 256 + key + value, txn its costlier branch, lease grant 64, the rest nothing', (t) => {
  const put = { key: enc('k'), value: enc('vv') };
  t.is(quotaCost({ kind: 'put', put }), 259);
  t.is(quotaCost({ kind: 'txn', txn: { compare: [], success: [{ put }, { put }], failure: [{ put }, { range: { key: enc('k') } }] } }), 518);
  t.is(quotaCost({ kind: 'txn', txn: { compare: [], success: [{ deleteRange: { key: enc('k') } }], failure: [] } }), 0);
  t.is(quotaCost({ kind: 'leaseGrant', id: 0n, ttlSeconds: 10 }), 64);
  t.is(quotaCost({ kind: 'deleteRange', deleteRange: { key: enc('k') } }), 0);
  t.is(quotaCost({ kind: 'compact', compact: { revision: 1 } }), 0);
  t.true(fitsQuota({ sizeBytes: 10, cost: 89, quotaBytes: 100 }));
  t.false(fitsQuota({ sizeBytes: 10, cost: 90, quotaBytes: 100 }), 'size + cost must stay below the quota');
  t.true(fitsQuota({ sizeBytes: 1000, cost: 0, quotaBytes: 100 }), 'a request that costs nothing always fits');
  t.is(quotaBytesOf(0), DEFAULT_QUOTA_BYTES);
  t.is(quotaBytesOf(-1), Infinity);
  t.is(quotaBytesOf(4096), 4096);
});

test('over the quota a put is refused, NOSPACE is raised on every member; deletes and compaction go on until disarmed', (t) => {
  const c = new ServerCluster([1, 2, 3], { quotaBackendBytes: QUOTA });
  const leader = c.elect();
  const follower = [1, 2, 3].map((id) => c.get(id)).find((s) => s !== leader);
  if (follower === undefined) throw new Error('no follower');
  ok(call(c, follower.put.bind(follower), { key: enc('small'), value: enc('a'.repeat(64)) }));
  t.true(fill(c, follower) > 0, 'some puts fit before the quota');
  for (const id of [1, 2, 3]) {
    t.deepEqual(c.get(id).machine.alarms.get('NONE'), [{ memberId: String(follower.memberId), alarm: 'NOSPACE' }], `member ${id} lists the alarm`);
  }
  // Refused at apply on every member now, whoever proposes, however small.
  const tiny = call(c, leader.put.bind(leader), { key: enc('x'), value: enc('y') });
  t.true(isEtcdError(tiny) && tiny.name === 'noSpace');
  const txnPut = call(c, leader.txn.bind(leader), { compare: [], success: [], failure: [{ put: { key: enc('x'), value: enc('y') } }] });
  t.true(isEtcdError(txnPut) && txnPut.name === 'noSpace', 'a put in either branch costs');
  const grant = call(c, leader.leaseGrant.bind(leader), { ttlSeconds: 60, id: 0n });
  t.true(isEtcdError(grant) && grant.name === 'noSpace');
  ok(call(c, leader.txn.bind(leader), { compare: [], success: [{ deleteRange: { key: enc('nothing') } }], failure: [] }));
  t.is(ok(call(c, leader.deleteRange.bind(leader), { key: enc('small') })).deleted, 1);
  const before = leader.machine.backendSizeBytes();
  ok(call(c, leader.compact.bind(leader), { revision: leader.machine.store.currentRevision() }));
  t.true(leader.machine.backendSizeBytes() < before, 'compaction frees space');
  t.true(isEtcdError(call(c, leader.put.bind(leader), { key: enc('x'), value: enc('y') })), 'still refused: the alarm is raised');
  t.deepEqual(alarm(c, leader, { action: 'deactivate', memberId: String(follower.memberId), alarm: 'NOSPACE' }), [`${follower.memberId}/NOSPACE`]);
  ok(call(c, leader.put.bind(leader), { key: enc('x'), value: enc('y') }));
  for (const id of [1, 2, 3]) t.deepEqual(c.get(id).machine.alarms.get('NONE'), []);
});

test('a put that fits when proposed but not when applied is applied, answered "no space", and raises the alarm', (t) => {
  const c = new ServerCluster([1, 2, 3], { quotaBackendBytes: QUOTA });
  const s = c.elect();
  const answers: string[] = [];
  // All pass the check on arrival (none is committed before the network runs); the last
  // crosses the quota as it applies, on every member.
  const fits = Math.floor((QUOTA - s.machine.backendSizeBytes()) / (2 * 4096));
  for (let i = 0; i < fits + 1; i++) {
    s.put({ key: enc(`k${i}`), value: BIG }, (r) => { answers.push(isEtcdError(r) ? r.name : 'ok'); });
  }
  c.run(5);
  t.deepEqual(answers, [...Array.from({ length: fits }, () => 'ok'), 'noSpace']);
  for (const id of [1, 2, 3]) {
    const m = c.get(id);
    t.is(ok(call(c, m.range.bind(m), { key: enc('k'), rangeEnd: enc('l'), countOnly: true, serializable: true })).count, fits + 1, 'every put was applied');
  }
  // Every member crossed its quota, and each raised its own alarm.
  t.deepEqual(s.machine.alarms.get('NOSPACE').map((a) => a.memberId).sort(), ['1', '2', '3']);
});

test('CORRUPT refuses every write, compaction and lease call; reads and read-only txns are served', (t) => {
  const c = new ServerCluster([1, 2, 3]);
  const s = c.elect();
  ok(call(c, s.put.bind(s), { key: enc('k'), value: enc('v') }));
  const lease = ok(call(c, s.leaseGrant.bind(s), { ttlSeconds: 60, id: 0n }));
  t.deepEqual(alarm(c, s, { action: 'activate', memberId: '7', alarm: 'CORRUPT' }), ['7/CORRUPT']);
  const refused = [
    call(c, s.put.bind(s), { key: enc('k'), value: enc('w') }),
    call(c, s.deleteRange.bind(s), { key: enc('k') }),
    call(c, s.txn.bind(s), { compare: [], success: [{ deleteRange: { key: enc('k') } }], failure: [] }),
    call(c, s.compact.bind(s), { revision: 1 }),
    call(c, s.leaseGrant.bind(s), { ttlSeconds: 60, id: 0n }),
    call(c, s.leaseRevoke.bind(s), { id: lease.id }),
  ];
  for (const r of refused) t.true(isEtcdError(r) && r.message === 'etcdserver: corrupt cluster', JSON.stringify(r));
  t.is(ok(call(c, s.range.bind(s), { key: enc('k') })).count, 1);
  ok(call(c, s.txn.bind(s), { compare: [], success: [{ range: { key: enc('k') } }], failure: [] }));
  alarm(c, s, { action: 'deactivate', memberId: '7', alarm: 'CORRUPT' });
  ok(call(c, s.put.bind(s), { key: enc('k'), value: enc('w') }));
});

test('alarm GET lists by type; ACTIVATE twice keeps one; DEACTIVATE of an absent alarm answers nothing', (t) => {
  const c = new ServerCluster([1]);
  const s = c.elect();
  alarm(c, s, { action: 'activate', memberId: '5', alarm: 'NOSPACE' });
  t.deepEqual(alarm(c, s, { action: 'activate', memberId: '5', alarm: 'NOSPACE' }), ['5/NOSPACE']);
  alarm(c, s, { action: 'activate', memberId: '6', alarm: 'CORRUPT' });
  t.deepEqual(alarm(c, s, { action: 'get', memberId: '0', alarm: 'NONE' }), ['5/NOSPACE', '6/CORRUPT']);
  t.deepEqual(alarm(c, s, { action: 'get', memberId: '0', alarm: 'CORRUPT' }), ['6/CORRUPT']);
  t.deepEqual(alarm(c, s, { action: 'deactivate', memberId: '6', alarm: 'NOSPACE' }), []);
});

test('the alarms travel in the snapshot: a member restored from it refuses as the others do', (t) => {
  const c = new ServerCluster([1]);
  const s = c.elect();
  alarm(c, s, { action: 'activate', memberId: '1', alarm: 'NOSPACE' });
  const restored = new EtcdStateMachine({ minLeaseTtlSeconds: 1, clock: { nowMs: () => 0 }, onResult: () => undefined });
  restored.restore(s.machine.snapshot());
  t.deepEqual(restored.alarms.get('NONE'), [{ memberId: '1', alarm: 'NOSPACE' }]);
  t.is(restored.alarms.refusalAtApply({ kind: 'put', put: { key: enc('k'), value: enc('v') } })?.name, 'noSpace');
  t.is(restored.alarms.refusalAtApply({ kind: 'deleteRange', deleteRange: { key: enc('k') } }), null);
});
