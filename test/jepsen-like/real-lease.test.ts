// The lease workload of `npm run jepsen`: the expiry bounds it judges by (on made-up
// observations, where the answer is known), and a short run against real Tern members
// without faults, where every lease must expire inside its bounds.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { judgeLeases, type LeaseLife } from '../../jepsen-like/real/lease.js';
import { establishedLeader, leadershipIn, type LeaderSample } from '../../jepsen-like/real/leaderWatch.js';
import type { MemberStatus } from '../../jepsen-like/real/client.js';
import type { HistoryRecord } from '../../jepsen-like/real/recorder.js';
import { isRunning, memberPids, readSummary, startCli } from './real-runs.js';

const S = 1_000_000; // microseconds

/** A lease of 5 s granted at 0 s, its key put at 0.1 s, kept alive last at 2 s (answered at once). */
function life(): LeaseLife {
  return {
    id: '7587', alias: 1, key: 'lease/w/1', ttlS: 5, grantCall: 0, grantReturn: 0.05 * S, putAck: 0.1 * S,
    lastKeepAliveSent: 2 * S, lastKeepAliveAcked: 2 * S, lastKeepAliveUnanswered: null, goneAt: null, keepAlives: [],
  };
}

/** An observer's read of the lease keys from `call` to `call` + 10 ms, seeing `keys`. */
function read(callS: number, keys: string[]): HistoryRecord {
  return {
    process: 9, client: 'obs', call: callS * S, return: callS * S + 10_000, outcome: 'ok',
    request: { type: 'range', key: 'lease/', rangeEnd: 'lease0' },
    response: { revision: 5, kvs: keys.map((key) => ({ key })), count: keys.length },
  };
}

const bounds = { ttlS: 5, slackMs: 3000, electionTimeoutMs: 1000, leaders: [] as LeaderSample[] };

/** A poll every 100 ms from `fromS` to `toS` (exclusive), seeing `leader` at `term` (null: none). */
function polls(fromS: number, toS: number, leader: string | null, term: number): LeaderSample[] {
  const out: LeaderSample[] = [];
  for (let t = fromS; t < toS - 1e-9; t += 0.1) out.push({ at: Math.round(t * S), leader, term: leader === null ? 0 : term });
  return out;
}

test('a key gone between its TTL and TTL plus the slack is within bounds', (t) => {
  const verdict = judgeLeases([life()], [read(1, ['lease/w/1']), read(6.5, ['lease/w/1']), read(7.5, []), read(10.5, [])], bounds);
  t.true(verdict.ok);
  t.is(verdict.undecided, 0);
});

test('a key still there after TTL plus the slack outlived its lease', (t) => {
  // Expected gone by 2 + 5 = 7 s, allowed until 10 s; seen at 12 s.
  const verdict = judgeLeases([life()], [read(8, ['lease/w/1']), read(12, ['lease/w/1'])], bounds);
  t.false(verdict.ok);
  t.is(verdict.outlived.length, 1);
  t.regex(verdict.outlived[0]?.detail ?? '', /still there 5000 ms after its TTL/);
});

test('a key gone before its TTL (counted from the last keep-alive sent) vanished early', (t) => {
  const verdict = judgeLeases([life()], [read(3, ['lease/w/1']), read(6, []), read(11, [])], bounds);
  t.false(verdict.ok);
  t.is(verdict.early.length, 1);
});

test('a keep-alive that got no answer may have extended the lease: the bound moves with it', (t) => {
  const l = { ...life(), lastKeepAliveUnanswered: 4 * S };
  // Allowed until 4 + 5 + 3 = 12 s now: seen at 11 s is fine.
  t.true(judgeLeases([l], [read(11, ['lease/w/1']), read(12.5, [])], bounds).ok);
});

test('leaderless time and each new leader widen the bound: what passes with them fails without', (t) => {
  // Leader a (term 2) until 6 s, none from 6 to 7.5 s, then b (term 3): 1.5 s leaderless and
  // one new leader, so the key may live until 2 + 5 + 3 + 1.5 + 1 = 12.5 s.
  const leaders = [...polls(0, 6, 'a', 2), ...polls(6, 7.5, null, 0), ...polls(7.5, 20, 'b', 3)];
  const observed = [read(12, ['lease/w/1']), read(12.7, [])];
  t.true(judgeLeases([life()], observed, { ...bounds, leaders }).ok);
  const without = judgeLeases([life()], observed, bounds);
  t.false(without.ok);
  const late = judgeLeases([life()], [read(12, ['lease/w/1']), read(12.8, ['lease/w/1']), read(13, [])], { ...bounds, leaders });
  t.is(late.outlived.length, 1);
  t.regex(late.outlived[0]?.detail ?? '', /allowed: slack 3000 ms \+ 1\d\d\d ms leaderless \+ 1 new leader x 1000 ms/);
});

test('leader changes after the bound do not widen it', (t) => {
  // The change at 15 s is past 2 + 5 + 3 = 10 s: the key seen at 11 s outlived its lease.
  const leaders = [...polls(0, 15, 'a', 2), ...polls(15, 17, null, 0), ...polls(17, 20, 'b', 3)];
  t.false(judgeLeases([life()], [read(11, ['lease/w/1'])], { ...bounds, leaders }).ok);
  const w = leadershipIn(leaders, 2 * S, 10 * S);
  t.deepEqual(w, { leaderlessUs: 0, newLeaders: 0 });
});

test('an established leader needs a majority naming it and the tool to know it can lead', (t) => {
  const status = (memberId: string, leader: string, raftTerm = 4): MemberStatus => ({ memberId, leader, revision: 1, raftTerm });
  const all = [status('1', '1'), status('2', '1'), status('3', '1')];
  t.deepEqual(establishedLeader(all, () => true), { leader: '1', term: 4 });
  // Cut off (or paused): it still answers and its followers still name it, but nothing it proposes commits.
  t.is(establishedLeader(all, (i) => i !== 0), null);
  // Only itself names it: no majority.
  t.is(establishedLeader([status('1', '1'), status('2', '0'), null], () => true), null);
  // A follower at another term does not back it.
  t.is(establishedLeader([status('1', '1'), status('2', '1', 5), status('3', '0')], () => true), null);
  t.deepEqual(establishedLeader([status('1', '1'), status('2', '1'), null], () => true), { leader: '1', term: 4 });
});

test('no read after the upper bound: undecided, not ok by default', (t) => {
  const verdict = judgeLeases([life()], [read(3, ['lease/w/1'])], bounds);
  t.is(verdict.undecided, 1);
});

test('a short lease run against Tern without faults: every lease expires within its bounds, nothing left running', async (t) => {
  const run = startCli(t, ['--target', 'tern', '--nodes', '3', '--time-s', '5', '--workload', 'lease', '--lease-ttl-s', '2', '--election-slack-ms', '1500', '--nemesis', 'none', '--seed', '2']);
  t.is(await run.exited, 0, run.stderr());
  t.log(run.stdout());
  const summary = readSummary(run.dir);
  const lease = summary.verdicts.lease;
  t.true(lease !== undefined && lease.ok && lease.leases > 0, JSON.stringify(lease));
  t.is(summary.verdicts.linearizable.verdict, 'ok');
  // leases.jsonl: one line per lease, each keep-alive with its answer and the answering term.
  const lives = readFileSync(path.join(run.dir, 'leases.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as LeaseLife);
  t.is(lives.length, lease?.leases ?? -1);
  const answered = lives.flatMap((l) => l.keepAlives).filter((k) => k.answered !== null);
  t.true(answered.length > 0, 'no keep-alive was answered');
  t.true(answered.every((k) => k.ttl === 2 && k.raftTerm !== null && k.raftTerm >= 1 && k.memberId !== null), JSON.stringify(answered));
  t.deepEqual(memberPids(run.dir).filter(isRunning), []);
});
