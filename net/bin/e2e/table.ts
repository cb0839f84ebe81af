// The run's report: one row per test with each target's outcome, the first reason of each
// of Tern's failures, and the counts per target.

import type { TestResult } from './runTest.js';
import type { Target } from './workspace.js';

export type Results = ReadonlyMap<string, ReadonlyMap<Target, TestResult>>;

const cell = (result: TestResult | undefined): string => (result === undefined ? 'not run' : `${result.outcome} ${result.seconds.toFixed(0)}s`);

export function formatTable(tests: readonly string[], targets: readonly Target[], results: Results): string {
  const width = Math.max(4, ...tests.map((t) => t.length));
  const header = ['test'.padEnd(width), ...targets.map((t) => t.padEnd(12)), 'first reason (tern)'].join('  ');
  const rows = tests.map((test) => {
    const byTarget = results.get(test);
    const tern = byTarget?.get('tern');
    const reason = tern !== undefined && tern.outcome !== 'pass' ? tern.reason : '';
    return [test.padEnd(width), ...targets.map((t) => cell(byTarget?.get(t)).padEnd(12)), reason].join('  ').trimEnd();
  });
  return [header, ...rows, '', ...targets.map((t) => countLine(t, tests, results))].join('\n');
}

/** "tern: 40/62 pass, 3 fail, 1 timeout, 18 not run" */
export function countLine(target: Target, tests: readonly string[], results: Results): string {
  const counts = new Map<string, number>();
  for (const test of tests) {
    const outcome = results.get(test)?.get(target)?.outcome ?? 'not run';
    counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  }
  const rest = [...counts].filter(([outcome]) => outcome !== 'pass').map(([outcome, n]) => `${n} ${outcome}`);
  return [`${target}: ${counts.get('pass') ?? 0}/${tests.length} pass`, ...rest].join(', ');
}
