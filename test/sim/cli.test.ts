import test from 'ava';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs, reproduceCommand } from '../../sim/args.js';

const CLI = path.join(process.cwd(), 'build/sim/cli.js');

test('good options parse', (t) => {
  const parsed = parseArgs(['--seed', '17', '--nodes', '5', '--time-ms', '2000', '--faults', 'none', '--json']);
  t.true(parsed.ok);
  if (!parsed.ok) return;
  t.like(parsed.options, { seedFirst: 17, seedLast: 17, range: false, nodes: 5, timeMs: 2000, faults: 'none', json: true });
  const range = parseArgs(['--seeds', '1..100', '--bug', 'appendWithoutTruncate']);
  t.true(range.ok && range.options.range && range.options.seedLast === 100 && range.options.bugs[0] === 'appendWithoutTruncate');
});

test('bad options get a clear error', (t) => {
  const cases: [string[], RegExp][] = [
    [[], /--seed S or --seeds/],
    [['--seed', 'x1'], /--seed must be/],
    [['--seed', '1', '--nodes', '0'], /--nodes must be between 1 and 9/],
    [['--seed', '1', '--nodes', 'three'], /--nodes must be an integer/],
    [['--seed', '1', '--time-ms', '-5'], /--time-ms needs a value|--time-ms must be/],
    [['--seed', '1', '--time-ms', '1e3'], /--time-ms must be an integer/],
    [['--seed', '1', '--faults', 'lots'], /--faults must be 'none' or 'swarm'/],
    [['--seeds', '5..1'], /range is empty/],
    [['--seeds', '1-5'], /--seeds must look like A..B/],
    [['--seeds', '1..5', '--trace', 'f'], /single seed|--trace writes one run/],
    [['--seed', '1', '--bug', 'nope'], /--bug must be one of/],
    [['--seed', '1', '--frobnicate'], /unknown option/],
    [['--seed'], /needs a value/],
  ];
  for (const [argv, message] of cases) {
    const parsed = parseArgs(argv);
    t.false(parsed.ok, argv.join(' '));
    if (!parsed.ok) t.regex(parsed.error, message, argv.join(' '));
  }
});

test('the CLI exits 2 on bad options and says why', (t) => {
  const result = spawnSync(process.execPath, [CLI, '--seed', '1', '--nodes', 'many'], { encoding: 'utf8' });
  t.is(result.status, 2);
  t.regex(result.stderr, /--nodes must be an integer/);
  t.regex(result.stderr, /usage:/);
});

test('an unwritable trace file is a bad option (exit 2)', (t) => {
  const result = spawnSync(process.execPath, [CLI, '--seed', '1', '--trace', '/nonexistent-dir/trace.jsonl'], { encoding: 'utf8' });
  t.is(result.status, 2);
  t.regex(result.stderr, /cannot write the trace file/);
});

test('the reproduce command names every option that shapes the run', (t) => {
  t.is(reproduceCommand({ seed: 9, nodes: 5, timeMs: 10000, faults: 'swarm', bugs: ['voteWithoutPersist'] }),
    'npm run --silent sim -- --seed 9 --nodes 5 --time-ms 10000 --faults swarm --workload none --bug voteWithoutPersist');
  t.is(reproduceCommand({ seed: 9, nodes: 3, timeMs: 500, faults: 'none', bugs: [], workload: 'kv' }),
    'npm run --silent sim -- --seed 9 --nodes 3 --time-ms 500 --faults none', 'kv is the default: not named');
});

test('--no-rule-checks: the planted Figure 8 bug trips commitRule with the rule checks, and without them its consequence, a committed entry overwritten', (t) => {
  // Seed 70 of the Raft-only swarm: the failpoints (swarm.ts withFailpoints) set Figure 8 up.
  const run = (extra: readonly string[]): { status: number | null; kinds: string[] } => {
    const result = spawnSync(process.execPath, [CLI, '--seed', '70', '--workload', 'none', '--bug', 'commitOldTermByCounting', '--json', ...extra], { encoding: 'utf8' });
    const last = result.stdout.trim().split('\n').pop() ?? '{}';
    const parsed = JSON.parse(last) as { violations?: { kind: string }[] };
    return { status: result.status, kinds: (parsed.violations ?? []).map((v) => v.kind) };
  };
  t.deepEqual(run([]).kinds, ['commitRule']);
  const without = run(['--no-rule-checks']);
  t.deepEqual(without.kinds, ['leaderCompleteness']);
  t.is(without.status, 1);
  t.true(parseArgs(['--seed', '1', '--no-rule-checks']).ok);
  t.is(reproduceCommand({ seed: 1, nodes: 3, timeMs: 10000, faults: 'swarm', bugs: ['commitOldTermByCounting'], ruleChecks: false }),
    'npm run --silent sim -- --seed 1 --nodes 3 --time-ms 10000 --faults swarm --workload none --no-rule-checks --bug commitOldTermByCounting');
});

test('--seeds runs a range, summarizes, and exits 0 when all pass', (t) => {
  const result = spawnSync(process.execPath, [CLI, '--seeds', '1..3', '--time-ms', '300', '--faults', 'none'], { encoding: 'utf8' });
  t.is(result.status, 0, result.stdout + result.stderr);
  t.regex(result.stdout, /3 seeds \(1\.\.3\)/);
  t.regex(result.stdout, /passed 3, with violations 0, stuck 0/);
  t.regex(result.stdout, /events\/s min \d+ median \d+ max \d+/);
});
