// The core/ lint rule set (eslint.config.js) fires on a fixture that breaks it.
// If someone weakens a rule, the matching assertion here fails.
import test from 'ava';
import { ESLint } from 'eslint';
import path from 'node:path';

const root = process.cwd();
const fixture = path.join(root, 'test/fixtures/lint/core/forbidden.ts');

test('every sans-I/O rule fires on the core fixture', async (t) => {
  // ignore: false lets us lint a file under test/fixtures/, which the normal lint skips.
  const eslint = new ESLint({ cwd: root, ignore: false });
  const [result] = await eslint.lintFiles([fixture]);
  if (result === undefined) {
    t.fail('ESLint returned no result for the fixture');
    return;
  }
  const messages = result.messages.map((m) => `${m.ruleId ?? 'parse'}: ${m.message}`);
  const has = (rule: string, fragment: string): boolean =>
    messages.some((m) => m.startsWith(rule) && m.includes(fragment));

  t.true(has('no-restricted-imports', 'node:fs'), 'node: I/O import');
  t.true(has('no-restricted-imports', 'sim/scheduler'), 'import of sim/');
  t.true(has('no-restricted-globals', "'Date'"), 'Date');
  t.true(has('no-restricted-globals', "'performance'"), 'performance');
  t.true(has('no-restricted-globals', "'process'"), 'process.hrtime');
  t.true(has('no-restricted-syntax', 'injected Random'), 'Math.random');
  t.true(has('no-restricted-globals', "'setTimeout'"), 'setTimeout');
  t.true(has('no-restricted-globals', "'setInterval'"), 'setInterval');
  t.true(has('no-restricted-globals', "'setImmediate'"), 'setImmediate');
  t.true(has('no-restricted-globals', "'queueMicrotask'"), 'queueMicrotask');
  t.true(has('no-restricted-syntax', 'no async functions'), 'async function');
  t.true(has('no-restricted-syntax', 'no await'), 'await');
});

test('the same rules do not fire on code outside core/', async (t) => {
  // This very file uses \`process\`, which core/ forbids; outside core/ it is fine.
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintFiles([path.join(root, 'test/lint/core-rules.test.ts')]);
  const messages = result?.messages ?? [];
  t.is(messages.filter((m) => m.fatal === true).length, 0, 'the file parsed');
  t.false(messages.some((m) => m.ruleId === 'no-restricted-globals'));
});
