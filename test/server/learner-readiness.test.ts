// etcd's isLearnerReady: the leader decides, from how far each log matches its own.
import test from 'ava';
import { learnerReadiness } from '../../core/server/learnerReadiness.js';

const view = (matches: Record<number, number> | null) => (id: number): number | null => (matches === null ? null : matches[id] ?? null);

test('a learner at 90% of the leader\'s match or more may be promoted; below it may not', (t) => {
  t.is(learnerReadiness(view({ 1: 100, 2: 90 }), 1, 2), null);
  t.is(learnerReadiness(view({ 1: 100, 2: 89 })  , 1, 2)?.name, 'learnerNotReady');
  t.is(learnerReadiness(view({ 1: 100, 2: 0 }), 1, 2)?.name, 'learnerNotReady', 'added, never started');
});

test('off the leader the answer is "not leader"; a learner the leader does not track is left to the conf change', (t) => {
  t.is(learnerReadiness(view(null), 1, 2)?.name, 'notLeader');
  t.is(learnerReadiness(view({ 1: 100 }), 1, 2), null);
});
