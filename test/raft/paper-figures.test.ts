// The Raft paper's Figure 7 (§5.3: a new leader brings six divergent follower logs in line
// with its own) and Figure 8 (§5.4.2: why a leader must not commit an entry of an older
// term by counting its replicas).
import test from 'ava';
import { figure8 } from './figure8.js';
import { Network } from './harness.js';
import { terms } from './paper-util.js';

// ------------------------------------------------------------------ Figure 7

const LEADER_LOG = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
const FOLLOWERS: readonly (readonly [name: string, log: readonly number[]])[] = [
  ['a', [1, 1, 1, 4, 4, 5, 5, 6, 6]], // missing one entry
  ['b', [1, 1, 1, 4]], // missing many
  ['c', [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6]], // one extra uncommitted entry
  ['d', [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7]], // extra entries of a later term
  ['e', [1, 1, 1, 4, 4, 4, 4]], // missing entries and extraneous ones
  ['f', [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3]], // led terms 2 and 3 and crashed uncommitted
];
/** The leader's log after it took office in term 8: its empty entry is appended. */
const CONVERGED = [...LEADER_LOG, 8];

// Reference: §5.3, Figure 7 — "When the leader at the top comes to power, it is possible
// that any of scenarios (a–f) could occur in follower logs ... the leader handles
// inconsistencies by forcing the followers' logs to duplicate its own." One cluster per
// follower (leader, that follower, and an empty third member whose vote the leader needs
// when the follower's log is the more up-to-date one), as etcd's TestLeaderSyncFollowerLog.
for (const [name, log] of FOLLOWERS) {
  test(`§5.3 Figure 7 (${name}): the term-8 leader makes follower [${log.join(' ')}] duplicate its log`, (t) => {
    const net = new Network({ voters: [1, 2, 3] });
    net.load(1, { terms: LEADER_LOG, term: 7 });
    net.load(2, { terms: log, term: Math.max(...log) });
    net.elect(1);
    t.is(net.get(1).node.raft.term, 8);
    t.deepEqual(terms(net.get(2)), CONVERGED);
  });
}

// Reference: §5.3, Figure 7 — all seven servers in one cluster. The leader wins term 8 with
// the votes of (a), (b), (e), (f); (c) and (d) refuse (their logs are more up-to-date),
// and afterwards every log equals the leader's, whose own first ten entries never change.
test('§5.3 Figure 7: one cluster of all seven logs converges to the term-8 leader\'s log', (t) => {
  const net = new Network({ voters: [1, 2, 3, 4, 5, 6, 7] });
  net.load(1, { terms: LEADER_LOG, term: 7 });
  FOLLOWERS.forEach(([, log], i) => {
    net.load(i + 2, { terms: log, term: Math.max(...log) });
  });
  net.elect(1);
  t.deepEqual(net.leaders(), [1]);
  t.deepEqual([1, 2, 3, 4, 5, 6, 7].map((id) => terms(net.get(id))), Array.from({ length: 7 }, () => CONVERGED));
  t.is(net.get(1).node.raft.log.committed, 11, 'the term-8 entry commits, and with it everything before');
});

// ------------------------------------------------------------------ Figure 8

// Reference: §5.4.2, Figure 8 (a)–(d) — "a leader cannot immediately conclude that an entry
// from a previous term is committed once it is stored on a majority of servers ... Raft
// never commits log entries from previous terms by counting replicas."
test('§5.4.2 Figure 8: an old-term entry on a majority is not committed, so S5 may overwrite it', (t) => {
  const run = figure8('d', {});
  t.is(run.s1CommitAfterC, 1, 'S1 must not commit x (index 2, term 1) although S1–S4 hold it');
  t.deepEqual(run.violations, []);
});

// Reference: §5.4.2 — the same scenario with the commit rule weakened to count replicas
// of old-term entries (the planted bug). S1 commits x, then S5 overwrites it: two members
// hold different committed entries at index 2. This proves the test above can fail.
test('§5.4.2 Figure 8 with the planted bug commitOldTermByCounting: a committed entry is lost', (t) => {
  const run = figure8('d', { commitOldTermByCounting: true });
  t.is(run.s1CommitAfterC, 2, 'the weakened rule commits x by counting');
  t.is(run.finalLeader, 5);
  t.true(run.violations.some((v) => v.startsWith('index 2 committed as term 1 on S1 but term 2')), run.violations.join('\n'));
});

// Reference: §5.4.2, Figure 8 (e) — "if S1 replicates an entry from its current term on a
// majority of the servers before crashing ... then this entry is committed (S5 cannot win
// an election). At this point all preceding entries in the log are committed as well."
test('§5.4.2 Figure 8 (e): once a current-term entry is on a majority, it and x commit and S5 cannot win', (t) => {
  const run = figure8('e', {});
  t.is(run.finalLeader, undefined, 'S5 is refused by S2, S3 and S4');
  t.is(run.commits.get(1), 3, 'S1 committed its term-3 entry at index 3, and x before it');
  t.deepEqual(run.logs.get(3)?.slice(0, 2), [1, 1], 'x (term 1) stays at index 2');
  t.deepEqual(run.violations, []);
});
