// `npm run jepsen --nemesis member` against real Tern members: each fault removes a member,
// wipes it, adds it back as a learner under its old name and promotes it once it caught
// up. Every verdict must be ok (HashKV names members by name, so it covers the re-added
// ones), each fault's log must show its steps, the member list at the end must have every
// member as a voter with a new id for each one re-added, and no member process is left.

import test from 'ava';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { planFaults } from '../../jepsen-like/real/nemesis.js';
import { SimRandom } from '../../sim/prng.js';
import { isRunning, memberPids, readSummary, startCli } from './real-runs.js';

interface FaultLine { readonly kind: string; readonly target: string; readonly detail: string; readonly start: number; readonly end: number }

test('the plan draws member faults only when asked for by name, and aims them at the leader with leader', (t) => {
  const aimed = planFaults(['member', 'leader'], 30_000, new SimRandom(1));
  t.true(aimed.length > 0 && aimed.every((f) => f.kind === 'member' && f.aimAtLeader), JSON.stringify(aimed));
  const mixed = planFaults(['member', 'kill'], 60_000, new SimRandom(2));
  t.true(mixed.some((f) => f.kind === 'member') && mixed.some((f) => f.kind === 'kill'), JSON.stringify(mixed));
  for (let seed = 1; seed <= 20; seed++) t.false(planFaults(['leader'], 60_000, new SimRandom(seed)).some((f) => f.kind === 'member'));
});

test('kv while members are removed and added back learner first: every verdict ok, all voters at the end, no member left running', async (t) => {
  // Seed 1's plan for 10 s: two member faults (every fault of a `member`-only plan is one).
  const run = startCli(t, ['--target', 'tern', '--nodes', '3', '--time-s', '10', '--workload', 'kv', '--nemesis', 'member', '--check-timeout-s', '60', '--min-writes', '20', '--seed', '1']);
  t.true([0, 3].includes(await run.exited ?? -1), run.stderr());
  const s = readSummary(run.dir);
  t.log(run.stdout());
  t.is(s.verdicts.linearizable.verdict, 'ok');
  t.deepEqual(s.verdicts.lostWrites.lost, []);
  t.true(s.verdicts.revisionMonotonic.ok);
  t.is(s.verdicts.hashKv.ok, true);
  t.deepEqual(Object.keys(s.verdicts.hashKv.hashes).sort(), ['n1', 'n2', 'n3']);
  t.true(s.acknowledgedWrites >= 20, JSON.stringify(s));

  const faults = readFileSync(path.join(run.dir, 'nemesis.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as FaultLine);
  t.true(faults.length >= 1 && faults.every((f) => f.kind === 'member'), JSON.stringify(faults));
  const newIds = new Map<string, string>();
  for (const f of faults) {
    const removed = /removed (\S+) id (\d+)/.exec(f.detail);
    const added = /added (\S+) as learner id (\d+)/.exec(f.detail);
    t.true(removed !== null && added !== null && /started with --initial-cluster-state existing/.test(f.detail) && /promoted /.test(f.detail)
      && /listed as voter \S+ by every member/.test(f.detail), f.detail);
    t.is(removed?.[1], f.target);
    t.is(added?.[1], f.target);
    t.not(added?.[2], removed?.[2], 'the member comes back under a new id');
    if (added?.[2] !== undefined) newIds.set(f.target, added[2]);
  }

  const members = s.members ?? null;
  t.not(members, null, 'the closing MemberList answered');
  t.deepEqual(members?.map((m) => m.name).sort(), ['n1', 'n2', 'n3'], 'names unique, every member back');
  t.true(members?.every((m) => !m.isLearner), JSON.stringify(members));
  for (const [name, id] of newIds) t.is(members?.find((m) => m.name === name)?.id, id, `${name} is in under the id it was added with last`);

  const pids = memberPids(run.dir);
  t.true(pids.length >= 3 + faults.length, 'each re-added member was started again');
  t.deepEqual(pids.filter(isRunning), []);
});
