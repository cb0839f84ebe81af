// The lease workload of `npm run jepsen`: the expiry bounds it judges by (on made-up
// observations, where the answer is known), and a short run against real Tern members
// without faults, where every lease must expire inside its bounds.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { judgeLeases, type LeaseLife } from '../../jepsen-like/real/lease.js';
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

const bounds = { ttlS: 5, slackMs: 3000 };

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
