// The lock workload's verdict (jepsen-like/real/lock.ts): sure holds must not overlap.

import test from 'ava';
import { judgeLocks, type Acquisition } from '../../jepsen-like/real/lock.js';

const S = 1_000_000;
const hold = (client: string, revision: number, fromS: number, untilS: number): Acquisition => ({ client, key: `lock/${client}`, revision, heldFrom: fromS * S, heldUntil: untilS * S });

test('holds one after another are exclusive', (t) => {
  const verdict = judgeLocks({ attempts: 4, acquisitions: [hold('a', 5, 0, 1), hold('b', 7, 1, 2), hold('c', 9, 2.5, 3)] });
  t.true(verdict.ok);
  t.is(verdict.acquisitions, 3);
});

test('a hold that starts before the previous one ended is an overlap, named with both fencing revisions', (t) => {
  const verdict = judgeLocks({ attempts: 2, acquisitions: [hold('a', 5, 0, 2), hold('b', 7, 1.5, 3)] });
  t.false(verdict.ok);
  t.is(verdict.overlaps.length, 1);
  t.is(verdict.overlaps[0]?.detail, 'b got the lock (key revision 7) 500.0 ms before a (key revision 5) let it go');
});

test('an overlap with a long earlier hold is found past a short one in between', (t) => {
  // a holds 0..5 s; b's 1..2 s and c's 3..4 s both overlap a.
  const verdict = judgeLocks({ attempts: 3, acquisitions: [hold('c', 9, 3, 4), hold('a', 5, 0, 5), hold('b', 7, 1, 2)] });
  t.is(verdict.overlaps.length, 2);
});

test('a hold whose lease may have run out before Lock returned claims nothing', (t) => {
  // heldUntil (the lease's lower bound) is before heldFrom: not a sure hold, so no overlap.
  const verdict = judgeLocks({ attempts: 2, acquisitions: [hold('a', 5, 0, 2), hold('b', 7, 1.5, 1.4)] });
  t.true(verdict.ok);
});
