// The simulator can catch what it claims to catch: with each planted Raft bug switched
// on (core/raft/plantedBugs.ts), the swarm must find it within 100 seeds, and find it as
// the violation that names it. Twice: once by the rule checks (the broken rule itself),
// once with them off (--no-rule-checks), by what the broken rule leads to: two leaders'
// votes in a term, a committed entry overwritten (Figure 8), logs that disagree. The
// seed that found it must be clean without the bug, so the finding is the bug's.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { BUG_NAMES, plantedBugs, reproduceCommand } from '../../sim/args.js';
import type { RunResult } from '../../sim/run.js';
import { runSimulation } from '../../sim/run.js';
import type { ViolationKind } from '../../sim/safetyChecker.js';

const NODES = 5;
const TIME_MS = 10_000;
const SEEDS = 100;

/**
 * Per bug: what the rule checks report, and what its consequence is reported as without
 * them. A kept conflicting suffix has no rule check of its own: it shows as logs that
 * disagree, or as committed entries that do.
 */
const EXPECTED: Readonly<Record<(typeof BUG_NAMES)[number], { readonly rule: readonly ViolationKind[]; readonly consequence: readonly ViolationKind[] }>> = {
  voteWithoutPersist: { rule: ['persistBeforeSend'], consequence: ['doubleVote'] },
  commitOldTermByCounting: { rule: ['commitRule'], consequence: ['leaderCompleteness'] },
  appendWithoutTruncate: { rule: ['logMatching', 'stateMachineSafety'], consequence: ['logMatching', 'stateMachineSafety'] },
};

function run(seed: number, bug: (typeof BUG_NAMES)[number] | null, ruleChecks: boolean): RunResult {
  return runSimulation({
    seed, nodes: NODES, timeMs: TIME_MS, faults: 'swarm', ruleChecks, bugs: plantedBugs(bug === null ? [] : [bug]),
  });
}

function hunt(t: ExecutionContext, bug: (typeof BUG_NAMES)[number], ruleChecks: boolean): void {
  const expected = ruleChecks ? EXPECTED[bug].rule : EXPECTED[bug].consequence;
  for (let seed = 1; seed <= SEEDS; seed++) {
    const violation = run(seed, bug, ruleChecks).violations[0];
    if (violation === undefined) continue;
    t.log(`${bug}: found by seed ${seed} (${violation.kind}: ${violation.detail})`);
    t.log(`reproduce: ${reproduceCommand({ seed, nodes: NODES, timeMs: TIME_MS, faults: 'swarm', bugs: [bug], ruleChecks })}`);
    t.true(expected.includes(violation.kind), `seed ${seed}'s first violation is ${violation.kind}, not ${expected.join(' or ')}`);
    t.deepEqual(run(seed, null, ruleChecks).violations.map((v) => `${v.kind}: ${v.detail}`), [], `seed ${seed} without the bug must be clean`);
    return;
  }
  t.fail(`no seed in 1..${SEEDS} found ${bug}`);
}

for (const bug of BUG_NAMES) {
  test(`the swarm finds the planted bug ${bug} within ${SEEDS} seeds by the rule check ${EXPECTED[bug].rule.join(' or ')}`, (t) => {
    hunt(t, bug, true);
  });
  test(`with the rule checks off, the swarm finds the planted bug ${bug} within ${SEEDS} seeds by its consequence ${EXPECTED[bug].consequence.join(' or ')}`, (t) => {
    hunt(t, bug, false);
  });
}
