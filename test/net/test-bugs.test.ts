// TERN_TEST_PLANTED_BUGS: the test-only switch of real members (net/member/testBugs.ts).

import test from 'ava';
import { testBugsFrom } from '../../net/member/testBugs.js';

test('unset or empty: no planted bugs', (t) => {
  t.deepEqual(testBugsFrom(undefined), { bugs: null });
  t.deepEqual(testBugsFrom(' , '), { bugs: null });
});

test('a list of known names turns each on', (t) => {
  t.deepEqual(testBugsFrom('ackBeforeDurable, watchSkipsHundredthRevision'), { bugs: { ackBeforeDurable: true, watchSkipsHundredthRevision: true } });
});

test('an unknown name is refused with the list of known ones (the member then exits 1)', (t) => {
  const answer = testBugsFrom('ackBeforeDurable,noSuchBug');
  t.true('error' in answer);
  t.regex('error' in answer ? answer.error : '', /unknown planted bug "noSuchBug" \(one of ackBeforeDurable, .*watchSkipsHundredthRevision\)/);
  // The Raft-only bugs of the simulator are not offered to real members.
  t.true('error' in testBugsFrom('commitOldTermByCounting'));
});
