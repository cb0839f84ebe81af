// etcd-visible details of the KV API, each observed on real etcd 3.4 (see the team's
// research notes, etcd-api.md §1.3, §1.16, §7). Each test is one fact a client sees.
import test from 'ava';
import { isEtcdError, type EtcdError } from '../../core/errors.js';
import { MemoryBackend } from '../../core/mvcc/backend.js';
import { MvccStore } from '../../core/mvcc/store.js';
import type { RangeResponse, TxnResponse } from '../../core/mvcc/types.js';
import { validatePut, validateRange, validateTxn } from '../../core/mvcc/validate.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
const dec = (b: Uint8Array): string => new TextDecoder().decode(b);

class Fixture {
  readonly store = new MvccStore(new MemoryBackend(), { leaseExists: (id) => id === 0n || id === 7n });
  private index = 0;
  put(key: string, value: string, lease = 0n): number {
    const r = this.store.put({ key: enc(key), value: enc(value), lease }, ++this.index);
    if (isEtcdError(r)) throw new Error(r.message);
    return r.revision;
  }
  del(key: string, end = ''): number {
    const r = this.store.deleteRange({ key: enc(key), rangeEnd: enc(end) }, ++this.index);
    if (isEtcdError(r)) throw new Error(r.message);
    return r.revision;
  }
  get(key: string, options: { end?: string; rev?: number; limit?: number } = {}): RangeResponse | EtcdError {
    return this.store.range({ key: enc(key), rangeEnd: enc(options.end ?? ''), revision: options.rev ?? 0, limit: options.limit ?? 0 });
  }
  ok(key: string, options: { end?: string; rev?: number; limit?: number } = {}): RangeResponse {
    const r = this.get(key, options);
    if (isEtcdError(r)) throw new Error(r.message);
    return r;
  }
  nextIndex(): number {
    return ++this.index;
  }
}

test('revisions start at 1; the first write gets 2; versions count puts', (t) => {
  const f = new Fixture();
  t.is(f.store.currentRevision(), 1);
  t.is(f.put('foo', 'bar'), 2);
  t.is(f.put('foo', 'baz'), 3);
  t.is(f.put('other', 'x'), 4);
  const kv = f.ok('foo').kvs[0];
  t.deepEqual(kv && [kv.createRevision, kv.modRevision, kv.version, dec(kv.value)], [2, 3, 2, 'baz']);
  t.is(f.ok('foo').revision, 4, 'the header carries the current revision');
});

test('a delete resets the version and a re-created key starts a new generation', (t) => {
  const f = new Fixture();
  f.put('k', 'a');
  f.put('k', 'b');
  t.is(f.del('k'), 4);
  f.put('k', 'c');
  const kv = f.ok('k').kvs[0];
  t.deepEqual(kv && [kv.createRevision, kv.version], [5, 1]);
  t.is(f.ok('k', { rev: 3 }).kvs.length, 1, 'the old generation is readable at its revision');
  t.is(f.ok('k', { rev: 4 }).kvs.length, 0, 'deleted at 4');
});

test('deleting nothing creates no revision', (t) => {
  const f = new Fixture();
  f.put('a', '1');
  t.is(f.del('zzz'), 2);
  t.is(f.store.currentRevision(), 2);
});

test('count ignores limit; more says there were more; "\\0" means from key', (t) => {
  const f = new Fixture();
  for (const k of ['a', 'b', 'c', 'd']) f.put(k, k);
  const r = f.ok('b', { end: '\0', limit: 2 });
  t.deepEqual(r.kvs.map((kv) => dec(kv.key)), ['b', 'c']);
  t.is(r.count, 3);
  t.true(r.more);
  t.is(f.ok('\0', { end: '\0' }).count, 4, 'key "\\0" with range_end "\\0" selects everything');
  t.is(f.ok('d', { end: 'a' }).count, 0, 'an inverted range is empty, not an error');
});

test('future and compacted revisions are refused with etcd texts; reading at the compaction point works', (t) => {
  const f = new Fixture();
  f.put('foo', '1');
  f.put('foo', '2');
  f.put('foo', '3');
  const future = f.get('foo', { rev: 100 });
  t.true(isEtcdError(future) && future.name === 'futureRev' && future.message === 'etcdserver: mvcc: required revision is a future revision');
  t.false(isEtcdError(f.store.compact({ revision: 3 }, f.nextIndex())));
  const old = f.get('foo', { rev: 2 });
  t.true(isEtcdError(old) && old.message === 'etcdserver: mvcc: required revision has been compacted');
  t.is(dec(f.ok('foo', { rev: 3 }).kvs[0]?.value ?? enc('')), '2');
  const again = f.store.compact({ revision: 3 }, f.nextIndex());
  t.true(isEtcdError(again) && again.name === 'compacted', 'compacting the same revision again');
});

test('compacting revision 0 or 1 on a fresh store succeeds', (t) => {
  const f = new Fixture();
  t.false(isEtcdError(f.store.compact({ revision: 1 }, f.nextIndex())));
});

test('a value compare on a missing key is false; a version compare sees 0', (t) => {
  const f = new Fixture();
  const valueCmp = f.store.txn({
    compare: [{ key: enc('missing'), target: 'value', value: enc(''), result: 'equal' }], success: [], failure: [],
  }, f.nextIndex()) as TxnResponse;
  t.false(valueCmp.succeeded);
  const versionCmp = f.store.txn({
    compare: [{ key: enc('missing'), target: 'version', version: 0, result: 'equal' }], success: [], failure: [],
  }, f.nextIndex()) as TxnResponse;
  t.true(versionCmp.succeeded);
});

test('a txn writes at one revision; its reads see its earlier writes; header is the new revision', (t) => {
  const f = new Fixture();
  f.put('x', '0');
  const r = f.store.txn({
    compare: [],
    success: [
      { range: { key: enc('x') } },
      { put: { key: enc('x'), value: enc('1') } },
      { put: { key: enc('y'), value: enc('2') } },
      { range: { key: enc('x') } },
    ],
    failure: [],
  }, f.nextIndex());
  if (isEtcdError(r)) throw new Error(r.message);
  t.is(r.revision, 3);
  const [before, , , after] = r.responses;
  t.true(before !== undefined && 'range' in before && before.range.revision === 2, 'read before the first write: pre-txn revision');
  t.true(after !== undefined && 'range' in after && dec(after.range.kvs[0]?.value ?? enc('')) === '1' && after.range.revision === 3);
  t.deepEqual(f.ok('y').kvs.map((kv) => kv.modRevision), [3]);
});

test('puts with unknown leases and ignore_* on missing keys are refused, and write nothing', (t) => {
  const f = new Fixture();
  const lease = f.store.put({ key: enc('k'), value: enc('v'), lease: 99n }, f.nextIndex());
  t.true(isEtcdError(lease) && lease.name === 'leaseNotFound' && lease.message === 'etcdserver: requested lease not found');
  const ignore = f.store.put({ key: enc('k'), value: enc(''), ignoreValue: true }, f.nextIndex());
  t.true(isEtcdError(ignore) && ignore.message === 'etcdserver: key not found');
  t.is(f.store.currentRevision(), 1);
  t.is(f.put('k', 'v', 7n), 2, 'a known lease is fine');
});

test('request validation: empty key, ignore_* misuse, too many ops, duplicate keys', (t) => {
  t.is(validateRange({ key: enc('') })?.message, 'etcdserver: key is not provided');
  t.is(validatePut({ key: enc('k'), value: enc('x'), ignoreValue: true })?.message, 'etcdserver: value is provided');
  t.is(validatePut({ key: enc('k'), value: enc(''), lease: 5n, ignoreLease: true })?.message, 'etcdserver: lease is provided');
  const put = (k: string): { put: { key: Uint8Array; value: Uint8Array } } => ({ put: { key: enc(k), value: enc('v') } });
  t.is(validateTxn({ compare: [], success: Array.from({ length: 129 }, (_, i) => put(`k${i}`)), failure: [] })?.message,
    'etcdserver: too many operations in txn request');
  t.is(validateTxn({ compare: [], success: Array.from({ length: 128 }, (_, i) => put(`k${i}`)), failure: [] }), null);
  t.is(validateTxn({ compare: [], success: [put('a'), put('a')], failure: [] })?.message, 'etcdserver: duplicate key given in txn request');
  t.is(validateTxn({ compare: [], success: [{ deleteRange: { key: enc('a'), rangeEnd: enc('c') } }, put('b')], failure: [] })?.name, 'duplicateKey');
  t.is(validateTxn({ compare: [], success: [put('a')], failure: [put('a')] }), null, 'then and else may share a key');
  t.is(validateTxn({
    compare: [], failure: [],
    success: [{ txn: { compare: [], success: [put('a')], failure: [put('a')] } }],
  }), null, 'a nested txn\'s branches may share a key');
  t.is(validateTxn({
    compare: [], failure: [],
    success: [put('a'), { txn: { compare: [], success: [put('a')], failure: [] } }],
  })?.name, 'duplicateKey', 'a nested put colliding with its parent branch');
  // etcd's duplicate check reads a delete's range_end literally: "\0" sorts below "a",
  // so [a, "\0") is an empty interval there (it still deletes from a on when applied).
  const del = (k: string, end: string): { deleteRange: { key: Uint8Array; rangeEnd: Uint8Array } } => ({ deleteRange: { key: enc(k), rangeEnd: enc(end) } });
  t.is(validateTxn({ compare: [], success: [del('a', '\0'), put('a')], failure: [] }), null, 'delete [a, "\\0") and put a: accepted, as etcd does');
  t.is(validateTxn({ compare: [], success: [del('a', '\0'), put('b')], failure: [] }), null);
  t.is(validateTxn({
    compare: [], failure: [],
    success: [{ txn: { compare: [], success: [del('a', '\0')], failure: [] } }, put('c')],
  }), null, 'also when the delete is in a nested txn');
  t.is(validateTxn({ compare: [], success: [del('a', 'c'), put('b')], failure: [] })?.name, 'duplicateKey', 'a real range still collides');
  t.is(validateTxn({ compare: [], success: [del('a', ''), put('a')], failure: [] })?.name, 'duplicateKey', 'and a single key');
});

test('a txn deleting [a, "\\0") and putting a applies as etcd: the delete runs from key a on, then the put', (t) => {
  const f = new Fixture();
  for (const k of ['a', 'b', 'c']) f.put(k, 'old');
  const r = f.store.txn({
    compare: [], failure: [],
    success: [{ deleteRange: { key: enc('a'), rangeEnd: enc('\0') } }, { put: { key: enc('a'), value: enc('new') } }],
  }, f.nextIndex()) as TxnResponse;
  t.false(isEtcdError(r));
  t.deepEqual(f.ok('\0', { end: '\0' }).kvs.map((kv) => `${dec(kv.key)}=${dec(kv.value)}`), ['a=new']);
});

test('sorting: NONE with a non-KEY target ascends; DESCEND by key reverses; limit applies after sorting', (t) => {
  const f = new Fixture();
  f.put('a', '3');
  f.put('b', '1');
  f.put('c', '2');
  f.put('b', '9');
  const byMod = f.store.range({ key: enc('a'), rangeEnd: enc('\0'), sortOrder: 'none', sortTarget: 'mod' }) as RangeResponse;
  t.deepEqual(byMod.kvs.map((kv) => dec(kv.key)), ['a', 'c', 'b']);
  const desc = f.store.range({ key: enc('a'), rangeEnd: enc('\0'), sortOrder: 'descend', sortTarget: 'key', limit: 2 }) as RangeResponse;
  t.deepEqual(desc.kvs.map((kv) => dec(kv.key)), ['c', 'b']);
  t.true(desc.more);
  t.is(desc.count, 3);
});

test('a standalone put checks its lease before ignore_value\'s key; inside a txn the key comes first', (t) => {
  const f = new Fixture();
  const alone = f.store.put({ key: enc('missing'), value: enc(''), lease: 99n, ignoreValue: true }, f.nextIndex());
  t.is(isEtcdError(alone) ? alone.message : 'ok', 'etcdserver: requested lease not found');
  t.is(f.store.appliedIndex(), 1, 'the refused entry is still recorded as applied');
  const inTxn = f.store.txn({ compare: [], failure: [], success: [{ put: { key: enc('missing'), value: enc(''), lease: 99n, ignoreValue: true } }] }, f.nextIndex());
  t.is(isEtcdError(inTxn) ? inTxn.message : 'ok', 'etcdserver: key not found');
});
