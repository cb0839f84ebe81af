// The tool finds etcd 3.4's known bugs in Debian's real etcd, with the commands
// docs/jepsen-like.md gives: #9395 (a leader change restarts lease TTLs, so a key
// outlives its lease) and #15220 (a watch progress notification out of step with the
// stream's events). Each reproduced in 10 of 10 runs of its command when measured;
// a test gives each up to three seeds, and asserts that the verdict naming the bug
// fails while the kv verdicts stay ok (the finding is that bug, not any failure).
// Tern passing the same commands is asserted by the campaign and the other real tests.

import test, { type ExecutionContext } from 'ava';
import { spawnSync } from 'node:child_process';
import { isRunning, memberPids, readSummary, startCli, type SummaryJson } from './real-runs.js';

const SEEDS = [1, 2, 3];

test.before(() => {
  const etcd = spawnSync('etcd', ['--version'], { encoding: 'utf8' });
  if (etcd.status !== 0) throw new Error("these tests need Debian's etcd 3.4 on PATH (apt-get install etcd-server; .ci/run installs it)");
});

/** Runs the tool against etcd with `args` for each seed until `found` says the run showed the bug. */
async function firstFinding(t: ExecutionContext, args: readonly string[], found: (s: SummaryJson) => boolean): Promise<SummaryJson | undefined> {
  for (const seed of SEEDS) {
    const run = startCli(t, ['--target', 'etcd', ...args, '--seed', String(seed)]);
    const code = await run.exited;
    const summary = readSummary(run.dir);
    for (const pid of memberPids(run.dir)) t.false(isRunning(pid), `etcd pid ${pid} still running after the run`);
    t.is(summary.verdicts.linearizable.verdict, 'ok', `seed ${seed}: the kv history stays linearizable`);
    t.is(summary.verdicts.lostWrites.lost.length, 0);
    if (found(summary)) {
      t.is(code, 1, 'a violation exits 1');
      t.regex(run.stdout(), /reproduce: npm run jepsen -- --target etcd .*--seed \d+/);
      t.log(`seed ${seed}: ${run.stdout().split('\n').find((l) => l.includes('FAIL')) ?? ''}`);
      return summary;
    }
    t.log(`seed ${seed}: not this time (${summary.result})`);
  }
  return undefined;
}

test('etcd 3.4 #9395: under leader faults a key outlives its lease (--workload lease --nemesis leader)', async (t) => {
  const summary = await firstFinding(t, ['--time-s', '20', '--workload', 'lease', '--nemesis', 'leader'], (s) => (s.verdicts.lease?.outlived.length ?? 0) > 0);
  t.not(summary, undefined, `no run of seeds ${SEEDS.join(', ')} showed a lease outliving its TTL`);
  t.is(summary?.verdicts.lease?.ok, false);
});

test('etcd 3.4 #15220: a progress notification out of step with the events (--workload watch)', async (t) => {
  const summary = await firstFinding(t, ['--time-s', '15', '--workload', 'watch', '--nemesis', 'none'], (s) => (s.verdicts.watch?.violations ?? []).some((v) => v.property === 'bookmarkable'));
  t.not(summary, undefined, `no run of seeds ${SEEDS.join(', ')} showed a bookmarkable violation`);
  t.true((summary?.verdicts.watch?.violations ?? []).every((v) => v.property === 'bookmarkable'), 'only bookmarkable violations');
});
