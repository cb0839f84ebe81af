// Runs the datadriven Raft scenarios in test/raft/scenarios/*.txt (see datadriven.ts and
// docs/scenarios.md). The files are read from the source tree (tsc does not copy them to
// build/), found from the working directory, which is the repository root under npm.
//
// To regenerate the expected outputs after a deliberate change in behaviour:
//   REWRITE=1 npx ava build/test/raft/scenarios.test.js     (or npm run test:scenarios:rewrite)
// and read the diff before committing it: these files are the specification.
import test from 'ava';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { rewriteScenario, runScenario } from './datadriven.js';

const DIR = join(process.cwd(), 'test', 'raft', 'scenarios');
const REWRITE = process.env['REWRITE'] === '1';
const files = readdirSync(DIR).filter((f) => f.endsWith('.txt')).sort();

test('there are scenario files', (t) => {
  t.true(files.length >= 8, `found ${files.length} in ${DIR}`);
});

for (const file of files) {
  test(`scenario ${file}`, (t) => {
    const path = join(DIR, file);
    const source = readFileSync(path, 'utf8');
    const { items, actual } = runScenario(source);
    const rewritten = rewriteScenario(items, (b) => actual.get(b) ?? '');
    if (REWRITE) {
      if (rewritten !== source) writeFileSync(path, rewritten);
      t.pass();
      return;
    }
    const mismatch = [...actual].find(([b, out]) => b.expected !== out);
    t.is(rewritten, source, mismatch === undefined ? undefined : `${file}:${mismatch[0].line}: ${mismatch[0].command}`);
  });
}
