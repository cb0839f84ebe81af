// The command line of `npm run jepsen`: what it accepts, what it refuses, and the
// reproduce command a run prints, which must parse back into the same run.

import test from 'ava';
import { parseArgs, reproduceCommand, UsageError } from '../../jepsen-like/real/args.js';
import { leaseGap, planFaults } from '../../jepsen-like/real/nemesis.js';
import { SimRandom } from '../../sim/prng.js';

const noSeed = (): number => { throw new Error('a seed was given'); };

test('the flags of the issue parse, and the reproduce command parses back to the same options', (t) => {
  const options = parseArgs(['--target', 'etcd', '--nodes', '5', '--time-s', '60', '--nemesis', 'kill,leader', '--workload', 'kv,lease', '--seed', '42', '--out', 'runs/x', '--lease-ttl-s', '10'], noSeed);
  t.like(options, { target: 'etcd', nodes: 5, timeS: 60, nemesis: ['kill', 'leader'], workloads: ['kv', 'lease'], seed: 42, out: 'runs/x', leaseTtlS: 10 });
  const command = reproduceCommand(options);
  t.true(command.startsWith('npm run jepsen -- '));
  const again = parseArgs(command.replace('npm run jepsen -- ', '').split(' '), noSeed);
  t.deepEqual(again, options);
});

test('without --seed a random one is drawn (and printed in the reproduce command)', (t) => {
  const options = parseArgs(['--out', 'd'], () => 1234);
  t.is(options.seed, 1234);
  t.regex(reproduceCommand(options), /--seed 1234 /);
});

test('bad usage is refused with a reason', (t) => {
  const refuse = (args: string[], reason: RegExp): void => {
    const error = t.throws(() => parseArgs(args, () => 1), { instanceOf: UsageError });
    t.regex(error.message, reason);
  };
  refuse(['--target', 'tern'], /--out DIR is required/);
  refuse(['--out', 'd', '--target', 'zookeeper'], /tern or etcd/);
  refuse(['--out', 'd', '--nemesis', 'kill,meteor'], /unknown meteor/);
  refuse(['--out', 'd', '--nodes', '9'], /at most 7/);
  refuse(['--out', 'd', '--time-s', '-1'], /not a positive number/);
  refuse(['--out', 'd', '--frobnicate'], /unknown argument/);
});

test('the fault plan is a function of the seed, and leaves a quiet tail', (t) => {
  const plan = (seed: number): unknown => planFaults(['kill', 'pause', 'partition'], 30_000, new SimRandom(seed));
  t.deepEqual(plan(7), plan(7));
  t.notDeepEqual(plan(7), plan(8));
  for (const fault of planFaults(['partition'], 30_000, new SimRandom(3))) {
    t.is(fault.kind, 'partition');
    t.true(fault.atMs >= 1000 && fault.atMs + fault.durationMs <= 30_000 - 1500);
  }
  t.deepEqual(planFaults([], 30_000, new SimRandom(1)), [], 'no nemesis, no faults');
  t.true(planFaults(['leader'], 30_000, new SimRandom(1)).every((f) => f.aimAtLeader), 'leader alone aims every fault at the leader');
});

test('with leases, faults are half a TTL to a TTL apart, so leases age under a running leader between them', (t) => {
  const plan = planFaults(['leader'], 60_000, new SimRandom(4), leaseGap(6));
  t.true(plan.length >= 3, JSON.stringify(plan));
  for (let i = 1; i < plan.length; i++) {
    const [before, after] = [plan[i - 1], plan[i]];
    if (before === undefined || after === undefined) continue;
    const gap = after.atMs - (before.atMs + before.durationMs);
    t.true(gap >= 3000 && gap <= 6000, `gap ${gap} ms`);
  }
});
