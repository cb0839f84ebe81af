// --membership: the simulator runs the production membership paths (core/membership:
// the Reconfigurer behind MemberRemove/MemberAdd/MemberPromote, the members following
// the log and the snapshot, the publish of attributes) under the swarm's faults. A run
// replaces members — a follower or the leader removed, a spare added as a learner,
// started on an empty disk, promoted once in sync — and the KV clients, the watch
// validator and the Raft checks keep judging the cluster throughout.
import test from 'ava';
import { runSimulation, type RunResult } from '../../sim/run.js';

function run(seed: number, faults: 'none' | 'swarm'): RunResult {
  return runSimulation({ seed, nodes: 3, timeMs: 10_000, faults, workload: 'kv', membership: true });
}

test('without faults, both spares replace two members: removed members stay down, the spares end as voters', (t) => {
  for (const seed of [1, 2]) {
    const result = run(seed, 'none');
    t.deepEqual(result.violations, [], `seed ${seed}`);
    t.is(result.liveness, 'ok');
    t.is(result.kv?.linearizable, 'ok');
    t.is(result.watch, 'ok');
    t.like(result.membership, { removed: 2, added: 2, promoted: 2 }, `seed ${seed}`);
    const removed = result.members.filter((m) => m.state === 'removed').map((m) => m.id);
    t.is(removed.length, 2);
    const voters = result.membership?.voters ?? [];
    t.deepEqual(voters, [1, 2, 3, 4, 5].filter((id) => !removed.includes(id)), 'the voters are the members not removed');
    t.true(voters.includes(4) && voters.includes(5), 'both spares were promoted to voters');
  }
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
