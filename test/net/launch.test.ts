// The launcher behind `npm start`, `npm run sim|cluster|bench:*` and the `tern` bin:
// it runs what build/ holds and never compiles. Each case copies it into a scratch
// checkout (so the real build/ is untouched) and checks what a user sees.
import test from 'ava';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

interface Outcome { readonly code: number; readonly stdout: string; readonly stderr: string }

/** A scratch checkout with the launcher, one source file and, if asked, a build of an `echo` entry. */
function scratchCheckout(options: { built: boolean }): string {
  const root = mkdtempSync(path.join(tmpdir(), 'tern-launch-'));
  mkdirSync(path.join(root, 'net/bin'), { recursive: true });
  copyFileSync(path.join(process.cwd(), 'net/bin/launch.mjs'), path.join(root, 'net/bin/launch.mjs'));
  mkdirSync(path.join(root, 'core'));
  writeFileSync(path.join(root, 'core/source.ts'), 'export {};\n');
  if (options.built) {
    mkdirSync(path.join(root, 'build/tool'), { recursive: true });
    writeFileSync(path.join(root, 'build/BUILT_FROM_SOURCES'), '');
    writeFileSync(path.join(root, 'build/tool/echo.js'), 'process.stdout.write(JSON.stringify(process.argv.slice(2)));\n');
    // The source predates the build, as after `npm ci`.
    const past = new Date(Date.now() - 60_000);
    utimesSync(path.join(root, 'core/source.ts'), past, past);
  }
  return root;
}

function launch(root: string, args: readonly string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(root, 'net/bin/launch.mjs'), ...args], (error, stdout, stderr) => {
      resolve({ code: error !== null && typeof error.code === 'number' ? error.code : 0, stdout, stderr });
    });
  });
}

/** Runs `body` in a scratch checkout and removes it afterwards, also when `body` fails. */
async function inScratch(options: { built: boolean }, body: (root: string) => Promise<void>): Promise<void> {
  const root = scratchCheckout(options);
  try {
    await body(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

test('with no build/, it says to build instead of compiling or crashing', (t) => inScratch({ built: false }, async (root) => {
  const outcome = await launch(root, ['tool/echo']);
  t.is(outcome.code, 1);
  t.is(outcome.stderr, 'tern: build/tool/echo.js is missing: build Tern first with `npm run build` (npm ci does it too)\n');
}));

test('a fresh build runs silently and gets its arguments as its own command line', (t) => inScratch({ built: true }, async (root) => {
  const outcome = await launch(root, ['tool/echo', '--name', 'n1']);
  t.is(outcome.code, 0, outcome.stderr);
  t.is(outcome.stderr, '');
  t.deepEqual(JSON.parse(outcome.stdout), ['--name', 'n1']);
}));

test('a source newer than the build: it warns, names the file, and runs the old build', (t) => inScratch({ built: true }, async (root) => {
  const future = new Date(Date.now() + 60_000);
  utimesSync(path.join(root, 'core/source.ts'), future, future);
  const outcome = await launch(root, ['tool/echo']);
  t.is(outcome.code, 0);
  t.is(outcome.stderr, 'tern: build/ is older than core/source.ts: running the old build; `npm run build` brings it up to date\n');
  t.is(outcome.stdout, '[]');
}));

test('an entry outside build/ is refused', (t) => inScratch({ built: true }, async (root) => {
  const outcome = await launch(root, ['../../etc/passwd']);
  t.is(outcome.code, 1);
  t.true(outcome.stderr.includes('needs an entry under build/'), outcome.stderr);
}));
