// What watch streams heard, as facts for the checker (jepsen-like/etcd/watchFacts.ts),
// and the watch verdict that uses them (judgeWatches). The scenario: k0 and k1 put
// at 2 and 3, then two timed-out deletes of them make revisions 4 and 5 in an order
// the history cannot tell, then k2 is put at 6. A watch heard one order; the verdict
// must compare it with a linearization in that order, not call it a disagreement.

import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { revisionDirectedCheck } from '../../jepsen-like/etcd/fast-path.js';
import { etcdHistoryText } from '../../jepsen-like/etcd/generate.js';
import { watchFactsOf } from '../../jepsen-like/etcd/watchFacts.js';
import { checkerNamed, type Checker } from '../../jepsen-like/checkers.js';
import { checkLinearizable } from '../../jepsen-like/real/verdicts.js';
import { judgeWatches } from '../../jepsen-like/real/watch.js';
import type { RecordedEvent, WatchResponse, WatchStream } from '../../jepsen-like/watch/validate.js';
import { validateWatches } from '../../jepsen-like/watch/validate.js';
import type { EtcdOp } from './scenario.js';
import { del, okPut, read, unknown } from './scenario.js';

const history: EtcdOp[] = [
  okPut(0, 0, 'k0', 'a', 2),
  okPut(1, 2, 'k1', 'b', 3),
  unknown(2, 4, del('k0')),
  unknown(3, 5, del('k1')),
  okPut(4, 10, 'k2', 'c', 6),
  read(5, 12, 'k0', 6, []),
  read(6, 14, 'k1', 6, []),
];
const text = `${etcdHistoryText(history)}\n`;

const putEvent = (key: string, value: string, revision: number): RecordedEvent => ({
  type: 'put', kv: { key, value, createRevision: revision, modRevision: revision, version: 1, lease: 0 }, prevKv: null,
});
const deleteEvent = (key: string, revision: number): RecordedEvent => ({ type: 'delete', kv: { key, modRevision: revision } });
const at = (revision: number, ...events: RecordedEvent[]): WatchResponse => ({ revision, events });

/** A watch of [k, l) from revision 1 that heard the deletes at 4 and 5 of `first` then `second`. */
function stream(first: string, second: string, skip = -1): WatchStream {
  const responses = [at(2, putEvent('k0', 'a', 2)), at(3, putEvent('k1', 'b', 3)), at(4, deleteEvent(first, 4)), at(5, deleteEvent(second, 5)), at(6, putEvent('k2', 'c', 6))];
  return { request: { key: 'k', rangeEnd: 'l', startRevision: 1, prevKv: false }, createdRevision: 1, responses: responses.filter((_, i) => i !== skip) };
}

test('watch facts: each event names the write at its revision; a stream heard all of its range between its start and its last event', (t) => {
  const facts = watchFactsOf([stream('k1', 'k0'), { ...stream('k0', 'k1'), createdRevision: 0 }, { ...stream('k0', 'k1'), request: { key: 'k', rangeEnd: 'l', startRevision: 1, filters: ['noPut'] } }]);
  t.deepEqual(facts.deletes.slice(0, 2), [{ revision: 4, key: 'k1' }, { revision: 5, key: 'k0' }]);
  t.like(facts.puts[0], { revision: 2, key: 'k0', value: 'a', createRevision: 2, version: 1 });
  t.is(facts.puts.length, 6, 'the never-created stream adds nothing; the filtered one adds its events');
  t.is(facts.spans.length, 1, 'a filtered stream hides writes on purpose: no span');
  t.like(facts.spans[0], { key: 'k', rangeEnd: 'l', from: 0, to: 6 });
  t.deepEqual(facts.spans[0]?.heard.get('k1'), [3, 4]);
});

test('the linearization follows the order a watch heard, either way', (t) => {
  for (const [first, second] of [['k0', 'k1'], ['k1', 'k0']] as const) {
    const fast = revisionDirectedCheck(history, { watchFacts: watchFactsOf([stream(first, second)]) });
    if (fast.verdict !== 'ok') return t.fail(fast.verdict);
    const deletes = fast.store.events.filter((e) => e.type === 'delete').map((e) => e.kv.key);
    t.deepEqual(deletes, [first, second]);
    t.is(judgeWatches(text, [stream(first, second)]).ok, true);
  }
  // Without the facts, one of the two orders disagrees with the linearization the history alone gives.
  const alone = revisionDirectedCheck(history);
  if (alone.verdict !== 'ok') return t.fail(alone.verdict);
  const disagreeing = [stream('k0', 'k1'), stream('k1', 'k0')].filter((s) => validateWatches(alone.store.events, [s]).length > 0);
  t.is(disagreeing.length, 1);
});

test('a stream that missed what another heard is named unreliable at that revision', (t) => {
  const verdict = judgeWatches(text, [stream('k0', 'k1'), stream('k0', 'k1', 3)]);
  t.is(verdict.ok, false);
  t.true(verdict.violations.some((v) => v.stream === 1 && v.property === 'reliable'), JSON.stringify(verdict.violations));
});

test('events that no linearization of the history has: invalid, not undecided', (t) => {
  const heardWrong = stream('k0', 'k1');
  const wrong = { ...heardWrong, responses: [at(2, putEvent('k0', 'never written', 2)), ...heardWrong.responses.slice(1)] };
  const verdict = judgeWatches(text, [wrong]);
  t.is(verdict.ok, false);
  t.true(verdict.violations.length > 0);
  const twoValues = judgeWatches(text, [stream('k0', 'k1'), { ...stream('k0', 'k1'), responses: [at(4, deleteEvent('k1', 4)), at(5, deleteEvent('k0', 5))] }]);
  t.is(twoValues.ok, false, 'two streams heard the deletes in opposite orders');
});

test('jepsen:judge judges a recorded run again from its files', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-judge-'));
  try {
    writeFileSync(path.join(dir, 'history.jsonl'), text);
    writeFileSync(path.join(dir, 'watch.jsonl'), `${JSON.stringify(stream('k1', 'k0'))}\n`);
    const cli = path.join(process.cwd(), 'build/jepsen-like/real/rejudge.js');
    const judged = spawnSync(process.execPath, [cli, dir], { encoding: 'utf8' });
    t.is(judged.status, 0, judged.stderr);
    t.like(JSON.parse(judged.stdout) as object, { dir, linearizable: 'ok', watch: 'ok' });
    writeFileSync(path.join(dir, 'watch.jsonl'), `${JSON.stringify(stream('k1', 'k0'))}\n${JSON.stringify(stream('k0', 'k1'))}\n`);
    const contradicted = spawnSync(process.execPath, [cli, dir], { encoding: 'utf8' });
    t.is(contradicted.status, 1);
    t.like(JSON.parse(contradicted.stdout) as object, { watch: 'invalid' });
    const missing = spawnSync(process.execPath, [cli, path.join(dir, 'nope')], { encoding: 'utf8' });
    t.is(missing.status, 2);
    t.regex(missing.stderr, /history\.jsonl/);
    t.is(spawnSync(process.execPath, [cli, '--bogus', dir], { encoding: 'utf8' }).status, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a history the checker gave up on is decided ok by a linearization that agrees with the streams, never illegal by one that does not', (t) => {
  const etcd = checkerNamed('etcd');
  if (etcd === undefined) return t.fail('no etcd checker');
  // The checker as it is when its budget runs out on a long run: unknown.
  const outOfBudget: Checker = (historyText, options) => {
    const checked = etcd(historyText, options);
    return { ...checked, result: { verdict: 'unknown', parts: 1, cause: 'timeout' } };
  };
  t.like(checkLinearizable(text, 1000, [], outOfBudget), { verdict: 'unknown' }, 'without streams nothing more to try');
  const decided = checkLinearizable(text, 1000, [stream('k1', 'k0')], outOfBudget);
  t.like(decided, { verdict: 'ok' });
  t.regex(decided.method, /watch streams' facts/);
  const contradicting = [stream('k1', 'k0'), stream('k0', 'k1')];
  t.like(checkLinearizable(text, 1000, contradicting, outOfBudget), { verdict: 'unknown' }, 'streams at odds decide nothing about the history');
  t.like(checkLinearizable(text, 1000, contradicting), { verdict: 'ok' }, 'the history alone is linearizable');
});
