// The store counts its operations as etcd 3.4's mvcc does (mvccCounters.ts): per store
// transaction, with a txn counted when one did more than one operation. The process
// test (test/net/metrics/mvcc-metrics.test.ts) compares these against real etcd; this
// one pins the cases etcdctl cannot send: nested txns, ignore_value, refusals.
import test from 'ava';
import { MemoryBackend } from '../../core/mvcc/backend.js';
import { MvccStore } from '../../core/mvcc/store.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function fresh(): { store: MvccStore; next: () => number } {
  let index = 0;
  return { store: new MvccStore(new MemoryBackend()), next: () => ++index };
}

test('a nested txn: its compares count as ranges in the compare transaction, its ops in the write one', (t) => {
  const { store, next } = fresh();
  store.put({ key: enc('a'), value: enc('1') }, next());
  store.txn({
    compare: [{ key: enc('a'), target: 'version', result: 'greater', version: 0 }],
    success: [{ txn: {
      compare: [{ key: enc('b'), target: 'version', result: 'equal', version: 0 }, { key: enc('c'), target: 'version', result: 'equal', version: 0 }],
      success: [{ put: { key: enc('b'), value: enc('22') } }, { range: { key: enc('a') } }],
      failure: [],
    } }],
    failure: [],
  }, next());
  // Compare transaction: 3 ranges (one txn); write transaction: 1 put + 1 range (one txn).
  t.deepEqual(store.counters, { ranges: 4, puts: 2, deletes: 0, txns: 2, putBytes: 2 + 3 });
});

test('ignore_value ranges for the old value; a refused put with an unknown lease counts nothing', (t) => {
  const { store, next } = fresh();
  store.put({ key: enc('k'), value: enc('v') }, next());
  store.put({ key: enc('k'), value: enc(''), ignoreValue: true }, next());
  t.deepEqual(store.counters, { ranges: 1, puts: 2, deletes: 0, txns: 1, putBytes: 2 + 2 });
  store.put({ key: enc('k'), value: enc('v'), lease: 99n }, next());
  t.deepEqual(store.counters, { ranges: 1, puts: 2, deletes: 0, txns: 1, putBytes: 4 });
});

test('the server\'s own reads (peek) count nothing; a compaction counts one range', (t) => {
  const { store, next } = fresh();
  store.put({ key: enc('k'), value: enc('v') }, next());
  store.peek({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]), countOnly: true });
  t.is(store.counters.ranges, 0);
  store.compact({ revision: 2 }, next());
  t.is(store.counters.ranges, 1);
});
