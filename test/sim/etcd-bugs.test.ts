// The simulator finds etcd's own regression bugs (etcd-api.md §2.2, issue #18): each is
// planted behind a switch (core/raft/plantedBugs.ts), and the check that names its class
// must find it within seeds 1..100 — linearizability for a lost write or a stale read,
// the watch validator's named guarantee for a watch bug. Not just any violation: the
// one etcd's robustness suite reported. The first seed that finds it must be clean
// without the bug, so the finding is the bug's and not the simulator's.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { ETCD_BUG_NAMES, plantedBugs, reproduceCommand } from '../../sim/args.js';
import type { BugName } from '../../sim/args.js';
import type { WatchProperty } from '../../jepsen-like/watch/validate.js';
import type { RunResult } from '../../sim/run.js';
import { runSimulation } from '../../sim/run.js';

const TIME_MS = 10_000;
const SEEDS = 100;

/** How one bug is hunted: the cluster it shows in, and the verdict that names its class. */
interface Hunt {
  readonly nodes: number;
  /** Run past the first violation, so that the end-of-run check judges the whole history. */
  readonly keepGoing: boolean;
  /** The check that must find it, for the test's title and log. */
  readonly check: string;
  readonly found: (result: RunResult) => boolean;
}

function linearizability(result: RunResult): boolean {
  return result.kv?.linearizable === 'illegal' && result.violations.some((v) => v.kind === 'notLinearizable');
}

/** The watch validator's first broken guarantee is `property`. */
function watchGuarantee(property: WatchProperty): (result: RunResult) => boolean {
  return (result) => result.kv?.watch === property && result.violations.some((v) => v.kind === 'watchBroken');
}

/** A watch bug in the default three-member swarm, caught by the watch validator's `property`. */
function watchHunt(property: WatchProperty): Hunt {
  return { nodes: 3, keepGoing: false, check: `the watch validator (${property})`, found: watchGuarantee(property) };
}

const HUNTS: Readonly<Record<(typeof ETCD_BUG_NAMES)[number], Hunt>> = {
  // #14370 is a single-member bug: with more voters a quorum holds the write durably.
  // The Raft checks see the lost entry first; the clients' history must show it too.
  ackBeforeDurable: { nodes: 1, keepGoing: true, check: 'linearizability (a lost write after a crash)', found: linearizability },
  watchBackInTime: watchHunt('resumable'),
  futureWatchOldEvents: watchHunt('resumable'),
  progressNotifyAhead: watchHunt('bookmarkable'),
  slowWatcherDropsEvents: watchHunt('reliable'),
  compactDropsDeleteEvent: watchHunt('reliable'),
  reuseReadIndex: { nodes: 3, keepGoing: false, check: 'linearizability (a stale read after a pause)', found: linearizability },
  leaseTtlResetLost: {
    nodes: 3, keepGoing: false, check: 'the lease bound (a key outlives its TTL)',
    found: (result) => result.violations.some((v) => v.kind === 'leaseOutlived') && (result.kv?.lease_outlived.length ?? 0) > 0,
  },
};

function run(seed: number, hunt: Hunt, bugs: readonly BugName[]): RunResult {
  return runSimulation({
    seed, nodes: hunt.nodes, timeMs: TIME_MS, faults: 'swarm', workload: 'kv', keepGoing: hunt.keepGoing, bugs: plantedBugs(bugs),
  });
}

function hunt(t: ExecutionContext, bug: (typeof ETCD_BUG_NAMES)[number]): void {
  const how = HUNTS[bug];
  for (let seed = 1; seed <= SEEDS; seed++) {
    const result = run(seed, how, [bug]);
    if (!how.found(result)) continue;
    const kinds = [...new Set(result.violations.map((v) => v.kind))].join(', ');
    t.log(`${bug}: first found by seed ${seed} (${kinds}); kv ${result.kv?.linearizable ?? '-'}, watch ${result.kv?.watch ?? '-'}`);
    t.log(`reproduce: ${reproduceCommand({ seed, nodes: how.nodes, timeMs: TIME_MS, faults: 'swarm', bugs: [bug], workload: 'kv', keepGoing: how.keepGoing })}`);
    const clean = run(seed, how, []);
    t.deepEqual(clean.violations.map((v) => `${v.kind}: ${v.detail}`), [], `seed ${seed} without the bug must be clean`);
    t.is(clean.liveness, 'ok');
    return;
  }
  t.fail(`no seed in 1..${SEEDS} made ${how.check} find ${bug}`);
}

for (const bug of ETCD_BUG_NAMES) {
  test(`the simulator finds the planted etcd bug ${bug} by ${HUNTS[bug].check} within ${SEEDS} seeds`, (t) => { hunt(t, bug); });
}
