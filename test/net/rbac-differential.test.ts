// The RBAC differential (issue #13): fast-check draws roles, permission grants over
// keys, ranges, prefixes and from-key ranges, role grants to users and revokes, then a
// sequence of requests sent as those users with their tokens (Range, Put, DeleteRange
// with prev_kv, Txn with compares and nested ops, leases with attached keys, Watch
// create, admin and maintenance calls as a non-root user). The same sequence goes to a
// real etcd 3.4 and to a Tern member over gRPC; every decision and every error text must
// be the same (rbacOutcome.ts says what is normalized, and why).
//
// Reproduce a failure with the seed it prints: RBAC_SEED=<seed> npx ava build/test/net/rbac-differential.test.js
import test from 'ava';
import fc from 'fast-check';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEtcd, startTern } from './processes.js';
import { scenarioArbitrary } from './rbacModel.js';
import { bootstrap, minimize, runScenario } from './rbacRun.js';
import type { Scenario } from './rbacModel.js';

/** 55 runs of 40 steps: 2,200 requests per CI run (the issue asks for at least 2,000), plus each run's setup. */
const RUNS = 55;
const STEPS_PER_RUN = 40;
const REQUESTS_MIN = 2_000;
/** Under ava's 5-minute limit, leaving room for minimize() and the teardown. */
const SHRINK_BUDGET_MS = 180_000;

/**
 * Both data dirs in memory where the box has /dev/shm: every write fsyncs on both
 * servers, and on a disk that dominates the wall time (about 3× here). What is compared
 * does not depend on it.
 */
function scratchRoot(): string {
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  return mkdtempSync(path.join(base, 'tern-rbac-'));
}

test('etcd and Tern make the same RBAC decision, with the same answer, for every drawn request', async (t) => {
  const root = scratchRoot();
  t.teardown(() => { rmSync(root, { recursive: true, force: true }); });
  const started = await Promise.allSettled([startEtcd({ dataDir: path.join(root, 'etcd') }), startTern({ dataDir: path.join(root, 'tern') })]);
  // Whichever started is stopped, also when the other did not.
  for (const s of started) if (s.status === 'fulfilled') t.teardown(async () => { await s.value.stop(); });
  const [etcd, tern] = started.map((s) => {
    if (s.status === 'rejected') throw s.reason;
    return s.value;
  });
  if (etcd === undefined || tern === undefined) throw new Error('two servers were started');
  const [etcdSide, ternSide] = await Promise.all([bootstrap('etcd', etcd.endpoint), bootstrap('tern', tern.endpoint)]);
  t.teardown(() => { etcdSide.client.close(); ternSide.client.close(); });

  let requests = 0;
  let setupCalls = 0;
  let failing: Scenario | null = null;
  const seedText = process.env.RBAC_SEED;
  const result = await fc.check(fc.asyncProperty(scenarioArbitrary(STEPS_PER_RUN), async (scenario) => {
    const report = await runScenario(etcdSide, ternSide, scenario);
    requests += report.requests;
    setupCalls += report.setupCalls;
    if (report.differences === 0) return true;
    failing = scenario;
    return false;
  }), {
    numRuns: RUNS, ...(seedText === undefined ? {} : { seed: Number(seedText) }),
    // Shrinking replays runs on the live servers; past this budget fast-check reports the
    // smallest failure found so far (a passing check takes about 30 s here).
    interruptAfterTimeLimit: SHRINK_BUDGET_MS, markInterruptAsFailure: false,
  });

  for (const [name, running] of [['etcd', etcd], ['Tern', tern]] as const) {
    const exit = running.process.exitCode ?? running.process.signalCode;
    t.is(exit, null, `${name} is still running at the end (a member must never crash on a request)`);
  }
  if (result.failed) {
    const smallest = failing as Scenario | null;
    const transcript = smallest === null ? String(result.errorInstance) : (await minimize(etcdSide, ternSide, smallest)).report.transcript;
    t.fail([
      `etcd and Tern answered differently (seed ${result.seed}, path ${result.counterexamplePath ?? ''}, after ${result.numShrinks} shrinks).`,
      `Reproduce: RBAC_SEED=${result.seed} npx ava build/test/net/rbac-differential.test.js`,
      'The smallest failing run found, every call with both answers (">>" marks the difference):',
      transcript,
    ].join('\n'));
    return;
  }
  t.log(`${requests} requests and ${setupCalls} setup calls compared over ${RUNS} runs`);
  t.true(requests >= REQUESTS_MIN, `at least ${REQUESTS_MIN} requests compared (${requests})`);
});
