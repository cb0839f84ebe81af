// `npm run viewer`'s command line: a bad flag is refused with a message and exit code 2;
// --build-only builds the page (index.html, the bundle, the style sheet) and exits. It
// builds into a folder of its own: the browser test loads build/viewer/ meanwhile.
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const SERVE = path.join(process.cwd(), 'build/viewer/bin/serve.js');

test('bad flags are refused with exit code 2', (t) => {
  for (const [args, message] of [[['--port', 'abc'], /--port must be 0..65535/], [['--colour'], /unknown option '--colour'/], [['--out'], /--out needs a directory/]] as const) {
    const run = spawnSync(process.execPath, [SERVE, ...args], { encoding: 'utf8' });
    t.is(run.status, 2, args.join(' '));
    t.regex(run.stderr, message);
  }
});

test('--build-only builds the page for file:// and exits', (t) => {
  const out = mkdtempSync(path.join(os.tmpdir(), 'tern-viewer-'));
  t.teardown(() => { rmSync(out, { recursive: true, force: true }); });
  const run = spawnSync(process.execPath, [SERVE, '--build-only', '--out', out], { encoding: 'utf8' });
  t.is(run.status, 0, run.stderr);
  t.true(run.stdout.includes(`from disk: file://${out}/index.html#seed=17&nodes=5`), run.stdout);
  for (const name of ['index.html', 'viewer.js', 'viewer.css']) t.true(existsSync(path.join(out, name)), name);
  t.true(statSync(path.join(out, 'viewer.js')).size > 100_000, 'the bundle holds core/ and sim/');
});
