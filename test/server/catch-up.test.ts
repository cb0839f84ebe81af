// A restarted member serves serializable reads only once it has applied again what it
// may have applied before it stopped (core/server/catchUp.ts).
import test from 'ava';
import { etcdError, type EtcdError } from '../../core/errors.js';
import { CatchUp } from '../../core/server/catchUp.js';

function reads(): { log: string[]; read: (name: string, deadlineTick?: number) => { deadlineTick: number; serve: () => void; fail: (e: EtcdError) => void } } {
  const log: string[] = [];
  return { log, read: (name, deadlineTick = 100) => ({ deadlineTick, serve: () => { log.push(`${name} served`); }, fail: (e) => { log.push(`${name} ${e.name}`); } }) };
}

test('a fresh member, or one that applied its whole log at start, serves at once', (t) => {
  const r = reads();
  new CatchUp({ lastIndex: 0, term: 0, applied: 0 }, 4).whenCaughtUp(r.read('fresh'), etcdError('tooManyRequests'));
  new CatchUp({ lastIndex: 9, term: 2, applied: 9 }, 4).whenCaughtUp(r.read('whole log'), etcdError('tooManyRequests'));
  t.deepEqual(r.log, ['fresh served', 'whole log served']);
});

test('reads wait until the boot log\'s last index applies again, then are served in order', (t) => {
  const r = reads();
  const catchUp = new CatchUp({ lastIndex: 10, term: 3, applied: 7 }, 4);
  catchUp.whenCaughtUp(r.read('a'), etcdError('tooManyRequests'));
  catchUp.whenCaughtUp(r.read('b'), etcdError('tooManyRequests'));
  catchUp.onApplied(8, 3);
  catchUp.onApplied(9, 3);
  t.deepEqual(r.log, [], 'entries 8 and 9 of the boot term: the member may have shown entry 10 before it stopped');
  catchUp.onApplied(10, 3);
  t.deepEqual(r.log, ['a served', 'b served']);
  t.true(catchUp.done);
});

test('an entry of a later term ends the wait even where the log was cut shorter', (t) => {
  const r = reads();
  const catchUp = new CatchUp({ lastIndex: 10, term: 3, applied: 7 }, 4);
  catchUp.whenCaughtUp(r.read('a'), etcdError('tooManyRequests'));
  // The new leader (term 4) kept entries up to 8 and appended its own empty entry at 9.
  catchUp.onApplied(8, 3);
  catchUp.onApplied(9, 4);
  t.deepEqual(r.log, ['a served']);
});

test('the wait is bounded: past the limit refused, past the deadline timed out', (t) => {
  const r = reads();
  const catchUp = new CatchUp({ lastIndex: 10, term: 3, applied: 7 }, 2);
  catchUp.whenCaughtUp(r.read('early', 5), etcdError('tooManyRequests'));
  catchUp.whenCaughtUp(r.read('late', 50), etcdError('tooManyRequests'));
  catchUp.whenCaughtUp(r.read('third', 50), etcdError('tooManyRequests'));
  t.deepEqual(r.log, ['third tooManyRequests']);
  catchUp.expire(5, etcdError('timeout'));
  t.deepEqual(r.log, ['third tooManyRequests', 'early timeout']);
  t.is(catchUp.size, 1);
  catchUp.onApplied(10, 3);
  t.deepEqual(r.log, ['third tooManyRequests', 'early timeout', 'late served']);
  t.throws(() => new CatchUp({ lastIndex: 3, term: 1, applied: 4 }, 1));
});
