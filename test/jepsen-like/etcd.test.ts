// The etcd KV model, the revision-directed fast path and its WGL fallback.
import test from 'ava';
import fc from 'fast-check';
import { checkEtcdHistory } from '../../jepsen-like/etcd/check.js';
import { revisionDirectedCheck } from '../../jepsen-like/etcd/fast-path.js';
import { etcdHistoryText, generateEtcdHistory } from '../../jepsen-like/etcd/generate.js';
import { parseEtcdHistory } from '../../jepsen-like/etcd/parse.js';
import { ModelStore } from '../../jepsen-like/etcd/store.js';
import type { EtcdRequest, EtcdResponse } from '../../jepsen-like/etcd/types.js';
import type { Operation } from '../../jepsen-like/history.js';
import { assertFastAgreesUnderMutation } from './differential.js';
import { HistoryFormatError } from '../../jepsen-like/history.js';

type EtcdOp = Operation<EtcdRequest, EtcdResponse>;

// The hand-written histories below count revisions from 0 (the empty store), as the
// checker did before it took etcd's numbering; generated ones use etcd's (from 1).
const FROM_ZERO = { initialRevision: 0 } as const;

test('store: revisions, versions, prev_kv, deletes, ranges at old revisions, compaction', (t) => {
  const s = new ModelStore({ initialRevision: 0 });
  t.like(s.apply({ type: 'put', key: 'a', value: '1', prevKv: true }), { revision: 1, prevKv: null });
  t.like(s.apply({ type: 'put', key: 'a', value: '2', prevKv: true }), {
    revision: 2,
    prevKv: { key: 'a', value: '1', createRevision: 1, modRevision: 1, version: 1 },
  });
  t.like(s.apply({ type: 'put', key: 'b', value: 'x' }), { revision: 3 });
  t.deepEqual(s.apply({ type: 'delete', key: 'zzz' }), { revision: 3, deleted: 0 });
  t.like(s.apply({ type: 'range', key: 'a' }), { revision: 3, count: 1, kvs: [{ value: '2', version: 2, createRevision: 1, modRevision: 2 }] });
  t.like(s.apply({ type: 'range', key: 'a', revision: 1 }), { kvs: [{ value: '1' }] });
  t.like(s.apply({ type: 'range', key: 'a', rangeEnd: '\u0000', limit: 1 }), { count: 2, more: true, kvs: [{ key: 'a' }] });
  t.like(s.apply({ type: 'range', key: '\u0000', rangeEnd: '\u0000' }), { count: 2 });
  t.deepEqual(s.apply({ type: 'range', key: 'a', rangeEnd: 'c', countOnly: true }), { revision: 3, kvs: [], count: 2, more: false });
  t.like(s.apply({ type: 'range', key: 'a', rangeEnd: 'c', keysOnly: true }), { kvs: [{ key: 'a', value: '' }, { key: 'b', value: '' }] });
  t.like(s.apply({ type: 'delete', key: 'a', rangeEnd: 'c', prevKv: true }), { revision: 4, deleted: 2, prevKvs: [{ key: 'a' }, { key: 'b' }] });
  t.like(s.apply({ type: 'put', key: 'a', value: '3' }), { revision: 5 });
  t.like(s.apply({ type: 'range', key: 'a' }), { kvs: [{ version: 1, createRevision: 5 }] });
  t.deepEqual(s.apply({ type: 'range', key: 'a', revision: 9 }), { error: 'futureRev' });
  t.deepEqual(s.apply({ type: 'compact', revision: 3 }), { revision: 5 });
  t.deepEqual(s.apply({ type: 'compact', revision: 3 }), { error: 'compacted' });
  t.deepEqual(s.apply({ type: 'compact', revision: 6 }), { error: 'futureRev' });
  t.deepEqual(s.apply({ type: 'range', key: 'a', revision: 2 }), { error: 'compacted' });
  t.like(s.apply({ type: 'range', key: 'a', revision: 3 }), { kvs: [{ value: '2' }] });
});

test('store: txn compares, one revision per txn, value compare on a missing key is false', (t) => {
  const s = new ModelStore({ initialRevision: 0 });
  const create = (k: string, v: string): EtcdRequest => ({
    type: 'txn',
    compare: [{ key: k, target: 'create', result: '=', value: 0 }],
    success: [{ type: 'put', key: k, value: v }, { type: 'put', key: `${k}2`, value: v }, { type: 'range', key: k }],
    failure: [{ type: 'range', key: k }],
  });
  t.like(s.apply(create('a', '1')), { revision: 1, succeeded: true, responses: [{ revision: 1 }, { revision: 1 }, { kvs: [{ value: '1', modRevision: 1 }] }] });
  t.like(s.apply(create('a', '2')), { revision: 1, succeeded: false, responses: [{ kvs: [{ value: '1' }] }] });
  t.like(s.apply({ type: 'txn', compare: [{ key: 'nope', target: 'value', result: '!=', value: 'x' }], success: [], failure: [] }), { succeeded: false });
  for (const [target, result, value, expected] of [
    ['version', '=', 1, true],
    ['mod', '<', 2, true],
    ['mod', '>', 1, false],
    ['value', '=', '1', true],
    ['lease', '=', 0, true],
  ] as const) {
    t.like(s.apply({ type: 'txn', compare: [{ key: 'a', target, result, value }], success: [], failure: [] }), { succeeded: expected }, `${target} ${result} ${value}`);
  }
});

test('store: leases attach keys, revoke deletes them at one revision, unknown leases are errors', (t) => {
  const s = new ModelStore({ initialRevision: 0 });
  t.deepEqual(s.apply({ type: 'put', key: 'a', value: '1', lease: 7 }), { error: 'leaseNotFound' });
  t.deepEqual(s.apply({ type: 'leaseGrant', id: 7 }), { revision: 0 });
  t.deepEqual(s.apply({ type: 'leaseGrant', id: 7 }), { error: 'leaseExists' });
  s.apply({ type: 'put', key: 'a', value: '1', lease: 7 });
  s.apply({ type: 'put', key: 'b', value: '1', lease: 7 });
  t.deepEqual(s.apply({ type: 'leaseRevoke', id: 7 }), { revision: 3 });
  t.like(s.apply({ type: 'range', key: 'a', rangeEnd: 'c' }), { count: 0 });
  t.deepEqual(s.apply({ type: 'leaseRevoke', id: 7 }), { error: 'leaseNotFound' });
  t.like(s.apply({ type: 'txn', compare: [], success: [{ type: 'put', key: 'c', value: '1', lease: 8 }], failure: [] }), { error: 'leaseNotFound' });
});

const op = (id: number, call: number, ret: number, input: EtcdRequest, output: EtcdResponse | undefined): EtcdOp =>
  output === undefined
    ? { id, process: id, call, ret: Infinity, input, output, outcome: 'unknown', line: id + 1 }
    : { id, process: id, call, ret, input, output, outcome: 'ok', line: id + 1 };

test('fast path: a stale read is illegal', (t) => {
  const history = [
    op(0, 0, 1, { type: 'put', key: 'a', value: '1' }, { revision: 1 }),
    op(1, 2, 3, { type: 'put', key: 'a', value: '2' }, { revision: 2 }),
    op(2, 4, 5, { type: 'range', key: 'a' }, { revision: 1, kvs: [{ key: 'a', value: '1' }] }),
  ];
  const result = revisionDirectedCheck(history, FROM_ZERO);
  t.is(result.verdict, 'illegal');
  t.is(checkEtcdHistory(history, FROM_ZERO).result.verdict, 'illegal');
});

test('fast path: duplicate revisions, gaps and wrong responses are illegal', (t) => {
  const put = (id: number, v: string, rev: number): EtcdOp => op(id, id * 10, id * 10 + 5, { type: 'put', key: 'a', value: v }, { revision: rev });
  t.like(revisionDirectedCheck([put(0, '1', 1), put(1, '2', 1)], FROM_ZERO), { verdict: 'illegal', ops: [0, 1] });
  t.like(revisionDirectedCheck([put(0, '1', 1), put(1, '2', 3)], FROM_ZERO), { verdict: 'illegal' });
  t.like(revisionDirectedCheck([put(0, '1', 1), op(1, 20, 30, { type: 'range', key: 'a' }, { revision: 1, kvs: [{ value: '9' }] })], FROM_ZERO), {
    verdict: 'illegal',
    ops: [1],
  });
  t.is(revisionDirectedCheck([put(0, '1', 1), put(1, '2', 2)], FROM_ZERO).verdict, 'ok');
});

test('fast path: unknown writes fill gaps (named by a read, or guessed); a txn error goes to the search', (t) => {
  const named = [
    op(0, 0, 1, { type: 'put', key: 'a', value: '1' }, { revision: 1 }),
    op(1, 2, 0, { type: 'put', key: 'a', value: '2' }, undefined),
    op(2, 3, 4, { type: 'put', key: 'b', value: '3' }, { revision: 3 }),
    op(3, 5, 6, { type: 'range', key: 'a' }, { revision: 3, kvs: [{ key: 'a', value: '2', modRevision: 2 }] }),
  ];
  t.is(revisionDirectedCheck(named, FROM_ZERO).verdict, 'ok');
  // Nobody saw revision 2: the fast path guesses a filler and verifies the guess by replay.
  t.is(revisionDirectedCheck(named.slice(0, 3), FROM_ZERO).verdict, 'ok');
  // Only an unknown delete can fill it: guessed from the key that should be gone.
  const deleted = [
    op(0, 0, 1, { type: 'put', key: 'a', value: '1' }, { revision: 1 }),
    op(1, 2, 0, { type: 'delete', key: 'a' }, undefined),
    op(2, 3, 4, { type: 'range', key: 'a' }, { revision: 2, kvs: [], count: 0 }),
  ];
  t.is(revisionDirectedCheck(deleted, FROM_ZERO).verdict, 'ok');
  // A txn's error depends on its branch, not just its place: the search decides.
  const txnError = [
    op(0, 0, 1, { type: 'put', key: 'a', value: '1' }, { revision: 1 }),
    op(1, 2, 3, { type: 'txn', compare: [], success: [{ type: 'put', key: 'b', value: '2', lease: 5 }], failure: [] }, { error: 'leaseNotFound' }),
  ];
  t.is(revisionDirectedCheck(txnError, FROM_ZERO).verdict, 'inconclusive');
  const settled = checkEtcdHistory(txnError, FROM_ZERO);
  t.is(settled.result.verdict, 'ok');
  t.regex(settled.method, /^search/);
  // An error response has no revision: the search decides.
  const errored = [
    op(0, 0, 1, { type: 'compact', revision: 0 }, { revision: 0 }),
    op(1, 2, 3, { type: 'compact', revision: 0 }, { error: 'compacted' }),
  ];
  t.is(checkEtcdHistory(errored, FROM_ZERO).result.verdict, 'ok');
});

test('generated etcd histories are ok; one corrupted read makes them illegal', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.nat(), (seed, pick) => {
      const history = generateEtcdHistory({ ops: 300, clients: 8, keys: 6, unknownRate: 0.02, seed, leases: seed % 2 === 0 });
      if (checkEtcdHistory(history, { timeoutMs: 10_000 }).result.verdict !== 'ok') return false;
      const reads = history.filter((o) => o.input.type === 'range' && o.outcome === 'ok' && o.output?.['error'] === undefined);
      const victim = reads[pick % reads.length];
      if (victim === undefined) return true;
      const mutated = history.map((o) =>
        o === victim ? { ...o, output: { ...o.output, kvs: [{ key: 'k000', value: 'never written' }] } } : o,
      );
      return checkEtcdHistory(mutated, { timeoutMs: 10_000 }).result.verdict === 'illegal';
    }),
    { numRuns: 60 },
  );
  t.pass();
});

test('small generated histories with unknown deletes are settled by the search', (t) => {
  for (let seed = 1; seed <= 20; seed++) {
    const history = generateEtcdHistory({ ops: 40, clients: 4, keys: 3, unknownRate: 0.1, seed, unknownDeletes: true });
    t.is(checkEtcdHistory(history, { timeoutMs: 20_000 }).result.verdict, 'ok', `seed ${seed}`);
  }
});

test('the JSON-lines format round-trips, and malformed lines name their line', (t) => {
  const history = generateEtcdHistory({ ops: 200, clients: 5, keys: 4, unknownRate: 0.05, seed: 9 });
  const parsed = parseEtcdHistory(etcdHistoryText(history));
  t.is(parsed.length, history.length);
  t.is(checkEtcdHistory(parsed).result.verdict, 'ok');
  const lineOf = (text: string): number | undefined => {
    try {
      parseEtcdHistory(text);
    } catch (error: unknown) {
      if (error instanceof HistoryFormatError) return error.line;
      throw error;
    }
    return undefined;
  };
  const good = '{"process":1,"call":0,"return":1,"outcome":"ok","request":{"type":"put","key":"a","value":"1"},"response":{"revision":1}}';
  t.is(lineOf(`${good}\n{oops`), 2);
  t.is(lineOf(`${good}\n\n{"process":2,"call":0,"return":1,"outcome":"ok","request":{"type":"frob"},"response":{}}`), 3);
  t.is(lineOf('{"process":1,"call":0,"outcome":"ok","request":{"type":"range","key":"a"},"response":{}}'), 1);
  t.is(lineOf('{"process":1,"call":0,"return":1,"outcome":"maybe","request":{"type":"range","key":"a"}}'), 1);
  t.is(lineOf('{"process":1,"call":0,"return":null,"outcome":"unknown","request":{"type":"put","key":"a","value":"1"}}\n' + good.replace('"call":0,"return":1', '"call":5,"return":6')), 2);
  t.is(lineOf('{"process":1,"call":0,"return":1,"outcome":"ok","request":{"type":"txn","compare":[{"key":"a","target":"size","result":"=","value":1}]},"response":{}}'), 1);
  t.is(lineOf('{"process":1,"call":0,"return":1,"outcome":"fail","request":{"type":"leaseGrant"}}'), 1);
  t.is(parseEtcdHistory('{"process":1,"call":0,"return":1,"outcome":"fail","request":{"type":"leaseGrant","id":3}}').length, 0);
});

test('differential: the fast path never contradicts the WGL search on mutated small histories', (t) => {
  assertFastAgreesUnderMutation(t, {
    kinds: 5,
    numRuns: 200,
    history: (seed) => generateEtcdHistory({ ops: 40, clients: 4, keys: 3, unknownRate: 0.06, seed, unknownDeletes: seed % 2 === 0, leases: seed % 3 === 0 }),
    mutate: ({ victim, donor, kind, pick }) => {
      const out = victim.output;
      let changed: EtcdOp = victim;
      if (kind === 0 && out !== undefined) changed = { ...victim, output: { ...out, revision: Number(out['revision'] ?? 0) + (pick % 2 === 0 ? 1 : -1) } };
      if (kind === 1 && out !== undefined && Array.isArray(out['kvs'])) changed = { ...victim, output: { ...out, kvs: [] } };
      if (kind === 2 && Number.isFinite(victim.ret)) changed = { ...victim, call: donor.call, ret: donor.call + (victim.ret - victim.call) };
      if (kind === 3 && out !== undefined && typeof out['succeeded'] === 'boolean') changed = { ...victim, output: { ...out, succeeded: !out['succeeded'] } };
      if (kind === 4 && out !== undefined && victim.input.type === 'range') changed = { ...victim, output: { error: 'compacted' } };
      return changed;
    },
  });
});

test('an etcd history the fast path cannot settle, with no budget left, is unknown', (t) => {
  const txnError = [
    op(0, 0, 1, { type: 'put', key: 'a', value: '1' }, { revision: 1 }),
    op(1, 2, 3, { type: 'txn', compare: [], success: [{ type: 'put', key: 'b', value: '2', lease: 5 }], failure: [] }, { error: 'leaseNotFound' }),
  ];
  let clock = 0;
  const result = checkEtcdHistory(txnError, { ...FROM_ZERO, timeoutMs: 0, now: () => clock++ });
  t.is(result.result.verdict, 'unknown');
  t.regex(result.method, /^search/);
});
