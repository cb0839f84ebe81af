// A failing run's explanation as the viewer's engine gives it (no browser): the KV
// checker's minimal failing window, its ops tied to the records and to the exact event
// that invoked each, and the watch validator's first violation with its stream. The
// seeds fail in the current build (`npm run sim -- --seed 6 --bug reuseReadIndex` and
// `--seed 3 --bug watchBackInTime` print the same findings).
import test from 'ava';
import { Execution } from '../../sim/replay/execution.js';
import { specOf } from '../../sim/replay/runSpec.js';
import { survey } from '../../sim/replay/survey.js';

test('a non-linearizable run: the window lists the ops the checker names, each at the event that invoked it', (t) => {
  const spec = specOf({ seed: 6, nodes: 3, bugs: ['reuseReadIndex'] });
  const found = survey(spec, () => performance.now());
  const window = found.verdict?.window ?? null;
  if (window === null) return t.fail(`no window: linearizable ${found.verdict?.linearizable ?? 'n/a'}`);
  t.is(found.verdict?.linearizable, 'illegal');
  const named = [...window.reason.matchAll(/line (\d+)/g)].map((m) => Number(m[1]));
  t.true(named.length >= 2, `the reason names history lines: ${window.reason}`);
  t.deepEqual(window.ops.map((o) => o.line).sort((a, b) => a - b), named.sort((a, b) => a - b), 'the window is the ops the reason names');
  for (const op of window.ops) {
    if (op.record === null) return t.fail(`line ${op.line} has no record`);
    t.is(found.ops[op.record]?.callUs, op.callUs, `line ${op.line} is drawn as record ${op.record}`);
    // Exact: the record does not exist before its invoking event and does after it.
    const before = new Execution(spec);
    before.advanceTo(op.invokedAt - 1);
    t.true((before.world.kv?.kv.records.length ?? 0) <= op.record, `line ${op.line}: not yet invoked at event ${op.invokedAt - 1}`);
    before.advanceTo(op.invokedAt);
    t.true((before.world.kv?.kv.records.length ?? 0) > op.record, `line ${op.line}: invoked by event ${op.invokedAt}`);
    t.is(before.world.scheduler.nowUs, op.callUs, 'at the op\'s call time');
  }
  t.is(found.verdict?.watchFirst, null, 'the watches are fine in this run');
});

test('a broken watch guarantee: the first violation with its stream and the event it was opened at', (t) => {
  const found = survey(specOf({ seed: 3, nodes: 3, bugs: ['watchBackInTime'] }), () => performance.now());
  const first = found.verdict?.watchFirst ?? null;
  if (first === null) return t.fail(`no watch finding: watch ${found.verdict?.watch ?? 'n/a'}`);
  t.is(first.property, found.verdict?.watch ?? 'no verdict');
  t.true(found.verdict?.detail.some((d) => d.includes(`${first.property}: stream ${first.stream} (client ${first.client} on member ${first.member}, opened at ${first.openedUs} µs)`)) ?? false,
    'the same stream as the CLI\'s words');
  t.true((found.timesUs[first.openedAt] ?? 0) >= first.openedUs && (found.timesUs[first.openedAt - 1] ?? 0) < first.openedUs, 'the first event at its opening time');
  t.is(found.verdict?.window, null, 'the history is linearizable in this run');
});
