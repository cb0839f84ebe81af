#!/usr/bin/env node
// Runs a compiled entry point from build/ without compiling anything: `npm start`,
// `npm run cluster|sim|check|bench:*` and the `tern` bin all come through here.
//
// Why plain JavaScript: this file must work when build/ is missing (a fresh checkout
// whose install skipped the `prepare` script), to say what to do instead of failing with
// ERR_MODULE_NOT_FOUND. Why no compiling here: members started together from one
// checkout (npm run cluster, a kill-and-restart loop, etcd's e2e suite) would each
// rebuild build/ under the others' feet; a start must cost a process start, not a tsc run.
//
// Usage: node net/bin/launch.mjs <entry under build/, without .js> [args...]

import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const BUILD = path.join(ROOT, 'build');
// Written by `npm run build` before tsc starts: a source changed after it is not in build/.
const STAMP = path.join(BUILD, 'BUILT_FROM_SOURCES');
const SOURCE_DIRS = ['core', 'sim', 'net', 'storage', 'jepsen-like', 'viewer'];
// A checkout holds ~250 sources; the walk gives up past this many entries rather than
// spend a member's start time on a tree that is not ours.
const MAX_WALKED_ENTRIES = 20_000;

/** Resolves an entry like `net/bin/tern` to its compiled file, or explains why not. */
function compiledEntry(entry) {
  if (typeof entry !== 'string' || entry.length === 0 || entry.includes('..')) {
    return { error: `launch.mjs needs an entry under build/ (e.g. net/bin/tern), got ${String(entry)}` };
  }
  const file = path.join(BUILD, `${entry}.js`);
  if (!exists(file) || !exists(STAMP)) {
    return { error: `${path.relative(ROOT, file) || file} is missing: build Tern first with \`npm run build\` (npm ci does it too)` };
  }
  return { file };
}

function exists(file) {
  try {
    statSync(file);
    return true;
  } catch {
    return false;
  }
}

/** The first source file newer than the build stamp, or null (a bounded walk). */
function newerSource(stampMs) {
  const pending = SOURCE_DIRS.map((dir) => path.join(ROOT, dir));
  let walked = 0;
  while (pending.length > 0 && walked < MAX_WALKED_ENTRIES) {
    const dir = pending.pop();
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const entry of entries) {
      walked++;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) pending.push(full);
      else if (entry.name.endsWith('.ts') && statSync(full).mtimeMs > stampMs) return full;
    }
  }
  return null;
}

/** Runs `entry` with `args` as its command line (process.argv as if run directly). */
export async function launch(entry, args) {
  const resolved = compiledEntry(entry);
  if (resolved.error !== undefined) {
    process.stderr.write(`tern: ${resolved.error}\n`);
    process.exit(1);
  }
  const stale = newerSource(statSync(STAMP).mtimeMs);
  if (stale !== null) {
    // Still run what is built: refusing would strand an operator whose checkout was
    // touched, and rebuilding here is what this launcher exists to avoid.
    process.stderr.write(`tern: build/ is older than ${path.relative(ROOT, stale)}: running the old build; \`npm run build\` brings it up to date\n`);
  }
  process.argv = [process.argv[0] ?? 'node', resolved.file, ...args];
  await import(pathToFileURL(resolved.file).href);
}

if (process.argv[1] !== undefined && pathToFileURL(path.resolve(process.argv[1])).href === import.meta.url) {
  await launch(process.argv[2], process.argv.slice(3));
}
