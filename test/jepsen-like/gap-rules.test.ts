// The gap search's stateful rules (jepsen-like/etcd/gap/), one scenario each: a
// few ops and revisions by hand, one rule called, and the answer a bug in that
// rule would change — above all the refusals, which must only refuse what every
// legal linearization refuses (docs/checker.md, "The soundness argument").

import test from 'ava';
import type { CandidateRules } from '../../jepsen-like/etcd/gap/candidates.js';
import { candidatesAt, firstOfEachClass, mayFill, needs } from '../../jepsen-like/etcd/gap/candidates.js';
import { ChosenFillers } from '../../jepsen-like/etcd/gap/chosen.js';
import { deletesStillReachable, fillerConsistent, madeItsRevision, sightingsStillReachable, writesAsShown } from '../../jepsen-like/etcd/gap/consistent.js';
import { GapFacts } from '../../jepsen-like/etcd/gap/facts.js';
import { dueAfter, jointlyFeasible, namedStillPossible } from '../../jepsen-like/etcd/gap/feasible.js';
import { interchangeable } from '../../jepsen-like/etcd/gap/interchangeable.js';
import { Segments } from '../../jepsen-like/etcd/gap/segments.js';
import type { GapSearchInput } from '../../jepsen-like/etcd/gap/types.js';
import { DeadEnds, unwritableValue } from '../../jepsen-like/etcd/gap/verdict.js';
import { Observations } from '../../jepsen-like/etcd/observations.js';
import { ModelStore } from '../../jepsen-like/etcd/store.js';
import type { EtcdRequest, KeyValue } from '../../jepsen-like/etcd/types.js';
import type { EtcdOp } from './scenario.js';
import { del, factsOf, gapInput, kv, ok, okPut, put, read, storeAfter, txn, unknown } from './scenario.js';

/** The candidate rules the walk builds from its input (gap-search.ts does the same). */
function rulesOf(history: readonly EtcdOp[], over: Partial<GapSearchInput> = {}): CandidateRules {
  const input = gapInput(history, over);
  const classOf = interchangeable(input.unknownWriters, input.observations);
  return { facts: new GapFacts(input), unknownWriters: input.unknownWriters, optionalWriters: input.optionalWriters, classOf, fits: input.fits };
}

const ids = (ops: readonly EtcdOp[]): number[] => ops.map((op) => op.id);
const sorted = (map: ReadonlyMap<string, number>): [string, number][] => [...map].sort(([a], [b]) => (a < b ? -1 : 1));
const revoke = (id: number, call: number, lease: number, revision: number): EtcdOp => ok(id, call, call + 1, { type: 'leaseRevoke', id: lease }, { revision });

// --- GapFacts (facts.ts) --------------------------------------------------

test('facts: an ok txn puts on the branch it took only; deletes, revokes and deleting txns are ok deletes', (t) => {
  const facts = factsOf([
    okPut(0, 0, 'a', '1', 2),
    ok(1, 2, 3, txn([put('a', '2')], [put('b', '9')]), { revision: 3, succeeded: false, responses: [{}] }),
    ok(2, 4, 5, del('a'), { revision: 4, deleted: 1 }),
    revoke(3, 6, 7, 4),
    ok(4, 8, 9, txn([del('c')]), { revision: 5, succeeded: true, responses: [{ deleted: 1 }] }),
  ]);
  t.deepEqual(facts.okPuts.get('a'), [2], 'the success branch that was not taken put nothing');
  t.deepEqual(facts.okPuts.get('b'), [3]);
  t.deepEqual(facts.okDeletes.map((d) => d.revision), [4, 4, 5]);
  t.is(facts.okDeletesIn('a', 3, 4), 1, 'the delete of a in bucket 4 (nothing was ever put with the revoked lease)');
  t.is(facts.okDeletesIn('a', 4, 5), 0, 'the txn at 5 deletes c, not a');
  t.is(facts.okDeletesIn('c', 4, 5), 1);
  t.is(facts.okPutsIn('a', 2, 5), 0, '(lo, hi] leaves out the put at lo');
  t.deepEqual(facts.gaps, []);
});

test('facts: a gap a read names is a forced put of its key, and only writes putting every value shown there can make it', (t) => {
  const both = unknown(3, 4, txn([put('a', '2'), put('b', '2')]));
  const facts = factsOf([
    okPut(0, 0, 'a', '1', 2),
    unknown(1, 2, put('a', '2')),
    unknown(2, 3, put('a', '3')),
    both,
    read(4, 10, 'a', 3, [kv('a', '2', 2, 3, 2)]),
    read(5, 11, 'b', 3, [kv('b', '2', 3, 3, 1)]),
  ]);
  t.deepEqual(facts.gaps, [3]);
  t.deepEqual(ids(facts.putters.get('a\u00002') ?? []), [1, 3]);
  t.deepEqual(facts.namedGaps.map((n) => [n.gap, ids(n.writers)]), [[3, [3]]], 'the put of a = 2 alone cannot also create b');
  t.deepEqual(facts.forcedPuts.get('a'), [3]);
  t.is(facts.forcedPutsIn('b', 2, 3), 1);
  t.is(facts.forcedPutsIn('b', 3, 9), 0);
  t.true(facts.countable);
  t.true(facts.watchedKeys.includes('a') && facts.watchedKeys.includes('b'));
});

test('facts: an unknown txn that puts one key twice makes counting puts per revision unsound', (t) => {
  t.true(factsOf([okPut(0, 0, 'a', '1', 2), unknown(1, 1, txn([put('a', '2'), put('b', '2')]))]).countable);
  t.false(factsOf([okPut(0, 0, 'a', '1', 2), unknown(1, 1, txn([put('a', '2'), put('a', '3')]))]).countable);
});

test('facts: a live key must be deleted by its next absence, or before a later re-creation', (t) => {
  const history = [okPut(0, 0, 'a', '1', 2), read(1, 20, 'a', 5, [])];
  t.is(factsOf(history).deleteBy('a', 2), 5);
  t.is(factsOf([...history, read(2, 21, 'a', 4, [kv('a', '2', 4, 4, 1)])]).deleteBy('a', 2), 3, 'seen created at 4: gone by 3');
  t.is(factsOf(history).deleteBy('b', 2), Infinity);
  const facts = factsOf(history);
  t.deepEqual(facts.gaps, [3, 4, 5]);
  t.is(facts.gapsUpTo(0, 5), 2, 'gaps 4 and 5 lie after gap 3');
  t.true(facts.deletable('a', 0, 4));
  t.false(facts.deletable('a', 2, 5), 'no gap and no ok delete after the last gap');
});

test('facts: an ok delete after the last gap can still delete a live key', (t) => {
  const facts = factsOf([okPut(0, 0, 'a', '1', 2), ok(1, 5, 6, del('a'), { revision: 4, deleted: 1 })]);
  t.deepEqual(facts.gaps, [3]);
  t.true(facts.deletable('a', 0, 4));
  t.false(facts.deletable('b', 0, 4), 'that delete is of a, not b');
  t.false(facts.deletable('a', 0, 3));
});

test('facts: an ok revoke may delete only the keys ever put with its lease', (t) => {
  const facts = factsOf([
    ok(0, 0, 1, { type: 'leaseGrant', id: 7 }, { revision: 1 }),
    ok(1, 2, 3, { type: 'put', key: 'a', value: '1', lease: 7 }, { revision: 2 }),
    okPut(2, 4, 'b', '1', 3),
    unknown(3, 5, { type: 'put', key: 'c', value: '1', lease: 7 }),
    revoke(4, 8, 7, 4),
  ]);
  t.deepEqual([...(facts.leaseKeys.get(7) ?? [])].sort(), ['a', 'c'], 'an unknown put with the lease counts too');
  t.is(facts.okDeletesIn('a', 3, 4), 1);
  t.is(facts.okDeletesIn('c', 3, 4), 1);
  t.is(facts.okDeletesIn('b', 3, 4), 0, 'b was never put with lease 7');
});

// --- candidates.ts --------------------------------------------------------

test('a gap no unknown writer fits in real time has no candidates', (t) => {
  const before = [okPut(0, 0, 'a', '1', 2), read(1, 5, 'a', 3, [kv('a', '1', 2, 2, 1)])];
  const store = storeAfter(put('a', '1'));
  const late = rulesOf([...before, unknown(2, 10, put('b', '2'))]);
  t.deepEqual(candidatesAt(late, new Set(), 0, store), [], 'invoked after a read of revision 3 returned');
  const early = rulesOf([...before, unknown(2, 10, put('b', '2')), unknown(3, 3, put('c', '3'))]);
  t.deepEqual(ids(candidatesAt(early, new Set(), 0, store)), [3]);
});

test('of interchangeable unknown writes only the first invoked is a candidate; once used, the next one is', (t) => {
  const rules = rulesOf([
    okPut(0, 0, 'a', '1', 2),
    ok(1, 1, 20, put('a', '2'), { revision: 4 }),
    unknown(2, 2, put('b', 'x')),
    unknown(3, 3, put('b', 'y')),
    unknown(4, 4, put('c', '1')),
  ]);
  t.deepEqual(ids(firstOfEachClass(rules, new Set(), 3)), [2, 4], 'b = x and b = y: nobody sees either value');
  const [first] = rules.unknownWriters;
  t.deepEqual(ids(firstOfEachClass(rules, new Set(first === undefined ? [] : [first]), 3)), [3, 4]);
});

test('when a read names the value written at a gap, only the writes that may put it are candidates', (t) => {
  const rules = rulesOf([
    okPut(0, 0, 'a', '1', 2),
    read(1, 10, 'a', 3, [kv('a', '2', 2, 3, 2)]),
    unknown(2, 2, put('a', '2')),
    unknown(3, 3, put('a', '3')),
    unknown(4, 4, put('b', '1')),
  ]);
  t.deepEqual(ids(firstOfEachClass(rules, new Set(), 3)), [2]);
  t.deepEqual(firstOfEachClass(rules, new Set(rules.unknownWriters.slice(0, 1)), 3), [], 'the only putter is used');
});

/** a = 1 at 2 and a read at 3 showing `shown`: whether mayFill lets each unknown write (invoked in order) make gap 3. */
function mayFillAt3(shown: KeyValue, ...writes: readonly EtcdRequest[]): boolean[] {
  const rules = rulesOf([okPut(0, 0, 'a', '1', 2), read(1, 10, 'a', 3, [shown]), ...writes.map((w, i) => unknown(2 + i, 2 + i, w))]);
  return rules.unknownWriters.map((op) => mayFill(rules, op, 3));
}

test('mayFill refuses a put of a key a read shows unchanged across the gap', (t) => {
  t.deepEqual(mayFillAt3(kv('a', '1', 2, 2, 1), put('a', '5'), put('b', '5')), [false, true]);
});

test('mayFill refuses a write that cannot put the value a read shows at the gap', (t) => {
  t.deepEqual(mayFillAt3(kv('a', '2', 2, 3, 2), put('a', '3'), txn([put('a', '2'), put('b', '1')])), [false, true]);
});

test('needs: a key later found gone must be deleted, a key seen created later put by its creation, a version ahead put again', (t) => {
  const facts = factsOf([
    okPut(0, 0, 'a', '1', 2),
    okPut(1, 1, 'c', '1', 3),
    read(2, 100, 'a', 5, []),
    read(3, 100, 'b', 5, [kv('b', '1', 4, 4, 1)]),
    read(4, 100, 'c', 5, [kv('c', '3', 3, 5, 3)]),
  ]);
  t.deepEqual(facts.gaps, [4, 5]);
  const need = needs(facts, storeAfter(put('a', '1'), put('c', '1')), 4);
  t.deepEqual(sorted(need.put), [['b', 4], ['c', 5]]);
  t.deepEqual(sorted(need.del), [['a', 5]]);
  const reached = needs(facts, storeAfter(put('a', '1'), put('c', '1'), put('c', '2'), put('c', '3')), 4);
  t.false(reached.put.has('c'), 'c already at the version shown: nothing more to put');
});

test('needs: a live key seen re-created later must be deleted before, and put again by, its new creation', (t) => {
  const facts = factsOf([okPut(0, 0, 'a', '1', 2), okPut(1, 1, 'c', '1', 3), read(2, 100, 'a', 6, [kv('a', '2', 5, 5, 1)])]);
  t.deepEqual(facts.gaps, [4, 5, 6]);
  const need = needs(facts, storeAfter(put('a', '1'), put('c', '1')), 4);
  t.deepEqual(sorted(need.del), [['a', 4]]);
  t.deepEqual(sorted(need.put), [['a', 5]]);
});

test('a range delete serves the most pressing delete need in its range', (t) => {
  const history = [okPut(0, 0, 'a', '1', 2), okPut(1, 1, 'b', '1', 3), read(2, 100, 'a', 6, []), read(3, 100, 'b', 5, [])];
  const rules = rulesOf([...history, unknown(4, 2, { type: 'delete', key: 'a', rangeEnd: 'b' }), unknown(5, 3, { type: 'delete', key: 'b', rangeEnd: '\u0000' }), unknown(6, 4, put('z', '1'))]);
  const order = candidatesAt(rules, new Set(), 0, storeAfter(put('a', '1'), put('b', '1')));
  t.deepEqual(ids(order), [5, 4, 6], '[b, ∞) serves b by 5; [a, b) only a by 6');
});

test('candidatesAt: fitting ok revokes first, then the writer of the most pressing need, then the latest invoked', (t) => {
  const history = [
    okPut(0, 0, 'a', '1', 2),
    okPut(1, 1, 'c', '1', 3),
    read(2, 100, 'a', 4, []),
    read(3, 100, 'b', 5, [kv('b', '1', 5, 5, 1)]),
    unknown(4, 2, put('b', '1')),
    unknown(5, 3, del('a')),
    unknown(6, 4, put('z', '1')),
    unknown(7, 5, put('y', '1')),
  ];
  const optionalWriters = new Map([[4, [revoke(8, 3, 1, 4), revoke(9, 200, 2, 4)]]]);
  const rules = rulesOf(history, { optionalWriters });
  t.deepEqual(rules.facts.gaps, [4, 5]);
  const order = candidatesAt(rules, new Set(), 0, storeAfter(put('a', '1'), put('c', '1')));
  t.deepEqual(ids(order), [8, 5, 4, 7, 6], 'revoke 9 was invoked after the reads of 4 and 5 returned');
});

// --- consistent.ts --------------------------------------------------------

test('a txn whose guard fails and whose failure branch writes nothing does not make its gap', (t) => {
  const facts = factsOf([okPut(0, 0, 'a', '1', 2), okPut(1, 20, 'b', '1', 4)]);
  const guarded = txn([put('a', '2')], [], [{ key: 'a', target: 'version', result: '=', value: 5 }]);
  t.false(madeItsRevision(facts, storeAfter(put('a', '1'), guarded), 0));
  t.true(madeItsRevision(facts, storeAfter(put('a', '1'), put('c', '1')), 0));
});

test('a filler that writes a key a read shows unchanged across its gap is refused', (t) => {
  const facts = factsOf([okPut(0, 0, 'a', '1', 2), read(1, 10, 'a', 3, [kv('a', '1', 2, 2, 1)])]);
  t.false(writesAsShown(facts, storeAfter(put('a', '1'), put('a', '5')), 0));
  t.true(writesAsShown(facts, storeAfter(put('a', '1'), put('b', '1')), 0));
});

test('a delete between a key\'s creation and a later sighting is refused; a put there is not', (t) => {
  const facts = factsOf([okPut(0, 0, 'a', '1', 2), okPut(1, 10, 'a', '2', 4), read(2, 20, 'a', 4, [kv('a', '2', 2, 4, 3)])]);
  t.deepEqual(facts.gaps, [3]);
  t.false(writesAsShown(facts, storeAfter(put('a', '1'), del('a')), 0));
  t.true(writesAsShown(facts, storeAfter(put('a', '1'), put('a', '9')), 0));
});

test('a filler that does not make the put a read shows at its revision is refused', (t) => {
  const facts = factsOf([okPut(0, 0, 'a', '1', 2), read(1, 10, 'a', 3, [kv('a', '2', 2, 3, 2)])]);
  t.false(writesAsShown(facts, storeAfter(put('a', '1'), put('a', '3')), 0), 'another value');
  t.false(writesAsShown(facts, storeAfter(put('a', '1'), put('b', '1')), 0), 'another key');
  t.true(writesAsShown(facts, storeAfter(put('a', '1'), put('a', '2')), 0));
  t.true(fillerConsistent(facts, storeAfter(put('a', '1'), put('a', '2')), 0));
  t.false(fillerConsistent(facts, storeAfter(put('a', '1'), put('a', '3')), 0));
});

test('a key live at the last gap that a later read finds absent, with no ok delete left, is refused', (t) => {
  const facts = factsOf([okPut(0, 0, 'a', '1', 2), okPut(1, 20, 'b', '1', 4), read(2, 30, 'a', 4, [])]);
  t.false(deletesStillReachable(facts, storeAfter(put('a', '1'), put('c', '1')), 0));
  t.true(deletesStillReachable(facts, storeAfter(put('a', '1'), del('a')), 0), 'the filler deleted it');
  const withDelete = factsOf([okPut(0, 0, 'a', '1', 2), ok(1, 20, 21, del('a'), { revision: 4, deleted: 1 }), read(2, 30, 'a', 4, [])]);
  t.true(deletesStillReachable(withDelete, storeAfter(put('a', '1'), put('c', '1')), 0), 'the ok delete at 4 still can');
});

test('a key seen later with a creation already past must be alive now, with that creation', (t) => {
  const facts = factsOf([okPut(0, 0, 'a', '1', 2), okPut(1, 20, 'b', '1', 4), read(2, 30, 'a', 4, [kv('a', '1', 2, 2, 1)])]);
  t.false(sightingsStillReachable(facts, storeAfter(put('a', '1'), del('a')), 0));
  t.true(sightingsStillReachable(facts, storeAfter(put('a', '1'), put('c', '1')), 0));
  const recreated = factsOf([okPut(0, 0, 'a', '1', 2), read(1, 10, 'a', 3, [kv('a', '2', 3, 3, 1)])]);
  t.false(sightingsStillReachable(recreated, storeAfter(put('a', '1'), put('a', '2')), 0), 'created at 2, not 3');
  const later = factsOf([okPut(0, 0, 'a', '1', 2), read(1, 10, 'a', 4, [kv('a', '2', 4, 4, 1)])]);
  t.deepEqual(later.gaps, [3, 4]);
  t.true(sightingsStillReachable(later, storeAfter(put('a', '1'), del('a')), 0), 'a creation after the gap asks nothing of it');
});

test('a sighting at the gap pins the key\'s mod revision and version there', (t) => {
  const facts = factsOf([okPut(0, 0, 'a', '1', 2), read(1, 10, 'a', 3, [kv('a', '2', 2, 3, 2)])]);
  t.true(sightingsStillReachable(facts, storeAfter(put('a', '1'), put('a', '2')), 0));
  t.false(sightingsStillReachable(facts, storeAfter(put('a', '1'), put('b', '1')), 0));
});

/** a = 1 at 2, gaps 3 and 4, b at 5, and a read at 5 showing a at version `version`, last put at 4. */
const versionSeen = (version: number, ...extra: EtcdOp[]): GapFacts =>
  factsOf([okPut(0, 0, 'a', '1', 2), okPut(1, 20, 'b', '1', 5), read(2, 30, 'a', 5, [kv('a', 'x', 2, 4, version)]), ...extra]);

test('a version further ahead than the gaps left can reach is refused', (t) => {
  t.deepEqual(versionSeen(3).gaps, [3, 4]);
  t.true(sightingsStillReachable(versionSeen(3), storeAfter(put('a', '1'), put('a', '2')), 0), 'gap 4 makes version 3');
  t.false(sightingsStillReachable(versionSeen(3), storeAfter(put('a', '1'), put('z', '1')), 0), 'two puts missing, one gap left');
  const uncountable = versionSeen(3, unknown(3, 1, txn([put('q', '1'), put('q', '2')])));
  t.true(sightingsStillReachable(uncountable, storeAfter(put('a', '1'), put('z', '1')), 0), 'not countable: no count refuses');
});

test('fewer missing puts than the gaps a read names as puts of the key is refused', (t) => {
  t.false(sightingsStillReachable(versionSeen(2), storeAfter(put('a', '1'), put('a', '2')), 0), 'gap 4 must still put a');
  t.true(sightingsStillReachable(versionSeen(2), storeAfter(put('a', '1'), put('z', '1')), 0));
});

// --- feasible.ts and chosen.ts ----------------------------------------------

/** a = 1 at 2, c = 1 at 3, gaps 4..7; at 7: a gone, b created at 5 and at version 3, c at version 3 since 6. */
const threeNeeds = (): GapFacts =>
  factsOf([
    okPut(0, 0, 'a', '1', 2),
    okPut(1, 1, 'c', '1', 3),
    read(2, 100, 'a', 7, []),
    read(3, 100, 'b', 7, [kv('b', '1', 5, 7, 3)]),
    read(4, 100, 'c', 7, [kv('c', 'x', 3, 6, 3)]),
  ]);

test('dueAfter: a creation by its revision, the puts to reach a version, a delete by the absence', (t) => {
  const facts = threeNeeds();
  t.deepEqual(facts.gaps, [4, 5, 6, 7]);
  const due = dueAfter(facts, storeAfter(put('a', '1'), put('c', '1'), put('z', '1')), 0);
  t.deepEqual(due, [{ by: 5, count: 1 }, { by: 7, count: 2 }, { by: 6, count: 2 }, { by: 7, count: 1 }]);
});

test('needs due by one deadline that outnumber the gaps before it are jointly infeasible', (t) => {
  const facts = threeNeeds();
  const chosen = new ChosenFillers([], new Map(), new Map());
  // By 6: b's creation and c's two puts, with gaps 5 and 6 left.
  t.false(jointlyFeasible(facts, chosen, storeAfter(put('a', '1'), put('c', '1'), put('z', '1')), 0));
  // With c put once at 4, by 6 b's creation and one put of c: two gaps suffice; by 7, four needs and three gaps do not.
  t.false(jointlyFeasible(facts, chosen, storeAfter(put('a', '1'), put('c', '1'), put('c', '2')), 0));
  // With a deleted at 4 as well, one gap must still serve both b and c: only an unused write of two keys can.
  const store = storeAfter(put('a', '1'), put('c', '1'), txn([put('c', '2'), del('a')]));
  t.false(jointlyFeasible(facts, chosen, store, 0));
  t.true(jointlyFeasible(facts, new ChosenFillers([unknown(5, 5, txn([put('b', '2'), put('c', '3')]))], new Map(), new Map()), store, 0));
});

/** a = 1 at 2, gaps 3 and 4, and reads at 4 showing b and c both created at 4. */
const twoCreatedAt4 = (...writers: EtcdOp[]): { facts: GapFacts; chosen: ChosenFillers } => {
  const input = gapInput([okPut(0, 0, 'a', '1', 2), read(1, 100, 'b', 4, [kv('b', '1', 4, 4, 1)]), read(2, 100, 'c', 4, [kv('c', '1', 4, 4, 1)]), ...writers]);
  return { facts: new GapFacts(input), chosen: new ChosenFillers(input.unknownWriters, input.optionalWriters, new Map()) };
};

test('a jointly infeasible pair of dues: two keys created at one gap by writes of one key each', (t) => {
  const store = storeAfter(put('a', '1'), put('z', '1'));
  const single = twoCreatedAt4(unknown(3, 2, put('b', '1')), unknown(4, 3, put('c', '1')));
  t.deepEqual(dueAfter(single.facts, store, 0), [{ by: 4, count: 1 }, { by: 4, count: 1 }]);
  t.false(jointlyFeasible(single.facts, single.chosen, store, 0));
  const wide = twoCreatedAt4(unknown(3, 2, txn([put('b', '1'), put('c', '1')])));
  t.is(wide.chosen.extraUnused, 1);
  t.true(jointlyFeasible(wide.facts, wide.chosen, store, 0), 'an unused txn may create both');
  const ranged = twoCreatedAt4(unknown(3, 2, { type: 'delete', key: 'a', rangeEnd: 'z' }));
  t.true(jointlyFeasible(ranged.facts, ranged.chosen, store, 0), 'an unused range delete may change any number of keys');
  const twice = unknown(3, 2, txn([put('q', '1'), put('q', '2')]));
  const uncountable = twoCreatedAt4(twice);
  uncountable.chosen.push(twice); // used: no extra key left, yet counting is off
  t.true(jointlyFeasible(uncountable.facts, uncountable.chosen, store, 0), 'a txn putting one key twice: no count refuses');
});

test('a later gap a read names loses its only writer once that writer fills an earlier gap', (t) => {
  const input = gapInput([okPut(0, 0, 'a', '1', 2), read(1, 100, 'b', 4, [kv('b', '1', 4, 4, 1)]), unknown(2, 2, put('b', '1')), unknown(3, 3, put('z', '1'))]);
  const facts = new GapFacts(input);
  const [putB, putZ] = input.unknownWriters;
  if (putB === undefined || putZ === undefined) return t.fail();
  const chosen = new ChosenFillers(input.unknownWriters, input.optionalWriters, new Map());
  chosen.push(putB);
  t.false(namedStillPossible(facts, chosen, storeAfter(put('a', '1'), put('b', '1')), 0));
  t.true(namedStillPossible(facts, chosen, storeAfter(put('a', '1'), put('b', '1')), 1), 'at gap 4 itself nothing later is named');
  chosen.pop();
  chosen.push(putZ);
  t.true(namedStillPossible(facts, chosen, storeAfter(put('a', '1'), put('z', '1')), 0));
});

test('a compare-and-swap on a mod revision already past can never make a later named gap', (t) => {
  const cas = unknown(2, 2, txn([put('b', '1')], [], [{ key: 'a', target: 'mod', result: '=', value: 2 }]));
  const input = gapInput([okPut(0, 0, 'a', '1', 2), read(1, 100, 'b', 4, [kv('b', '1', 4, 4, 1)]), cas, unknown(3, 3, put('a', '2'))]);
  const facts = new GapFacts(input);
  const chosen = new ChosenFillers(input.unknownWriters, input.optionalWriters, new Map());
  t.false(namedStillPossible(facts, chosen, storeAfter(put('a', '1'), put('a', '2')), 0), 'a moved to mod revision 3');
  t.true(namedStillPossible(facts, chosen, storeAfter(put('a', '1'), put('z', '1')), 0));
});

test('chosen fillers: push and pop keep the extra keys and the unbounded writers left', (t) => {
  const single = unknown(0, 0, put('a', '1'));
  const wide = unknown(1, 1, txn([put('a', '1'), put('b', '1'), put('c', '1')]));
  const ranged = unknown(2, 2, { type: 'delete', key: 'a', rangeEnd: 'z' });
  const okRevoke = revoke(3, 3, 1, 5);
  // Lease 1 had three keys put with it: its revoke may delete all three at once (two extra).
  const chosen = new ChosenFillers([single, wide, ranged], new Map([[5, [okRevoke]]]), new Map([[1, new Set(['a', 'b', 'c'])]]));
  t.is(chosen.extraUnused, 4);
  t.true(chosen.unboundedLeft, 'the range delete is unused');
  chosen.push(single);
  t.is(chosen.extraUnused, 4, 'a single put has no extra key');
  chosen.push(wide);
  t.is(chosen.extraUnused, 2);
  chosen.push(ranged);
  t.false(chosen.unboundedLeft, 'a revoke is bounded by its lease\'s keys');
  chosen.push(okRevoke);
  t.is(chosen.extraUnused, 0);
  t.deepEqual(ids(chosen.path), [0, 1, 2, 3]);
  chosen.pop();
  t.is(chosen.extraUnused, 2);
  t.false(chosen.used.has(okRevoke));
  chosen.pop();
  t.true(chosen.unboundedLeft);
  chosen.pop();
  t.is(chosen.extraUnused, 4);
  chosen.pop();
  chosen.pop();
  t.deepEqual(chosen.path, [], 'popping an empty path changes nothing');
  t.is(chosen.extraUnused, 4);
  const keyless = new ChosenFillers([], new Map([[5, [okRevoke]]]), new Map());
  t.is(keyless.extraUnused, 0, 'a revoke of a lease nothing was put with changes no key');
  t.false(keyless.unboundedLeft);
});

// --- interchangeable.ts ---------------------------------------------------

test('puts of values nobody sees are interchangeable; a shown value, a compared key, a lease or another key sets them apart', (t) => {
  const observations = new Observations([
    read(0, 10, 'k', 2, [kv('k', 'shown', 2, 2, 1)]),
    ok(1, 11, 12, txn([], [], [{ key: 'v', target: 'value', result: '=', value: 'x' }]), { revision: 2, succeeded: false, responses: [] }),
  ]);
  const ops = [
    unknown(2, 2, put('a', '1')),
    unknown(3, 3, put('a', '2')),
    unknown(4, 4, { type: 'put', key: 'a', value: '3', prevKv: true }),
    unknown(5, 5, put('k', 'other')),
    unknown(6, 6, put('k', 'shown')),
    unknown(7, 7, put('v', '1')),
    unknown(8, 8, put('v', '2')),
    unknown(9, 9, { type: 'put', key: 'a', value: '1', lease: 5 }),
    unknown(10, 10, put('b', '1')),
  ];
  const classOf = interchangeable(ops, observations);
  const [a1, a2, a3, kOther, kShown, v1, v2, leased, b1] = ops.map((op) => classOf.get(op));
  t.is(a1, a2);
  t.is(a1, a3, 'prev_kv of an unknown write is never checked');
  t.not(kOther, kShown);
  t.not(v1, v2);
  t.not(a1, leased);
  t.not(a1, b1);
});

test('deletes with and without prev_kv, and txns of anonymous puts, are interchangeable too', (t) => {
  const ops = [
    unknown(0, 0, { type: 'delete', key: 'a', prevKv: true }),
    unknown(1, 1, del('a')),
    unknown(2, 2, txn([put('a', '1'), { type: 'range', key: 'b' }])),
    unknown(3, 3, txn([put('a', '2'), { type: 'range', key: 'b' }])),
    unknown(4, 4, { type: 'leaseGrant', id: 1 }),
    unknown(5, 5, { type: 'leaseGrant', id: 2 }),
  ];
  const classes = [...interchangeable(ops, new Observations([])).values()];
  t.is(classes[0], classes[1]);
  t.is(classes[2], classes[3]);
  t.not(classes[4], classes[5]);
  t.is(new Set(classes).size, 4);
});

// --- segments.ts ----------------------------------------------------------

/** a = 1 at 2 and a read of it; gap 3 with an ok revoke in its bucket; a = 2 at 4 and a read of it at version 2. */
const aroundGap3 = (): { input: GapSearchInput; segments: Segments } => {
  const input = gapInput([
    okPut(0, 0, 'a', '1', 2),
    read(1, 2, 'a', 2, [kv('a', '1', 2, 2, 1)]),
    revoke(2, 4, 9, 3),
    okPut(3, 6, 'a', '2', 4),
    read(4, 8, 'a', 4, [kv('a', '2', 2, 4, 2)]),
  ]);
  return { input, segments: new Segments(input.slots, input.gaps) };
};

/** The store after segment 0 and then `filler` at gap 3. */
function filledAt3(segments: Segments, ...filler: readonly EtcdRequest[]): ModelStore {
  const store = new ModelStore();
  segments.replay(store, 0, new Set());
  for (const request of filler) store.apply(request);
  return store;
}

test('a segment replays only the ok ops between two gaps, and answers as recorded after the right filler', (t) => {
  const { input, segments } = aroundGap3();
  t.deepEqual(input.gaps, [3]);
  const store = new ModelStore();
  t.is(segments.replay(store, 0, new Set()), undefined);
  t.is(store.revision, 2, 'segment 0 stops before gap 3');
  const revokeOp = input.slots[2]?.op;
  if (revokeOp === undefined) return t.fail();
  t.is(segments.replay(filledAt3(segments, put('b', '1')), 1, new Set([revokeOp])), undefined);
});

test('a segment stops at the first wrong answer: a revision off, a version off, an ok revoke replayed twice', (t) => {
  const { input, segments } = aroundGap3();
  const used = new Set(input.slots.flatMap((s) => (s.op.input.type === 'leaseRevoke' ? [s.op] : [])));
  t.is(segments.replay(filledAt3(segments), 1, used)?.index, 3, 'no filler: a = 2 lands at revision 3');
  t.is(segments.replay(filledAt3(segments, put('a', '0')), 1, used)?.index, 4, 'a put of a at 3: the read sees version 3');
  t.is(segments.replay(filledAt3(segments, put('b', '1')), 1, new Set())?.index, 2, 'the revoke that did not make the gap finds no lease');
});

test('a replayed write whose response omits the revision is still held to its slot\'s revision', (t) => {
  const silent = ok(0, 0, 1, put('a', '1'), {});
  const segments = new Segments([{ op: silent, key: 6 }], []);
  t.deepEqual(segments.replay(new ModelStore(), 0, new Set()), { index: 0, response: { revision: 2 } });
});

// --- verdict.ts -----------------------------------------------------------

/** a = 1 at 2, a = 2 at 4 and a read of it, a = 3 at 6: gaps 3 and 5. */
const twoGaps = (): GapSearchInput =>
  gapInput([okPut(0, 0, 'a', '1', 2), okPut(1, 2, 'a', '2', 4), read(2, 4, 'a', 4, [kv('a', '2', 2, 4, 2)]), okPut(3, 6, 'a', '3', 6)]);

test('when every candidate was refused before any replay, the latest unfillable gap is named', (t) => {
  const input = twoGaps();
  t.deepEqual(input.gaps, [3, 5]);
  const none = new DeadEnds(input).verdict();
  t.like(none, { kind: 'illegal', ops: [1], prefix: [] });
  t.true(none.kind === 'illegal' && none.reason.startsWith('revision 3:'), 'nothing recorded: the first gap');
  const dead = new DeadEnds(input);
  dead.exhausted(5);
  dead.exhausted(3);
  const verdict = dead.verdict();
  t.like(verdict, { kind: 'illegal', ops: [3] });
  t.true(verdict.kind === 'illegal' && verdict.reason.startsWith('revision 5:'));
  const lastGap = new DeadEnds({ ...input, gaps: [3, 5, 7] });
  lastGap.exhausted(7);
  t.like(lastGap.verdict(), { kind: 'illegal', ops: [] }, 'no ok op after revision 7 to blame');
});

test('the furthest wrong answer is blamed, with the ok ops before it and its fillers as the prefix', (t) => {
  const input = twoGaps();
  const [f, g] = [unknown(7, 1, put('b', '1')), unknown(8, 1, put('c', '1'))];
  const dead = new DeadEnds(input);
  dead.wrongAnswer({ index: 1, response: { revision: 3 } }, [f]);
  dead.wrongAnswer({ index: 2, response: { revision: 4, count: 0 } }, [f, g]);
  dead.wrongAnswer({ index: 0, response: { revision: 1 } }, []);
  dead.exhausted(5);
  const verdict = dead.verdict();
  t.like(verdict, { kind: 'illegal', ops: [2], prefix: [0, 1, 7, 8] });
  t.true(verdict.kind === 'illegal' && verdict.reason.includes('line 3: at a read of revision 4'), verdict.kind === 'illegal' ? verdict.reason : '');
  t.true(verdict.kind === 'illegal' && verdict.reason.includes('revisions 3, 5)'));
  const manyGaps = new DeadEnds({ ...input, gaps: [3, 5, 7, 8, 9, 10] });
  manyGaps.wrongAnswer({ index: 1, response: { revision: 3 } }, []);
  const many = manyGaps.verdict();
  t.true(many.kind === 'illegal' && many.reason.includes('revisions 3, 5, 7, 8, 9, …)'), 'at most five gaps named');
  const noGaps = new DeadEnds({ ...input, gaps: [] });
  noGaps.wrongAnswer({ index: 1, response: { revision: 3 } }, []);
  const plain = noGaps.verdict();
  t.true(plain.kind === 'illegal' && plain.reason.includes('at revision 4') && !plain.reason.includes('whichever'));
});

test('a wrong answer in a bucket whose order is a guess makes the dead ends inconclusive, not illegal', (t) => {
  const dead = new DeadEnds({ ...twoGaps(), certain: (slot) => slot.op.id !== 1 });
  dead.wrongAnswer({ index: 2, response: {} }, []);
  t.is(dead.verdict().kind, 'illegal');
  dead.wrongAnswer({ index: 1, response: {} }, []);
  t.is(dead.verdict().kind, 'inconclusive', 'once a guess is involved, even the certain furthest answer proves nothing');
});

test('two values shown written at one revision are illegal at once', (t) => {
  const facts = factsOf([
    okPut(0, 0, 'a', '1', 2),
    okPut(1, 2, 'a', '2', 3),
    read(2, 10, 'a', 3, [kv('a', '2', 2, 3, 2)]),
    read(3, 11, 'a', 3, [kv('a', '5', 2, 3, 2)]),
  ]);
  const verdict = unwritableValue(facts);
  t.like(verdict, { kind: 'illegal', ops: [1] });
  t.true(verdict?.kind === 'illegal' && verdict.reason.includes('two different values of "a" written at revision 3'));
});

test('a value shown at an ok write\'s revision that the write did not put is illegal', (t) => {
  const verdict = unwritableValue(factsOf([okPut(0, 0, 'a', '1', 2), read(1, 10, 'a', 2, [kv('a', '7', 2, 2, 1)])]));
  t.like(verdict, { kind: 'illegal', ops: [0] });
});

test('a value shown at a gap that no unknown write puts is illegal; one that some unknown write puts is not', (t) => {
  const history = [okPut(0, 0, 'a', '1', 2), read(1, 10, 'a', 3, [kv('a', '9', 2, 3, 2)])];
  t.like(unwritableValue(factsOf([...history, unknown(2, 2, put('a', '2'))])), { kind: 'illegal', ops: [1] });
  t.is(unwritableValue(factsOf([...history, unknown(2, 2, put('a', '9'))])), undefined);
});

test('a value shown written at the empty store\'s revision is illegal; a keys-only read names no value', (t) => {
  const verdict = unwritableValue(factsOf([read(0, 10, 'a', 2, [kv('a', '1', 1, 1, 1)])]));
  t.like(verdict, { kind: 'illegal', ops: [0] });
  t.true(verdict?.kind === 'illegal' && verdict.reason.includes('written at revision 1'));
  const keysOnly = ok(1, 10, 11, { type: 'range', key: 'a', keysOnly: true }, { revision: 3, kvs: [{ ...kv('a', '', 2, 3, 2) }], count: 1 });
  t.is(unwritableValue(factsOf([okPut(0, 0, 'a', '1', 2), keysOnly])), undefined);
});
