// Guided tours: a run (a URL hash: seed, options, and a fault script where the story
// needs one) and steps through it, each an event index and a short text. The page's
// tour panel moves the cursor to a step's event and shows its text; each step also
// says, as a check on the frame, what the text claims is visible there, so a test
// (test/viewer/tours.test.ts) notices when a change to the core or the simulator moves
// the story. The runs were found by searching seeds and event indexes with small
// scripts over the replay engine; the indexes are those of the runs as they are now.
//
// Pure: no DOM (the page and the Node tests share it).

import type { Frame, MemberFrame } from './frame.js';
import type { RunVerdict } from './survey.js';

export interface TourStep {
  /** The event index the step shows; 'end': the run's last event. */
  readonly at: number | 'end';
  readonly text: string;
  /** What the text claims is visible at that event: null when it holds, else what is off. */
  readonly check: (frame: Frame, verdict: RunVerdict | null) => string | null;
}

export interface Tour {
  readonly name: string;
  readonly title: string;
  /** The run, as the URL hash the page opens (runSpec.ts). */
  readonly hash: string;
  readonly steps: readonly TourStep[];
}

function member(frame: Frame, id: number): MemberFrame | null {
  return frame.members.find((m) => m.id === id) ?? null;
}

/** Member `id` has this role (or process state) and term. */
function is(id: number, role: string, term?: number): TourStep['check'] {
  return (frame) => {
    const m = member(frame, id);
    if (m === null) return `no member ${id}`;
    const actual = m.state === 'up' ? m.role : m.state;
    if (actual !== role) return `member ${id} is ${actual}, not ${role}`;
    if (term !== undefined && m.term !== term) return `member ${id} is at term ${m.term}, not ${term}`;
    return null;
  };
}

/** Member `id`'s log holds an entry of `term` at `index`. */
function entry(id: number, index: number, term: number): TourStep['check'] {
  return (frame) => {
    const found = member(frame, id)?.log.find((e) => e.index === index);
    return found?.term === term ? null : `member ${id}'s entry ${index} has term ${found === undefined ? 'none' : String(found.term)}, not ${term}`;
  };
}

function all(...checks: readonly TourStep['check'][]): TourStep['check'] {
  return (frame, verdict) => {
    for (const check of checks) {
      const problem = check(frame, verdict);
      if (problem !== null) return problem;
    }
    return null;
  };
}

const uncommitted = (id: number): TourStep['check'] => (frame) => {
  const m = member(frame, id);
  return m !== null && m.lastIndex > m.commit ? null : `member ${id} holds no uncommitted entries`;
};

const cut = (a: number, b: number): TourStep['check'] => (frame) =>
  frame.blocked.some(([from, to]) => from === a && to === b) ? null : `the link ${a}→${b} is not cut`;

const violation = (kind: string): TourStep['check'] => (frame) =>
  frame.violations.some((v) => v.kind === kind) ? null : `no ${kind} violation`;

/** Member `id` holds lease `lease` with its leader's deadline past `afterMs`. */
const leaseDeadlineAfter = (id: number, lease: string, afterMs: number): TourStep['check'] => (frame) => {
  const found = member(frame, id)?.leases?.find((l) => l.id === lease);
  if (found === undefined) return `member ${id} does not hold lease ${lease}`;
  return found.leaderDeadlineMs !== null && found.leaderDeadlineMs > afterMs
    ? null : `member ${id}'s deadline for lease ${lease} is ${String(found.leaderDeadlineMs)}, not after ${afterMs} ms`;
};

const commitIs = (id: number, commit: number): TourStep['check'] => (frame) => {
  const found = member(frame, id)?.commit;
  return found === commit ? null : `member ${id}'s commit is ${String(found)}, not ${commit}`;
};

const ISOLATE_2 = 'cut:2-1,{i}:cut:2-3,{i}:cut:2-4,{i}:cut:2-5';
const HEAL_2 = 'heal:2-1,{i}:heal:2-3,{i}:heal:2-4,{i}:heal:2-5';
const ISOLATE_4 = 'cut:4-1,{i}:cut:4-2,{i}:cut:4-3,{i}:cut:4-5';
const HEAL_4 = 'heal:4-1,{i}:heal:4-2,{i}:heal:4-3,{i}:heal:4-5';
/** `i:` + the actions of a template at index i. */
const at = (index: number, actions: string): string => `${index}:${actions.replaceAll('{i}', String(index))}`;

const FIGURE7: Tour = {
  name: 'figure7',
  title: 'Figure 7: a new leader repairs followers whose logs differ from its own',
  hash: `#seed=1&nodes=5&time-ms=4000&faults=none&workload=none&fork=600:crash:5,${at(1200, ISOLATE_2)},${at(2000, HEAL_2)},2000:restart:5`,
  steps: [
    { at: 90, check: is(2, 'leader', 1),
      text: 'A calm five-member run (no faults but the ones this tour clicks). Member 2 wins the election of term 1; the proposals go into its log and it replicates them to every follower.' },
    { at: 600, check: is(5, 'down'),
      text: 'Member 5 crashes (the fork\'s first action). From now on it misses every entry: its log stops at index 7, like the followers in Figure 7 that lack entries.' },
    { at: 1264, check: all(is(2, 'leader', 1), cut(2, 1), uncommitted(2)),
      text: 'At event 1200 the leader, member 2, was cut off from the other four. It still takes proposals and appends them, but cannot commit them: entries 19 to 21 of term 1 exist only in its log (no underline: not committed).' },
    { at: 1286, check: is(3, 'leader', 2),
      text: 'Members 1, 3 and 4, a majority of five, elect member 3 for term 2. Its log ends at 18, so its own entries of term 2 start at index 19: the index where member 2 holds a term-1 entry.' },
    { at: 1991, check: all(entry(2, 19, 1), entry(3, 19, 2), is(5, 'down')),
      text: 'Just before the heal, three kinds of log: members 1, 3 and 4 agree (term 2 from index 19 on); member 2 has extra uncommitted entries of term 1 at 19-21 (like Figure 7\'s followers with entries from an old term); member 5 lacks everything after 7.' },
    { at: 2000, check: is(5, 'follower'),
      text: 'The links heal and member 5 restarts from its disk. Member 2 has stepped down already (check-quorum): no one obeys a leader that cannot reach a majority.' },
    { at: 2038, check: all(entry(2, 19, 2), is(2, 'follower', 2)),
      text: 'Member 2 gets the leader\'s MsgApp: the consistency check (the previous entry\'s index and term must match) finds where the logs agree, and its entry 19 conflicts with the leader\'s (term 1 against 2), so it deletes it and everything after and takes the leader\'s entries. Nothing committed was lost: entries 19-21 of term 1 never were.' },
    { at: 2047, check: all(entry(5, 19, 2), entry(2, 19, 2), commitIs(5, 38)),
      text: 'The leader\'s MsgApp fills member 5\'s log too: the same check finds where it agrees (index 7, all it had), and the leader sends everything after it. Every log now matches the leader\'s.' },
  ],
};

/** Figure 8's five servers S1..S5 are members 4, 5, 2, 3 and 1 here; the seed's swarm has every fault off and one entry per message. */
const FIGURE8_SCRIPT = [
  '1000:cut:4-1', '1000:cut:4-2', '1000:cut:4-3', '1000:cut:5-1', '1000:cut:5-2', '1000:cut:5-3',
  '1292:cut:1-2', '1292:cut:1-3', '1400:heal:4-2', '1400:heal:4-3', '1716:crash:4', '1716:heal:1-2', '1716:heal:1-3',
].join(',');


const FIGURE8: Tour = {
  name: 'figure8',
  title: 'Figure 8: a committed entry overwritten, because a leader counted replicas of an old term\'s entry (the planted bug)',
  hash: `#seed=17331&nodes=5&time-ms=3000&workload=none&bug=commitOldTermByCounting&rule-checks=0&keep-going=1&fork=${FIGURE8_SCRIPT}`,
  steps: [
    { at: 999, check: is(4, 'leader', 1),
      text: 'Seed 17331 draws a swarm with every fault off and one entry per message (maxSizePerMsgBytes 1, maxInflightMsgs 1): a leader sends its entries one by one, as Figure 8 needs. The planted bug commitOldTermByCounting is on; the simulator\'s commit-rule check is off (rule-checks=0) and the run goes on past violations (keep-going=1), so that we see what the bug leads to. Member 4 leads term 1.' },
    { at: 1230, check: all(is(4, 'leader', 1), entry(4, 19, 1), entry(5, 19, 1), uncommitted(4), (f) => ((member(f, 1)?.lastIndex ?? 0) === 16 ? null : 'member 1 holds more than 16 entries')),
      text: 'At event 1000 the tour cut members 4 and 5 off from 1, 2 and 3. Leader 4 goes on appending proposals of term 1 (17 to 19) and replicates them to member 5 only: not committed (Figure 8 (a): S1 with an entry on S2 only).' },
    { at: 1293, check: all(is(1, 'leader', 2), entry(1, 17, 2)),
      text: 'Members 1, 2 and 3, a majority, elect member 1 for term 2. One event before, the tour cut member 1 off too, so its term-2 no-op at index 17 stays in its own log (Figure 8 (b): S5 elected, its entry on no one else).' },
    { at: 1607, check: all(is(4, 'leader', 3), entry(4, 20, 3)),
      text: 'At 1400 the tour healed the links from member 4 to 2 and 3. Member 4 wins term 3 (votes from 2, 3 and 5: its log ends with term 1 at index 19, theirs at 16) and appends its term-3 no-op at index 20.' },
    { at: 1715, check: all(is(4, 'leader', 3), commitIs(4, 17), entry(2, 17, 1), entry(5, 20, 3), entry(1, 17, 2)),
      text: 'One entry per message: member 2 gets entry 17 of term 1 first. Its ack puts entry 17 on members 4, 5 and 2, a majority, and with the bug leader 4 commits it by counting (commit 17, underlined), while its term-3 no-op is on 4 and 5 only (Figure 8 (c)). Raft\'s rule would wait until an entry of term 3 is on a majority.' },
    { at: 1874, check: all(is(1, 'leader', 4), is(4, 'down'), violation('leaderCompleteness')),
      text: 'Right after, the tour crashed member 4 and healed member 1\'s links. Member 1\'s last entry has term 2, newer than 2\'s and 3\'s (term 1), so they vote for it: member 1 leads term 4 without the committed entry 17 (Figure 8 (d)). The checker reports it: leaderCompleteness.' },
    { at: 1973, check: all(entry(2, 17, 2), entry(3, 17, 2), violation('stateMachineSafety')),
      text: 'Member 1 replaces entry 17 on members 2 and 3 with its own of term 2 and commits it: an entry that was committed is gone, overwritten. The checker: stateMachineSafety (committed entry 17 of term 2, but term 1 was committed there). This is what Figure 8 shows, and the rule the bug removes prevents it.' },
  ],
};

const ELECTION: Tour = {
  name: 'election',
  title: 'Leader election with pre-vote and check-quorum',
  hash: `#seed=1&nodes=5&time-ms=3000&faults=none&workload=none&fork=${at(500, ISOLATE_4)},${at(1000, HEAL_4)},${at(1400, ISOLATE_2)}`,
  steps: [
    { at: 1, check: is(1, 'follower', 0),
      text: 'Five members start as followers of term 0, each with its own randomised election timeout. Tern runs with pre-vote and check-quorum on, as etcd does.' },
    { at: 52, check: is(2, 'preCandidate', 0),
      text: 'Member 2\'s timeout fires first. With pre-vote it becomes a pre-candidate: it asks the others whether they would vote for it in term 1 (MsgPreVote), without raising its own term, still 0.' },
    { at: 62, check: is(2, 'candidate', 1),
      text: 'A majority answered yes (MsgPreVoteResp), so it campaigns for real: candidate of term 1, MsgVote to every member.' },
    { at: 90, check: is(2, 'leader', 1),
      text: 'Three votes of five: member 2 leads term 1, and its heartbeats keep the others\' timers from firing.' },
    { at: 500, check: cut(4, 1),
      text: 'The tour cuts member 4 off from everyone (red dashes).' },
    { at: 827, check: is(4, 'preCandidate', 1),
      text: 'Its election timeout fires: it becomes a pre-candidate, but no one can answer, and however often it retries it stays at term 1. Without pre-vote it would raise its term each time, and on rejoining force the healthy leader to step down.' },
    { at: 1007, check: all(is(4, 'follower', 1), is(2, 'leader', 1)),
      text: 'Healed at 1000: member 4 hears the leader\'s MsgApp, is a follower of term 1 again and catches up. The leader was never disturbed.' },
    { at: 1400, check: cut(2, 1),
      text: 'Now the tour cuts the leader itself off.' },
    { at: 1481, check: is(2, 'follower', 1),
      text: 'Check-quorum: the leader has not heard from a majority within an election timeout, so it steps down on its own tick, though no one told it of a newer term. Clients are not left writing to a leader that cannot commit.' },
    { at: 1490, check: is(3, 'leader', 2),
      text: 'The four that can talk (1, 3, 4, 5) elect member 3 for term 2 (pre-vote first, then the vote).' },
    { at: 1878, check: all(is(2, 'preCandidate', 1), is(3, 'leader', 2)),
      text: 'Member 2, still cut off, pre-campaigns at term 1: its term does not run away, so when it comes back it will not depose member 3.' },
  ],
};

const LEASE_BUG: Tour = {
  name: 'lease-bug',
  title: 'An etcd bug: a new leader restarts every lease from its full TTL (leaseTtlResetLost, etcd #9395)',
  hash: '#seed=21&nodes=3&bug=leaseTtlResetLost',
  steps: [
    { at: 1074, check: all(is(1, 'leader', 2), leaseDeadlineAfter(1, '1002', 1600)),
      text: 'A three-member swarm seed with the KV clients and the planted bug leaseTtlResetLost. Member 1, leader of term 2, grants lease 1002 with a TTL of 1 s at 608 ms (see its card): its deadline is 1607 ms. The leader keeps each lease\'s deadline on its own clock and replicates a lease clock (checkpoints) so that a successor knows how much is left.' },
    { at: 1914, check: all(is(1, 'paused'), is(3, 'follower', 2)),
      text: 'Member 1 has stepped down (it heard from no majority in time), and now the swarm pauses it: a process stopped, as by SIGSTOP. Members 2 and 3 campaign for the next term.' },
    { at: 2399, check: all(is(3, 'leader', 4), leaseDeadlineAfter(3, '1002', 2700)),
      text: 'Member 3 won term 4 at 1657 ms. With the bug, promotion restarts every lease from its full TTL plus the election timeout (100 ms in the simulator), ignoring the replicated lease clock: the deadline of lease 1002 is now 2759 ms, 1.1 s after the promotion. Without the bug, a new leader resumes each lease from the replicated lease clock plus an election timeout.' },
    { at: 4674, check: all(is(3, 'leader', 5), leaseDeadlineAfter(3, '1002', 3500)),
      text: 'Member 3 lost office and won it again, term 5 at 2490 ms, and the bug restarts the lease once more: deadline 3589 ms. Its last renewal was at about 1735 ms, so as the checker reckons it (its last renewal plus the TTL) it ended at 2735 ms.' },
    { at: 'end', check: (_frame, verdict) => (verdict?.leaseOutlived.some((line) => line.startsWith('member 3 holds lease 1002 ')) === true
      ? null : 'the verdict finds no outliving of lease 1002 by member 3'),
      text: 'The run\'s verdict (the line under the cluster, judged over the whole run at its end): the lease bound is broken (leaseOutlived). Member 3 held lease 1002 until 6247 ms, 3512 ms past its end at 2735 ms, beyond the slack allowed (until 6185 ms). The same check found etcd 3.4\'s bug #9395.' },
  ],
};

export const TOURS: readonly Tour[] = [FIGURE7, FIGURE8, ELECTION, LEASE_BUG];

export function tourNamed(name: string): Tour | null {
  return TOURS.find((t) => t.name === name) ?? null;
}

/** The event index a step shows, given the run's length. */
export function stepIndex(step: TourStep, events: number): number {
  return step.at === 'end' ? events : step.at;
}
