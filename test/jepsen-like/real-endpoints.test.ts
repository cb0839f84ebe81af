// `npm run jepsen -- --endpoints`: a cluster the tool did not start. It is judged like its
// own (here one Tern member started by the test, with compactions as the only faults, which
// a client can make), left running afterwards, and refused once it holds data (the checker
// models the store from empty).

import test from 'ava';
import { startTern } from '../net/processes.js';
import { readSummary, startCli } from './real-runs.js';

test.serial('a running empty cluster is judged through its endpoints and left running; a non-empty one is refused', async (t) => {
  const member = await startTern();
  t.teardown(async () => { await member.stop(); });
  const run = startCli(t, ['--endpoints', member.endpoint, '--time-s', '8', '--workload', 'kv,lock', '--nemesis', 'compact', '--seed', '3', '--min-writes', '20']);
  t.is(await run.exited, 0, run.stderr());
  t.log(run.stdout());
  const summary = readSummary(run.dir);
  t.is(summary.result, 'ok');
  t.true(summary.acknowledgedWrites >= 20, JSON.stringify(summary));
  t.true((summary.faults['compact'] ?? 0) >= 1, JSON.stringify(summary.faults));
  t.is(member.process.exitCode, null, 'the tool left the member it did not start running');
  t.is(member.process.signalCode, null);

  const again = startCli(t, ['--endpoints', member.endpoint, '--time-s', '2', '--seed', '3']);
  t.is(await again.exited, 2);
  t.regex(again.stderr(), /needs an empty cluster \(revision 1\)/);

  const faulty = startCli(t, ['--endpoints', member.endpoint, '--nemesis', 'kill']);
  t.is(await faulty.exited, 2);
  t.regex(faulty.stderr(), /only client-side faults \(compact, defrag\)/);
});
