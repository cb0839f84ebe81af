// Keep-alive answers wait for the checkpoint that carries their own renewal: an answer
// given on an earlier checkpoint of the same lease would promise a deadline that no
// replicated entry holds yet.
import test from 'ava';
import { etcdError, type EtcdError } from '../../core/errors.js';
import { RenewalAnswers } from '../../core/lease/renewalAnswers.js';

function recorder(): { log: string[]; waiting: (name: string, deadlineTick?: number) => { deadlineTick: number; answer: () => void; fail: (e: EtcdError) => void } } {
  const log: string[] = [];
  return {
    log,
    waiting: (name, deadlineTick = 100) => ({
      deadlineTick,
      answer: () => { log.push(`${name} ok`); },
      fail: (e) => { log.push(`${name} ${e.name}`); },
    }),
  };
}

test('a keep-alive renewed while its lease checkpoint is in flight waits for the next checkpoint', (t) => {
  const answers = new RenewalAnswers(8);
  const r = recorder();
  answers.hold(7n, r.waiting('first'));
  const firstCheckpoint = answers.bind([7n]);
  answers.hold(7n, r.waiting('second')); // renewed again: a later deadline, not in firstCheckpoint
  answers.answer(firstCheckpoint);
  t.deepEqual(r.log, ['first ok'], 'the second answer must not ride on the first checkpoint');
  t.is(answers.size, 1);
  const secondCheckpoint = answers.bind([7n]);
  answers.answer(secondCheckpoint);
  t.deepEqual(r.log, ['first ok', 'second ok']);
  t.is(answers.size, 0);
});

test('a checkpoint binds only the leases it took; a failed checkpoint fails only its own answers', (t) => {
  const answers = new RenewalAnswers(8);
  const r = recorder();
  answers.hold(1n, r.waiting('a'));
  answers.hold(2n, r.waiting('b'));
  const batch = answers.bind([1n]);
  answers.fail(batch, etcdError('timeout'));
  t.deepEqual(r.log, ['a timeout']);
  answers.answer(answers.bind([2n]));
  t.deepEqual(r.log, ['a timeout', 'b ok']);
});

test('losing leadership fails every held answer once; a late apply of a failed batch answers nothing', (t) => {
  const answers = new RenewalAnswers(8);
  const r = recorder();
  answers.hold(1n, r.waiting('bound'));
  const batch = answers.bind([1n]);
  answers.hold(1n, r.waiting('unbound'));
  answers.failAll(etcdError('notLeader'));
  answers.answer(batch);
  t.deepEqual(r.log.sort(), ['bound notLeader', 'unbound notLeader']);
  t.is(answers.size, 0);
});

test('answers past their deadline fail, bound or not; the limit counts both', (t) => {
  const answers = new RenewalAnswers(3);
  const r = recorder();
  answers.hold(1n, r.waiting('early-bound', 5));
  const batch = answers.bind([1n]);
  answers.hold(1n, r.waiting('early-unbound', 5));
  answers.hold(2n, r.waiting('late', 50));
  t.true(answers.full);
  answers.expire(5, etcdError('timeout'));
  t.deepEqual(r.log.sort(), ['early-bound timeout', 'early-unbound timeout']);
  t.is(answers.size, 1);
  answers.answer(batch);
  t.is(r.log.length, 2, 'the expired answer is not answered again');
  t.throws(() => { new RenewalAnswers(0); });
});
