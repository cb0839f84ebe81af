// Unknown writes and the revisions no ok op claims: which ones the checker may
// drop, which ones it must keep, and that pruning never turns illegal into ok.
// Revisions are etcd's: the empty store is at 1, the first write makes 2.
import test from 'ava';
import fc from 'fast-check';
import { checkOperations } from '../../jepsen-like/check.js';
import { checkEtcdHistory } from '../../jepsen-like/etcd/check.js';
import { revisionDirectedCheck } from '../../jepsen-like/etcd/fast-path.js';
import { generateEtcdHistory } from '../../jepsen-like/etcd/generate.js';
import { etcdModel } from '../../jepsen-like/etcd/model.js';
import type { EtcdRequest, EtcdResponse, KeyValue } from '../../jepsen-like/etcd/types.js';
import type { Operation } from '../../jepsen-like/history.js';
import { assertFastAgreesUnderMutation } from './differential.js';

type EtcdOp = Operation<EtcdRequest, EtcdResponse>;

const ok = (id: number, call: number, ret: number, input: EtcdRequest, output: EtcdResponse): EtcdOp => ({
  id, process: id, call, ret, input, output, outcome: 'ok', line: id + 1,
});
const unknown = (id: number, call: number, input: EtcdRequest): EtcdOp => ({
  id, process: id, call, ret: Infinity, input, output: undefined, outcome: 'unknown', line: id + 1,
});
const kv = (key: string, value: string, createRevision: number, modRevision: number, version: number): KeyValue => ({
  key, value, createRevision, modRevision, version, lease: 0,
});
const read = (id: number, call: number, key: string, revision: number, kvs: KeyValue[]): EtcdOp =>
  ok(id, call, call + 1, { type: 'range', key }, { revision, kvs: kvs.map((x) => ({ ...x })), count: kvs.length, more: false });

/** a = 1 written at revision 2, an unknown put of a = 2, then a read of `a` at `revision` showing `shown`. */
const putUnknownPutRead = (revision: number, shown: KeyValue): EtcdOp[] => [
  ok(0, 0, 1, { type: 'put', key: 'a', value: '1' }, { revision: 2 }),
  unknown(1, 2, { type: 'put', key: 'a', value: '2' }),
  read(2, 5, 'a', revision, [shown]),
];

test('an unknown write nobody observed is dropped', (t) => {
  t.is(revisionDirectedCheck(putUnknownPutRead(2, kv('a', '1', 2, 2, 1))).verdict, 'ok');
});

test('an unknown write a read observed is kept, at the revision the read names', (t) => {
  const history = putUnknownPutRead(3, kv('a', '2', 2, 3, 2));
  t.is(revisionDirectedCheck(history).verdict, 'ok');
  // The same read with a value nobody wrote: no filler explains it.
  const forged = history.map((op) => (op.id === 2 ? read(2, 5, 'a', 3, [kv('a', '9', 2, 3, 2)]) : op));
  t.is(revisionDirectedCheck(forged).verdict, 'illegal');
  t.is(checkOperations(etcdModel, forged).verdict, 'illegal');
  // Or a version the one unknown write cannot reach.
  const counted = history.map((op) => (op.id === 2 ? read(2, 5, 'a', 3, [kv('a', '2', 2, 3, 3)]) : op));
  t.is(revisionDirectedCheck(counted).verdict, 'illegal');
});

test('an unnamed revision is filled by the one unknown write that explains the reads (a delete)', (t) => {
  const history = [
    ok(0, 0, 1, { type: 'put', key: 'a', value: '1' }, { revision: 2 }),
    unknown(1, 2, { type: 'put', key: 'b', value: '2' }),
    unknown(2, 3, { type: 'delete', key: 'a' }),
    read(3, 10, 'a', 3, []),
    read(4, 12, 'b', 3, []),
  ];
  t.is(revisionDirectedCheck(history).verdict, 'ok');
  // b present and a gone at revision 3: two writes for one revision.
  const both = history.map((op) => (op.id === 4 ? read(4, 12, 'b', 3, [kv('b', '2', 3, 3, 1)]) : op));
  t.is(revisionDirectedCheck(both).verdict, 'illegal');
  t.is(checkOperations(etcdModel, both).verdict, 'illegal');
});

test('a filler must fit real time: a write invoked after the revision was read cannot have made it', (t) => {
  const history = [
    ok(0, 0, 1, { type: 'put', key: 'a', value: '1' }, { revision: 2 }),
    read(1, 5, 'a', 4, [kv('a', '1', 2, 2, 1)]), // revisions 3 and 4 exist by time 6
    unknown(2, 2, { type: 'put', key: 'b', value: '2' }),
    unknown(3, 10, { type: 'put', key: 'c', value: '3' }),
  ];
  t.is(revisionDirectedCheck(history).verdict, 'illegal');
  t.is(checkOperations(etcdModel, history).verdict, 'illegal');
  const early = history.map((op) => (op.id === 3 ? unknown(3, 3, { type: 'put', key: 'c', value: '3' }) : op));
  t.is(revisionDirectedCheck(early).verdict, 'ok');
});

test('a value seen only in a txn range after the txn wrote still tells two unknown puts apart', (t) => {
  // Found by sim seed 87: the puts of A and B to k looked interchangeable, and the search tried only A.
  const history = [
    ok(0, 0, 1, { type: 'put', key: 'x', value: '1' }, { revision: 2 }),
    unknown(1, 1, { type: 'put', key: 'k', value: 'A' }),
    unknown(2, 2, { type: 'put', key: 'k', value: 'B' }),
    ok(
      3,
      10,
      11,
      { type: 'txn', compare: [], success: [{ type: 'put', key: 'y', value: '1' }, { type: 'range', key: 'k', rangeEnd: 'l' }], failure: [] },
      { revision: 4, succeeded: true, responses: [{ revision: 4 }, { revision: 4, kvs: [{ ...kv('k', 'B', 3, 3, 1) }], count: 1, more: false }] },
    ),
  ];
  t.is(revisionDirectedCheck(history).verdict, 'ok');
});

test('an unknown lease grant may explain a put with that lease: never illegal', (t) => {
  const history = [
    unknown(0, 0, { type: 'leaseGrant', id: 7 }),
    ok(1, 5, 6, { type: 'put', key: 'a', value: '1', lease: 7 }, { revision: 2 }),
  ];
  t.not(revisionDirectedCheck(history).verdict, 'illegal');
  t.is(checkEtcdHistory(history).result.verdict, 'ok');
});

test('many unknown writes: generated histories stay ok, and a read of a value nobody wrote makes them illegal', (t) => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 1_000_000 }), fc.nat(), (seed, pick) => {
      const history = generateEtcdHistory({ ops: 150, clients: 6, keys: 4, unknownRate: 0.3, seed, unknownDeletes: true });
      const checked = checkEtcdHistory(history, { timeoutMs: 20_000 });
      if (checked.result.verdict !== 'ok') return false;
      const reads = history.filter((o) => o.input.type === 'range' && o.outcome === 'ok' && Array.isArray(o.output?.['kvs']) && (o.output['kvs'] as unknown[]).length > 0);
      const victim = reads[pick % Math.max(1, reads.length)];
      if (victim === undefined || victim.output === undefined) return true;
      const [first, ...rest] = victim.output['kvs'] as unknown as KeyValue[];
      if (first === undefined) return true;
      const kvs = [{ ...first, value: 'never written' }, ...rest] as unknown as EtcdResponse[];
      const mutated = history.map((o): EtcdOp => (o === victim ? { ...o, output: { ...victim.output, kvs } } : o));
      return checkEtcdHistory(mutated, { timeoutMs: 20_000 }).result.verdict === 'illegal';
    }),
    { numRuns: 40 },
  );
  t.pass();
});

test('differential with many unknown writes: the fast path never contradicts the WGL search', (t) => {
  assertFastAgreesUnderMutation(t, {
    kinds: 4,
    numRuns: 300,
    history: (seed) => generateEtcdHistory({ ops: 30, clients: 4, keys: 2, unknownRate: 0.3, seed, unknownDeletes: true }),
    mutate: ({ victim, kind, pick }) => {
      const out = victim.output;
      let changed: EtcdOp = victim;
      if (kind === 0 && out !== undefined) changed = { ...victim, output: { ...out, revision: Number(out['revision'] ?? 0) + (pick % 2 === 0 ? 1 : -1) } };
      if (kind === 1 && out !== undefined && Array.isArray(out['kvs'])) changed = { ...victim, output: { ...out, kvs: [], count: 0 } };
      if (kind === 2 && out !== undefined && typeof out['succeeded'] === 'boolean') changed = { ...victim, output: { ...out, succeeded: !out['succeeded'] } };
      if (kind === 3 && out !== undefined && Array.isArray(out['kvs'])) {
        // One more (or one fewer) put than the read's version says.
        const kvs = (out['kvs'] as unknown as KeyValue[]).map((x) => ({ ...x, version: x.version + (pick % 2 === 0 ? 1 : -1) }));
        changed = { ...victim, output: { ...out, kvs: kvs as unknown as EtcdResponse[] } };
      }
      return changed;
    },
  });
});

test('a revision error between two lease grants of one bucket is placed (lease changes do not split a bucket for it)', (t) => {
  // Found by sim seed 83: the read had to sit after one grant and before the other.
  const history = [
    ok(0, 0, 1, { type: 'put', key: 'a', value: '1' }, { revision: 2 }),
    ok(1, 10, 11, { type: 'leaseGrant', id: 1 }, { revision: 2 }),
    ok(2, 12, 13, { type: 'range', key: 'a', revision: 3 }, { error: 'futureRev' }),
    ok(3, 14, 15, { type: 'leaseGrant', id: 2 }, { revision: 2 }),
  ];
  t.is(revisionDirectedCheck(history).verdict, 'ok');
  // After a write to revision 3 that returned first, the same error is impossible.
  const late = [...history, ok(4, 2, 3, { type: 'put', key: 'b', value: '2' }, { revision: 3 })];
  t.is(checkEtcdHistory(late).result.verdict, 'illegal');
});

test('differential with lease expiries and whole-range reads: the fast path never contradicts the WGL search', (t) => {
  assertFastAgreesUnderMutation(t, {
    kinds: 3,
    numRuns: 300,
    history: (seed) => generateEtcdHistory({ ops: 30, clients: 4, keys: 3, unknownRate: 0.3, seed, unknownDeletes: true, leases: true, unknownRevokes: true, wholeRanges: true }),
    mutate: ({ victim, kind, pick }) => {
      const out = victim.output;
      if (out === undefined) return victim;
      const kvs = Array.isArray(out['kvs']) ? (out['kvs'] as unknown as KeyValue[]) : undefined;
      // A range that misses one key it had, or shows a key one revision late, or a revision off by one.
      if (kind === 0 && kvs !== undefined && kvs.length > 0) return { ...victim, output: { ...out, kvs: kvs.filter((_, i) => i !== pick % kvs.length) as unknown as EtcdResponse[] } };
      if (kind === 1 && kvs !== undefined && kvs.length > 0) return { ...victim, output: { ...out, kvs: kvs.map((x, i) => (i === pick % kvs.length ? { ...x, modRevision: x.modRevision + 1 } : x)) as unknown as EtcdResponse[] } };
      return { ...victim, output: { ...out, revision: Number(out['revision'] ?? 0) + (pick % 2 === 0 ? 1 : -1) } };
    },
  });
});

test('differential with puts on revoked leases (leaseNotFound after a revoke): the fast path never contradicts the WGL search', (t) => {
  let placedAfterRevoke = 0;
  assertFastAgreesUnderMutation(t, {
    kinds: 3,
    numRuns: 300,
    history: (seed) => {
      const history = generateEtcdHistory({ ops: 30, clients: 4, keys: 3, unknownRate: 0.2, seed, leases: true, staleLeases: true });
      if (history.some((op) => op.output?.['error'] === 'leaseNotFound') && revisionDirectedCheck(history).verdict === 'ok') placedAfterRevoke++;
      return history;
    },
    mutate: ({ victim, kind, pick }) => {
      const out = victim.output;
      if (out === undefined) return victim;
      // An error turned into a success at some revision, a success with a lease turned into the error, or a revision off by one.
      if (kind === 0 && out['error'] !== undefined) return { ...victim, output: { revision: 2 + (pick % 8) } };
      if (kind === 1 && victim.input.type === 'put' && (victim.input.lease ?? 0) !== 0) return { ...victim, output: { error: 'leaseNotFound' } };
      return { ...victim, output: { ...out, revision: Number(out['revision'] ?? 0) + (pick % 2 === 0 ? 1 : -1) } };
    },
  });
  t.true(placedAfterRevoke >= 5, `the fast path decided ${placedAfterRevoke} generated histories with leaseNotFound answers`);
});

/**
 * The shape that kept 60 s jepsen-like runs undecided: leases expire (revokes
 * with unknown outcomes, from "the lessor") in a run of revisions nobody reads,
 * while dozens of timed-out puts and deletes of other keys could fill those
 * revisions too. A whole-prefix read after them shows which lease keys are
 * gone, so only the expiries can make them; the walk must not try the
 * distractors' orders.
 */
test('expiries between two prefix reads, among many unknown writes that could fill their revisions: decided ok at once', (t) => {
  const leases = 8;
  const history: EtcdOp[] = [];
  let id = 0;
  let revision = 1;
  for (let l = 1; l <= leases; l++) {
    history.push(ok(id++, 10 * l, 10 * l + 1, { type: 'leaseGrant', id: l }, { revision }));
    history.push(ok(id++, 10 * l + 2, 10 * l + 3, { type: 'put', key: `lease/${l}`, value: `v${l}`, lease: l }, { revision: ++revision }));
  }
  // The lease keys from..upTo as a read shows them (lease l's key was put at revision l + 1).
  const kvs = (upTo: number, from = 1): EtcdResponse[] => Array.from({ length: upTo - from + 1 }, (_, i) => ({ ...kv(`lease/${from + i}`, `v${from + i}`, from + i + 1, from + i + 1, 1), lease: from + i }));
  history.push(ok(id++, 200, 201, { type: 'range', key: 'lease/', rangeEnd: 'lease0' }, { revision, kvs: kvs(leases) }));
  // Distractors: timed-out writes of keys nobody reads, each able to fill any later revision.
  for (let d = 0; d < 40; d++) history.push(unknown(id++, 210 + d, d % 2 === 0 ? { type: 'put', key: `x${d}`, value: `d${d}` } : { type: 'delete', key: `x${d - 1}` }));
  // Leases 1..6 expire: revisions revision+1 .. revision+6, claimed by no ok op.
  for (let l = 1; l <= 6; l++) history.push(unknown(id++, 0, { type: 'leaseRevoke', id: l }));
  const after = revision + 6;
  history.push(ok(id++, 400, 401, { type: 'range', key: 'lease/', rangeEnd: 'lease0' }, { revision: after, kvs: kvs(leases, 7) }));
  history.push(ok(id, 402, 403, { type: 'put', key: 'y', value: '1' }, { revision: after + 1 }));
  history.sort((a, b) => a.call - b.call);
  const fast = revisionDirectedCheck(history.map((op, i) => ({ ...op, id: i, line: i + 1 })), { budget: { deadline: 10_000, now: (() => { let turns = 0; return () => turns++; })() } });
  t.is(fast.verdict, 'ok', 'decided within 10,000 looks at the clock');
  const missing = history.map((op) => (op.input.type === 'range' && op.call === 400 && op.output !== undefined ? { ...op, output: { ...op.output, kvs: kvs(leases, 8) } } : op));
  t.is(checkEtcdHistory(missing.map((op, i) => ({ ...op, id: i, line: i + 1 })), { timeoutMs: 20_000 }).result.verdict, 'illegal', 'lease 7 shown gone too: seven deletes in six revisions');
});
