// A single-member cluster under swarm faults. Restarted, a lone member's durable commit
// index may lag entries it acknowledged before the crash (the commit is written with the
// next Ready, not always synced): it must not answer a ReadIndex read from that lagging
// index before it commits an entry of its new term. The simulator found such stale reads
// at these seeds (--nodes 1) before the fix in core/raft/raft.ts (leaderReadIndex).
import test from 'ava';
import { runSimulation } from '../../sim/run.js';

const FOUND_STALE_READS = [82, 132];

for (const seed of FOUND_STALE_READS) {
  test(`a restarted single member serves no ReadIndex read below what it acknowledged (seed ${seed})`, (t) => {
    const result = runSimulation({ seed, nodes: 1, timeMs: 10_000, faults: 'swarm', workload: 'kv' });
    t.true(result.crashes > 0, 'the member crashed and restarted');
    t.true(result.reads_served > 0, 'ReadIndex reads were served');
    t.deepEqual(result.violations.map((v) => `${v.kind}: ${v.detail}`), []);
  });
}
