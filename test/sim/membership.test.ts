// --membership: the simulator runs the production membership paths (core/membership:
// the Reconfigurer behind MemberRemove/MemberAdd/MemberPromote, the members following
// the log and the snapshot, the publish of attributes) under the swarm's faults. A run
// replaces members — a follower or the leader removed, a spare added as a learner,
// started on an empty disk, promoted once in sync — and the KV clients, the watch
// validator and the Raft checks keep judging the cluster throughout.
import test from 'ava';
import { runSimulation, type RunResult } from '../../sim/run.js';
import { parseArgs, reproduceCommand } from '../../sim/args.js';
import { commandOf, formatHash, parseHash, runOptionsOf, specOf } from '../../sim/replay/runSpec.js';
import type { RunOptions } from '../../sim/runOptions.js';
import { membershipOn } from '../../sim/world.js';

function run(seed: number, faults: 'none' | 'swarm'): RunResult {
  return runSimulation({ seed, nodes: 3, timeMs: 10_000, faults, workload: 'kv', membership: true });
}

test('without faults, members are replaced: the removed stay down and out of the voters, promoted spares are voters', (t) => {
  let fullReplacements = 0;
  for (const seed of [1, 2, 3, 4]) {
    const result = run(seed, 'none');
    t.deepEqual(result.violations, [], `seed ${seed}`);
    t.is(result.liveness, 'ok');
    t.is(result.kv?.linearizable, 'ok');
    t.is(result.watch, 'ok');
    const m = result.membership;
    if (m === undefined) return t.fail('no membership result');
    t.is(m.removed, 2, `seed ${seed}: both removals applied (no faults to refuse them)`);
    t.true(m.added >= 1 && m.promoted <= m.added);
    const removed = result.members.filter((r) => r.state === 'removed').map((r) => r.id);
    t.is(removed.length, m.removed, 'each removed member stopped for good');
    t.true(m.voters.every((id) => !removed.includes(id)), `seed ${seed}: no removed member is a voter (${m.voters.join(',')})`);
    t.is(m.voters.length, 3 - m.removed + m.promoted, `seed ${seed}: the voters are the initial three, less the removed, plus the promoted`);
    if (m.added === 2 && m.promoted === 2) fullReplacements++;
  }
  t.true(fullReplacements >= 1, 'some seed replaced two members start to end');
});

test('under the swarm\'s faults, membership changes leave the histories linearizable and the watches valid', (t) => {
  let changed = 0;
  for (const seed of [1, 2, 3, 4, 6]) {
    const result = run(seed, 'swarm');
    t.deepEqual(result.violations, [], `seed ${seed}`);
    t.is(result.liveness, 'ok', `seed ${seed}`);
    t.not(result.kv?.linearizable, 'illegal', `seed ${seed}`);
    t.not(result.watch, 'invalid', `seed ${seed}`);
    changed += (result.membership?.removed ?? 0) + (result.membership?.added ?? 0);
  }
  t.true(changed >= 6, `the seeds changed the membership (${changed} changes)`);
});

test('a --membership run is deterministic, and runs without it keep their traces', (t) => {
  const a = run(3, 'swarm');
  const b = run(3, 'swarm');
  t.is(a.trace_hash, b.trace_hash);
  const plain = runSimulation({ seed: 3, nodes: 3, timeMs: 10_000, faults: 'swarm', workload: 'kv', membership: false });
  t.not(plain.trace_hash, a.trace_hash);
  t.is(plain.membership, undefined);
});

test('the viewer URL of a --membership run reopens that run (membership=1 in the hash)', (t) => {
  const spec = specOf({ seed: 3, membership: true });
  const hash = formatHash(spec);
  t.regex(hash, /membership=1/);
  const parsed = parseHash(hash);
  if (!parsed.ok) return t.fail(parsed.error);
  t.is(parsed.spec.membership, true);
  t.is(runSimulation(runOptionsOf(parsed.spec)).trace_hash, run(3, 'swarm').trace_hash);
  t.regex(commandOf(parsed.spec), /--membership/);
  const plain = parseHash('#seed=3&nodes=3');
  t.true(plain.ok && plain.spec.membership === undefined, 'absent unless asked for');
});

test('a swarm run draws membership changes for one seed in four, from the seed alone; asked for, they are on or off', (t) => {
  const options = (seed: number): RunOptions => ({ seed, nodes: 3, timeMs: 10_000, faults: 'swarm', workload: 'kv' });
  const drawn = Array.from({ length: 400 }, (_, i) => i + 1).filter((seed) => membershipOn(options(seed)));
  t.true(drawn.length > 70 && drawn.length < 130, `${drawn.length} of 400 seeds`);
  t.false(membershipOn({ ...options(drawn[0] ?? 0), faults: 'none' }), 'never without the swarm');
  t.false(membershipOn({ ...options(drawn[0] ?? 0), nodes: 1 }), 'never on one member');
  t.true(membershipOn({ ...options(1), membership: true }));
  t.false(membershipOn({ ...options(drawn[0] ?? 0), membership: false }));
  // A seed that draws it runs as --membership does; one that does not, as --no-membership.
  const on = drawn[0] ?? 0;
  const off = [1, 2, 3, 4, 5, 6].find((seed) => !drawn.includes(seed)) ?? 0;
  const onRun = runSimulation(options(on));
  t.not(onRun.membership, undefined);
  t.is(onRun.trace_hash, run(on, 'swarm').trace_hash);
  t.is(runSimulation(options(off)).trace_hash, runSimulation({ ...options(off), membership: false }).trace_hash);
});

test('--no-membership and membership=0 turn a drawn seed\'s changes off, and the reproduce command keeps the choice', (t) => {
  const parsed = parseArgs(['--seed', '2', '--no-membership']);
  if (!parsed.ok) return t.fail(parsed.error);
  t.is(parsed.options.membership, false);
  const drawn = parseArgs(['--seed', '2']);
  t.true(drawn.ok && drawn.options.membership === null, 'absent: drawn');
  t.regex(reproduceCommand({ seed: 2, nodes: 3, timeMs: 10_000, faults: 'swarm', bugs: [], workload: 'kv', membership: false }), /--no-membership/);
  const hash = parseHash('#seed=2&nodes=3&membership=0');
  t.true(hash.ok && hash.spec.membership === false);
  t.regex(formatHash({ ...specOf({ seed: 2 }), membership: false }), /membership=0/);
  t.false(parseHash('#seed=2&membership=maybe').ok, 'anything but 1 or 0 is refused');
});
