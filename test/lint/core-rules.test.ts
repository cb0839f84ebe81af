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

  // Per rule, a fragment of the message each forbidden construct of the fixture must raise.
  const expected: Readonly<Record<string, readonly string[]>> = {
    'no-restricted-imports': ['node:fs', 'sim/scheduler'], // node: I/O, and an import of sim/
    // Date, performance, process.hrtime, and the timers.
    'no-restricted-globals': ["'Date'", "'performance'", "'process'", "'setTimeout'", "'setInterval'", "'setImmediate'", "'queueMicrotask'"],
    'no-restricted-syntax': ['injected Random', 'no async functions', 'no await'], // Math.random, async, await
  };
  const silent = Object.entries(expected).flatMap(([rule, fragments]) =>
    fragments.filter((fragment) => !has(rule, fragment)).map((fragment) => `${rule}: ${fragment}`));
  t.deepEqual(silent, [], 'rules that did not fire on the fixture');
});

test('the same rules do not fire on code outside core/', async (t) => {
  // This very file uses \`process\`, which core/ forbids; outside core/ it is fine.
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintFiles([path.join(root, 'test/lint/core-rules.test.ts')]);
  const messages = result?.messages ?? [];
  t.is(messages.filter((m) => m.fatal === true).length, 0, 'the file parsed');
  t.false(messages.some((m) => m.ruleId === 'no-restricted-globals'));
});
