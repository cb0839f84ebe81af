// --membership: the simulator runs the production membership paths (core/membership:
// the Reconfigurer behind MemberRemove/MemberAdd/MemberPromote, the members following
// the log and the snapshot, the publish of attributes) under the swarm's faults. A run
// replaces members — a follower or the leader removed, a spare added as a learner,
// started on an empty disk, promoted once in sync — and the KV clients, the watch
// validator and the Raft checks keep judging the cluster throughout.
import test from 'ava';
import { runSimulation, type RunResult } from '../../sim/run.js';
import { commandOf, formatHash, parseHash, runOptionsOf, specOf } from '../../sim/replay/runSpec.js';

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
  const plain = runSimulation({ seed: 3, nodes: 3, timeMs: 10_000, faults: 'swarm', workload: 'kv' });
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
