// The fast path's stateful rules (jepsen-like/etcd/fast/), one scenario each:
// classifyByRevision and placeRevokes (classify.ts), the bucket order and its
// certainty (buckets.ts), the placement of error responses (floating.ts), and
// real time for unknown fillers (real-time.ts). Each asserts what a bug in the
// rule would change, including the refusals (docs/checker.md, rules 1-5).

import test from 'ava';
import { certainSlots, compactionSensitive, leasesOf, readAfterCompaction, replayOrder } from '../../jepsen-like/etcd/fast/buckets.js';
import type { Classified, Floating } from '../../jepsen-like/etcd/fast/classify.js';
import { classifyByRevision, isMutation, placeRevokes } from '../../jepsen-like/etcd/fast/classify.js';
import { ErrorConditions, leastHolding, PositionWindows, placeFloating, positionAfter, positionBefore, splitByOf } from '../../jepsen-like/etcd/fast/floating.js';
import type { Placed } from '../../jepsen-like/etcd/fast/placed.js';
import { isStirring } from '../../jepsen-like/etcd/fast/placed.js';
import { realTimeFit, realTimeVerdict } from '../../jepsen-like/etcd/fast/real-time.js';
import type { EtcdRequest, RangeRequest } from '../../jepsen-like/etcd/types.js';
import type { EtcdOp } from './scenario.js';
import { del, kv, ok, okPut, put, read, txn, unknown } from './scenario.js';

const compact = (id: number, call: number, ret: number, revision: number): EtcdOp => ok(id, call, ret, { type: 'compact', revision }, { revision });
const grant = (id: number, call: number, lease: number, revision: number): EtcdOp => ok(id, call, call + 1, { type: 'leaseGrant', id: lease }, { revision });
const revoke = (id: number, call: number, lease: number, revision: number): EtcdOp => ok(id, call, call + 1, { type: 'leaseRevoke', id: lease }, { revision });
/** An ok op whose response is the error `error` (no revision). */
const failed = (id: number, call: number, ret: number, input: EtcdRequest, error: string): EtcdOp => ok(id, call, ret, input, { error });
const oldRead = (revision: number): RangeRequest => ({ type: 'range', key: 'a', revision });

function classified(history: readonly EtcdOp[]): Classified {
  const out = classifyByRevision(history, 1);
  if ('verdict' in out) throw new Error(`unexpected refusal: ${out.reason}`);
  return out;
}

// --- classify.ts ----------------------------------------------------------

test('an error the fast path cannot place, a response without a revision, or a delete that does not say, is inconclusive', (t) => {
  t.like(classifyByRevision([failed(0, 0, 1, put('a', '1'), 'noSpace')], 1), { verdict: 'inconclusive' });
  t.like(classifyByRevision([ok(0, 0, 1, put('a', '1'), {})], 1), { verdict: 'inconclusive' });
  t.like(classifyByRevision([ok(0, 0, 1, del('a'), { revision: 2 })], 1), { verdict: 'inconclusive' });
});

test('a revision below the empty store\'s, a write claiming the empty store\'s, or two writes claiming one, is illegal', (t) => {
  t.like(classifyByRevision([okPut(0, 0, 'a', '1', 0)], 1), { verdict: 'illegal', ops: [0] });
  t.like(classifyByRevision([okPut(0, 0, 'a', '1', 1)], 1), { verdict: 'illegal', ops: [0] });
  t.like(classifyByRevision([okPut(0, 0, 'a', '1', 2), read(1, 1, 'a', 2, []), okPut(2, 3, 'b', '1', 2)], 1), { verdict: 'illegal', ops: [0, 2] });
  t.notThrows(() => classified([okPut(0, 0, 'a', '1', 2), unknown(1, 1, put('b', '1')), okPut(2, 3, 'b', '1', 3)]));
});

test('writes claim their revision, other ops sit in the bucket they saw, compactions and grants stir it, errors float', (t) => {
  const out = classified([
    okPut(0, 0, 'a', '1', 2),
    read(1, 2, 'a', 2, [kv('a', '1', 2, 2, 1)]),
    compact(2, 3, 4, 2),
    grant(3, 5, 1, 3),
    failed(4, 7, 8, oldRead(1), 'compacted'),
    revoke(5, 9, 1, 3),
    unknown(6, 10, put('b', '1')),
  ]);
  t.deepEqual([...out.mutationAt.keys()], [2]);
  t.deepEqual(out.placed.map((p) => [p.op.id, p.key]), [[0, 4], [1, 5], [2, 5], [3, 7]]);
  t.deepEqual([...out.stirredBuckets].sort(), [2, 3]);
  t.is(out.maxRevision, 3, 'the revoke\'s revision counts too');
  t.deepEqual(out.floating.map((f) => [f.op.id, f.side]), [[4, 'late']]);
  t.deepEqual(out.revokes.map((r) => [r.op.id, r.revision]), [[5, 3]]);
});

test('an ok revoke is offered as the writer of its revision only where no ok write claims it', (t) => {
  const out = classified([okPut(0, 0, 'a', '1', 2), revoke(1, 2, 1, 2), revoke(2, 4, 2, 3), revoke(3, 6, 3, 3), revoke(4, 8, 4, 1)]);
  const offered = placeRevokes(out, 1);
  t.deepEqual([...offered].map(([r, ops]) => [r, ops.map((op) => op.id)]), [[3, [2, 3]]], 'not at 2 (claimed), not at 1 (the empty store)');
  t.deepEqual(out.placed.filter((p) => p.op.input.type === 'leaseRevoke').map((p) => p.key), [5, 7, 7, 3], 'every revoke also sits in its bucket');
  t.deepEqual([...out.stirredBuckets].sort(), [1, 2, 3]);
});

test('isMutation on txns: the branch taken writes by putting, or by deleting something', (t) => {
  const guarded = txn([put('a', '1')], [{ type: 'range', key: 'a' }]);
  t.true(isMutation(guarded, { succeeded: true }));
  t.false(isMutation(guarded, { succeeded: false }), 'the failure branch only reads');
  t.is(isMutation(guarded, {}), undefined, 'no succeeded: which branch ran is unknown');
  const deleting = txn([{ type: 'range', key: 'b' }, del('a')]);
  t.true(isMutation(deleting, { succeeded: true, responses: [{}, { deleted: 1 }] }));
  t.false(isMutation(deleting, { succeeded: true, responses: [{}, { deleted: 0 }] }));
  t.is(isMutation(deleting, { succeeded: true, responses: [{}, {}] }), undefined);
  t.is(isMutation(deleting, { succeeded: true }), undefined);
  t.is(isMutation(deleting, { succeeded: true, responses: [{}, null] }), undefined, 'a sub-response that is not an object');
  t.false(isMutation({ type: 'compact', revision: 2 }, {}));
});

// --- buckets.ts -----------------------------------------------------------

test('compactionSensitive: only a read of a revision below the compaction can see it', (t) => {
  t.true(compactionSensitive(oldRead(2), 3));
  t.false(compactionSensitive(oldRead(3), 3));
  t.false(compactionSensitive({ type: 'range', key: 'a' }, 3), 'a read of the latest revision');
  t.true(compactionSensitive(txn([], [oldRead(1)]), 3));
  t.false(compactionSensitive(put('a', '1'), 3));
});

test('a read of an old revision invoked after a compaction of its bucket returned is flagged', (t) => {
  const c = compact(0, 0, 1, 3);
  const late = ok(1, 5, 6, oldRead(2), { revision: 3, kvs: [] });
  const placed = (...ops: EtcdOp[]): Placed[] => [{ op: c, key: 7 }, ...ops.map((op) => ({ op, key: 7 }))];
  const flagged = readAfterCompaction(placed(late), new Set([3]));
  t.is(flagged?.late, late);
  t.is(flagged?.compaction, c);
  t.is(readAfterCompaction(placed(late), new Set()), undefined, 'a bucket nothing stirs');
  t.is(readAfterCompaction(placed(ok(1, 0.5, 6, oldRead(2), { revision: 3 })), new Set([3])), undefined, 'invoked before it returned');
  t.is(readAfterCompaction(placed(ok(1, 5, 6, { type: 'range', key: 'a' }, { revision: 3 })), new Set([3])), undefined, 'a latest read');
  t.is(readAfterCompaction(placed(failed(1, 5, 6, oldRead(2), 'compacted')), new Set([3])), undefined, 'errors were placed already');
  const failedCompact: Placed = { op: failed(2, 0, 1, { type: 'compact', revision: 3 }, 'compacted'), key: 7 };
  t.is(readAfterCompaction([failedCompact, { op: late, key: 7 }], new Set([3])), undefined, 'a failed compaction changes nothing');
});

test('replay order in a bucket: reads, then the ops that stir it (compactions ascending), then errors placed late', (t) => {
  const write: Placed = { op: okPut(0, 20, 'a', '1', 3), key: 6 };
  const lateError: Placed = { op: failed(1, 0, 1, oldRead(1), 'compacted'), key: 7, late: true };
  const compactTo3: Placed = { op: compact(2, 1, 2, 3), key: 7 };
  const compactTo2: Placed = { op: compact(3, 5, 6, 2), key: 7 };
  const readLate: Placed = { op: read(4, 9, 'a', 3, []), key: 7 };
  const readEarly: Placed = { op: read(5, 3, 'a', 3, []), key: 7 };
  const order = [lateError, compactTo3, compactTo2, readLate, readEarly, write].sort(replayOrder);
  t.deepEqual(order.map((p) => p.op.id), [0, 5, 4, 3, 2, 1]);
});

test('a wrong answer is certain only outside stirred buckets, error responses and leases an unknown grant may change', (t) => {
  const certain = certainSlots([unknown(0, 0, { type: 'leaseGrant', id: 7 })], new Set([3]));
  t.false(certain({ op: read(1, 1, 'a', 3, []), key: 7 }), 'a stirred bucket');
  t.true(certain({ op: read(1, 1, 'a', 4, []), key: 9 }));
  t.false(certain({ op: failed(2, 1, 2, oldRead(1), 'compacted'), key: 9 }));
  t.false(certain({ op: ok(3, 1, 2, { type: 'put', key: 'a', value: '1', lease: 7 }, { revision: 4 }), key: 8 }));
  t.true(certain({ op: ok(3, 1, 2, { type: 'put', key: 'a', value: '1', lease: 8 }, { revision: 4 }), key: 8 }));
  t.false(certain({ op: ok(4, 1, 2, txn([{ type: 'put', key: 'a', value: '1', lease: 7 }]), { revision: 4, succeeded: true }), key: 8 }));
  const afterRevoke = certainSlots([unknown(0, 0, { type: 'leaseRevoke', id: 8 })], new Set());
  t.false(afterRevoke({ op: ok(3, 1, 2, { type: 'put', key: 'a', value: '1', lease: 8 }, { revision: 4 }), key: 8 }), 'an unknown revoke too');
});

test('leasesOf: the leases a request names', (t) => {
  t.deepEqual(leasesOf(put('a', '1')), []);
  t.deepEqual(leasesOf({ type: 'put', key: 'a', value: '1', lease: 0 }), []);
  t.deepEqual(leasesOf(txn([{ type: 'put', key: 'a', value: '1', lease: 3 }], [put('b', '1'), { type: 'put', key: 'c', value: '1', lease: 4 }])), [3, 4]);
  t.deepEqual(leasesOf({ type: 'leaseRevoke', id: 5 }), [5]);
  t.deepEqual(leasesOf({ type: 'range', key: 'a' }), []);
});

// --- floating.ts ----------------------------------------------------------

test('positions around an op: a compaction splits its bucket for revision errors, not for lease errors', (t) => {
  const write: Placed = { op: okPut(0, 0, 'a', '1', 2), key: 4 };
  const bucketRead: Placed = { op: read(1, 1, 'a', 2, []), key: 5 };
  const compaction: Placed = { op: compact(2, 1, 2, 2), key: 5 };
  t.deepEqual([positionAfter(write, 'compaction'), positionBefore(write, 'compaction')], [4, 3]);
  t.deepEqual([positionAfter(bucketRead, 'compaction'), positionBefore(bucketRead, 'compaction')], [4, 5]);
  t.deepEqual([positionAfter(compaction, 'compaction'), positionBefore(compaction, 'compaction')], [5, 4]);
  t.deepEqual([positionAfter(compaction, 'lease'), positionBefore(compaction, 'lease')], [4, 5]);
  t.is(splitByOf(failed(3, 0, 1, put('a', '1'), 'leaseNotFound')), 'lease');
  t.is(splitByOf(failed(3, 0, 1, oldRead(1), 'compacted')), 'compaction');
});

test('the window real time allows an error: after what returned before its call, before what was invoked after its return', (t) => {
  const placed: Placed[] = [
    { op: okPut(0, 0, 'a', '1', 2), key: 4 },
    { op: compact(1, 2, 3, 2), key: 5 },
    { op: okPut(2, 10, 'a', '2', 3), key: 6 },
  ];
  const windows = new PositionWindows(placed, 1, 3);
  t.deepEqual(windows.window(failed(3, 4, 5, oldRead(1), 'compacted')), { lo: 5, hi: 5 }, 'after the compaction, before revision 3');
  t.deepEqual(windows.window(failed(4, 4, 5, { type: 'put', key: 'a', value: '1', lease: 1 }, 'leaseNotFound')), { lo: 4, hi: 5 });
  t.deepEqual(windows.window(failed(5, -1, 100, oldRead(1), 'compacted')), { lo: 2, hi: 7 }, 'overlapping everything: the empty store to the top');
});

/** Compactions to 2 (bucket 2), 3 (bucket 3) and 1 (bucket 4), and lease 1 granted in bucket 3. */
const conditions = (...more: Placed[]): ErrorConditions =>
  new ErrorConditions([
    { op: compact(0, 0, 1, 2), key: 5 },
    { op: compact(1, 2, 3, 3), key: 7 },
    { op: compact(2, 4, 5, 1), key: 9 },
    { op: grant(3, 6, 1, 3), key: 7 },
    ...more,
  ]);

test('error conditions: the compact revision grows with the position; each error holds on a prefix or a suffix', (t) => {
  const c = conditions();
  t.deepEqual([4, 5, 7, 9].map((idx) => c.compactAt(idx)), [-1, 2, 3, 3], 'a later compaction to 1 lowers nothing');
  const compacted = failed(4, 0, 1, oldRead(1), 'compacted');
  t.deepEqual([c.holds(compacted, 4), c.holds(compacted, 5)], [false, true]);
  const future = failed(5, 0, 1, oldRead(5), 'futureRev');
  t.deepEqual([c.holds(future, 6), c.holds(future, 10)], [true, false]);
  const compactedCompact = failed(6, 0, 1, { type: 'compact', revision: 2 }, 'compacted');
  t.deepEqual([c.holds(compactedCompact, 4), c.holds(compactedCompact, 5)], [false, true]);
  t.true(c.holds(failed(7, 0, 1, { type: 'compact', revision: 9 }, 'futureRev'), 4));
  const noLease = failed(8, 0, 1, { type: 'put', key: 'a', value: '1', lease: 1 }, 'leaseNotFound');
  t.deepEqual([c.holds(noLease, 6), c.holds(noLease, 7)], [true, false]);
  const exists = failed(9, 0, 1, { type: 'leaseGrant', id: 1 }, 'leaseExists');
  t.deepEqual([c.holds(exists, 6), c.holds(exists, 7)], [false, true]);
  t.is(c.holds(failed(10, 0, 1, txn([put('a', '1')]), 'compacted'), 6), undefined, 'a txn error depends on more than its place');
  t.is(c.holds(failed(11, 0, 1, put('a', '1'), 'leaseNotFound'), 6), undefined, 'a put without a lease');
  t.is(c.holds(failed(12, 0, 1, oldRead(1), 'leaseExists'), 6), undefined);
  t.is(c.holds(failed(13, 0, 1, { type: 'compact', revision: 2 }, 'leaseExists'), 6), undefined);
});

test('with an ok revoke of its lease, leaseNotFound holds before the grant and from the revoke\'s bucket on; leaseExists goes to the search', (t) => {
  // Lease 1 granted in bucket 3 (position 7), revoked at revision 4 (position 9).
  const c = conditions({ op: revoke(13, 8, 1, 4), key: 9 });
  const noLease = failed(8, 0, 1, { type: 'put', key: 'a', value: '1', lease: 1 }, 'leaseNotFound');
  t.deepEqual([6, 7, 8, 9, 10].map((idx) => c.holds(noLease, idx)), [true, false, false, true, true]);
  t.is(c.leastEarly(noLease, 6, 12), 6, 'before the grant');
  t.is(c.leastEarly(noLease, 7, 12), 9, 'past the grant: the revoke\'s bucket, after it');
  t.is(c.leastEarly(noLease, 7, 8), 9, 'hi + 1: the window ends before the revoke');
  t.is(c.holds(failed(9, 0, 1, { type: 'leaseGrant', id: 1 }, 'leaseExists'), 8), undefined);
  // Another lease's errors are placed as without the revoke.
  t.is(c.holds(failed(10, 0, 1, { type: 'put', key: 'a', value: '1', lease: 2 }, 'leaseNotFound'), 8), true);
  // Two grants of one id: where it exists depends on more than the ok ops' places.
  const twice = conditions({ op: revoke(13, 8, 1, 4), key: 9 }, { op: grant(14, 20, 1, 5), key: 11 });
  t.is(twice.holds(noLease, 10), undefined);
});

test('placeFloating puts a leaseNotFound after the revoke that explains it, and refuses one whose window ends before the revoke', (t) => {
  const placed = (): Placed[] => [
    { op: okPut(0, 0, 'a', '1', 2), key: 4 },
    { op: grant(1, 1, 7, 2), key: 5 },
    { op: okPut(2, 10, 'a', '2', 3), key: 6 },
    { op: revoke(3, 12, 7, 3), key: 7 },
    { op: okPut(4, 30, 'a', '3', 4), key: 8 },
  ];
  const late = failed(5, 20, 25, { type: 'put', key: 'b', value: 'x', lease: 7 }, 'leaseNotFound');
  const into = placed();
  t.is(placeFloating(into, [{ op: late, side: 'early' }], 1, 4), undefined);
  t.deepEqual(into.find((p) => p.op === late), { op: late, key: 7, late: true }, 'bucket 3, after the revoke');
  // Invoked after the grant returned, answered before the revoke was invoked: nothing explains it.
  const early = failed(6, 3, 5, { type: 'put', key: 'b', value: 'x', lease: 7 }, 'leaseNotFound');
  t.regex(placeFloating(placed(), [{ op: early, side: 'early' }], 1, 4) ?? '', /no point in its real-time window/);
});

test('leastHolding finds the first position of a suffix, or one past the window when none holds', (t) => {
  const c = conditions();
  const compacted = failed(4, 0, 1, oldRead(1), 'compacted');
  t.is(leastHolding(c, compacted, 2, 9), 5);
  t.is(leastHolding(c, compacted, 6, 9), 6);
  t.is(leastHolding(c, compacted, 2, 4), 5, 'hi + 1: nothing in [2, 4]');
});

/** a = 1 at 2, a compaction to 2 in bucket 2 over [2, 20], a = 2 at 3 invoked at 30. */
const compactedStore = (): Placed[] => [
  { op: okPut(0, 0, 'a', '1', 2), key: 4 },
  { op: compact(1, 2, 20, 2), key: 5 },
  { op: okPut(2, 30, 'a', '2', 3), key: 6 },
];
const compactedError = failed(3, 0.5, 10, oldRead(1), 'compacted');
const futureError = failed(4, 11, 12, oldRead(3), 'futureRev');

test('a compacted error goes late in its bucket, after the compaction that explains it', (t) => {
  const placed = compactedStore();
  t.is(placeFloating(placed, [{ op: compactedError, side: 'late' }], 1, 3), undefined);
  t.deepEqual(placed[3], { op: compactedError, key: 5, late: true });
});

test('an early error takes the least position its window allows, but not before an error that returned before it', (t) => {
  const alone = compactedStore();
  t.is(placeFloating(alone, [{ op: futureError, side: 'early' }], 1, 3), undefined);
  t.deepEqual(alone[3], { op: futureError, key: 5 }, 'before the compaction');
  const both = compactedStore();
  const floating: Floating[] = [{ op: futureError, side: 'early' }, { op: compactedError, side: 'late' }];
  t.is(placeFloating(both, floating, 1, 3), undefined);
  t.deepEqual(both.find((p) => p.op === futureError), { op: futureError, key: 5, late: true }, 'after the compacted error, so after the compaction');
});

test('an error no point in its window explains, or one whose truth depends on more than its place, is left to the search', (t) => {
  const early = failed(3, 0.5, 1.5, oldRead(1), 'compacted'); // returned before the compaction was invoked
  t.regex(placeFloating(compactedStore(), [{ op: early, side: 'late' }], 1, 3) ?? '', /no point in its real-time window/);
  const txnError = failed(3, 0.5, 10, txn([put('a', '1')]), 'compacted');
  t.regex(placeFloating(compactedStore(), [{ op: txnError, side: 'late' }], 1, 3) ?? '', /cannot place the error/);
});

// --- real-time.ts and placed.ts ---------------------------------------------

test('an unknown write invoked after a read of revision 3 returned cannot make revision 3, but can make 4', (t) => {
  const fits = realTimeFit([
    { op: okPut(0, 0, 'a', '1', 2), key: 4 },
    { op: read(1, 5, 'a', 3, []), key: 7 },
    { op: unknown(2, 0, put('z', '1')), key: 6 },
  ]);
  const late = unknown(3, 10, put('b', '1'));
  t.false(fits(late, 3));
  t.true(fits(late, 4), 'monotone in the gap');
  t.true(fits(unknown(4, 3, put('b', '1')), 3), 'invoked before the read returned');
  t.true(fits(unknown(5, -1, put('b', '1')), 2), 'nothing returned before it');
  t.is(realTimeVerdict([{ op: okPut(0, 0, 'a', '1', 2), key: 4 }, { op: read(1, 5, 'a', 3, []), key: 7 }]), undefined);
});

test('isStirring: only successful compactions, lease grants and revokes change state without a revision', (t) => {
  t.true(isStirring(compact(0, 0, 1, 2)));
  t.true(isStirring(revoke(1, 0, 1, 2)));
  t.false(isStirring(failed(2, 0, 1, { type: 'compact', revision: 2 }, 'compacted')));
  t.false(isStirring(unknown(3, 0, { type: 'leaseGrant', id: 1 })));
  t.false(isStirring(okPut(4, 0, 'a', '1', 2)));
});
