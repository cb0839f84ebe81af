// The checker's small rules, one scenario each: what a request may write (gap/requests),
// which end of its window an error belongs at and which responses made a revision
// (fast/classify), real time against revision order (fast/real-time), and the
// interval count the gap facts use (gap/facts).

import test from 'ava';
import { errorSide, isMutation } from '../../jepsen-like/etcd/fast/classify.js';
import type { Placed } from '../../jepsen-like/etcd/fast/placed.js';
import { describeKey } from '../../jepsen-like/etcd/fast/placed.js';
import { realTimeVerdict, realTimeViolation } from '../../jepsen-like/etcd/fast/real-time.js';
import { countIn } from '../../jepsen-like/etcd/gap/facts.js';
import { mayPut, putsOneKeyTwice, writeWidth } from '../../jepsen-like/etcd/gap/requests.js';
import type { EtcdOp } from '../../jepsen-like/etcd/gap/types.js';
import type { EtcdRequest, EtcdResponse } from '../../jepsen-like/etcd/types.js';

const txn = (success: Extract<EtcdRequest, { type: 'txn' }>['success'], failure: typeof success = []): EtcdRequest =>
  ({ type: 'txn', compare: [], success, failure });

function op(id: number, call: number, ret: number, input: EtcdRequest, output: EtcdResponse): EtcdOp {
  return { id, process: id, call, ret, input, output, outcome: 'ok', line: id + 1 };
}

test('mayPut: a put or a txn branch putting that key (and value, when named)', (t) => {
  t.true(mayPut({ type: 'put', key: 'a', value: '1' }, 'a', undefined));
  t.true(mayPut({ type: 'put', key: 'a', value: '1' }, 'a', '1'));
  t.false(mayPut({ type: 'put', key: 'a', value: '1' }, 'a', '2'));
  t.false(mayPut({ type: 'put', key: 'a', value: '1' }, 'b', undefined));
  t.true(mayPut(txn([], [{ type: 'put', key: 'b', value: '2' }]), 'b', '2'), 'the failure branch counts too');
  t.false(mayPut({ type: 'delete', key: 'a' }, 'a', undefined));
});

test('writeWidth: one key per put or single delete, unbounded for a range delete or a lease revoke', (t) => {
  t.is(writeWidth({ type: 'put', key: 'a', value: '1' }), 1);
  t.is(writeWidth({ type: 'delete', key: 'a' }), 1);
  t.is(writeWidth({ type: 'delete', key: 'a', rangeEnd: 'z' }), Infinity);
  t.is(writeWidth(txn([{ type: 'put', key: 'a', value: '1' }, { type: 'put', key: 'b', value: '1' }], [{ type: 'put', key: 'c', value: '1' }])), 2);
  t.is(writeWidth(txn([])), 1, 'an empty txn still makes its revision count as one');
  t.is(writeWidth({ type: 'leaseRevoke', id: 1 }), Infinity, 'without the lease keys: unbounded');
  t.is(writeWidth({ type: 'leaseRevoke', id: 1 }, new Map([[1, new Set(['a', 'b'])]])), 2, 'a revoke deletes at most the keys put with its lease');
  t.is(writeWidth({ type: 'leaseRevoke', id: 2 }, new Map([[1, new Set(['a'])]])), 0);
});

test('putsOneKeyTwice: only a txn branch with the same key put twice', (t) => {
  t.true(putsOneKeyTwice(txn([{ type: 'put', key: 'a', value: '1' }, { type: 'put', key: 'a', value: '2' }])));
  t.false(putsOneKeyTwice(txn([{ type: 'put', key: 'a', value: '1' }], [{ type: 'put', key: 'a', value: '2' }])));
  t.false(putsOneKeyTwice({ type: 'put', key: 'a', value: '1' }));
});

test('errorSide: errors that grow true along the order go early or late; others are not placed', (t) => {
  t.is(errorSide('futureRev'), 'early');
  t.is(errorSide('leaseNotFound'), 'early');
  t.is(errorSide('compacted'), 'late');
  t.is(errorSide('leaseExists'), 'late');
  t.is(errorSide('noSpace'), undefined);
});

test('isMutation: what an ok response says about making a revision', (t) => {
  t.false(isMutation({ type: 'range', key: 'a' }, {}));
  t.true(isMutation({ type: 'put', key: 'a', value: '1' }, {}));
  t.true(isMutation({ type: 'delete', key: 'a' }, { deleted: 1 }));
  t.false(isMutation({ type: 'delete', key: 'a' }, { deleted: 0 }));
  t.is(isMutation({ type: 'delete', key: 'a' }, {}), undefined, 'a delete that does not say how many');
  t.is(isMutation({ type: 'leaseRevoke', id: 1 }, {}), undefined, 'a revoke writes iff keys were attached, unseen');
});

test('realTimeViolation: A returned before B was called, yet A sits after B in revision order', (t) => {
  const a = op(0, 0, 10, { type: 'put', key: 'a', value: '1' }, { revision: 3 });
  const b = op(1, 20, 30, { type: 'put', key: 'a', value: '2' }, { revision: 2 });
  const placedAB: Placed[] = [{ op: a, key: 6 }, { op: b, key: 4 }];
  t.deepEqual(realTimeViolation(placedAB)?.map((p) => p.op.id), [0, 1]);
  t.deepEqual(realTimeVerdict(placedAB)?.ops, [0, 1]);
  t.is(realTimeViolation([{ op: a, key: 4 }, { op: b, key: 6 }]), undefined, 'in order: no violation');
  const overlapping = op(2, 5, 30, { type: 'put', key: 'a', value: '3' }, { revision: 2 });
  t.is(realTimeViolation([{ op: a, key: 6 }, { op: overlapping, key: 4 }]), undefined, 'overlapping calls may go either way');
  const touching = op(3, 10, 30, { type: 'put', key: 'a', value: '4' }, { revision: 2 });
  t.is(realTimeViolation([{ op: a, key: 6 }, { op: touching, key: 4 }]), undefined, 'intervals are closed: a call at the return time overlaps');
});

test('describeKey and countIn: the replay keys and the interval count', (t) => {
  t.is(describeKey(6), 'revision 3');
  t.not(describeKey(7), describeKey(6));
  t.is(countIn([1, 3, 5, 7], 1, 5), 2, '(1, 5] holds 3 and 5');
  t.is(countIn([1, 3, 5, 7], 0, 7), 4);
  t.is(countIn([], 0, 10), 0);
});
