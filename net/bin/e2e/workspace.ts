// The directories one run of etcd's e2e suite needs: a bin dir per server under test
// (the suite execs `<bin-dir>/etcd` and `<bin-dir>/etcdctl`), and a working directory per
// test process shaped like etcd's tree, because some of the suite's configs name files
// relative to it (configJWT: ../../integration/fixtures/server.crt) and some tests write
// files into it (snapshots): two tests running at once must not share one.

import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SUITE_FIXTURES } from './suite.js';

export type Target = 'tern' | 'etcd';

/** Tern's package bin, what `npx tern` runs (from build/net/bin/e2e/ back to the checkout). */
const TERN_BIN = fileURLToPath(new URL('../../../../net/bin/tern.mjs', import.meta.url));

/** The variable naming the file Tern's members also write their output to (the suite keeps it to itself). */
export const MEMBER_LOG_VARIABLE = 'TERN_E2E_MEMBER_LOG';

/**
 * Makes `<root>/bin-<target>` holding an `etcd` and the real `etcdctl`. Tern's `etcd` is a
 * script that execs node in its own place, so the suite's SIGKILL reaches the member
 * itself; its command line and output also go to $TERN_E2E_MEMBER_LOG, for the reason a
 * member did not start.
 */
export function makeBinDir(root: string, target: Target, tools: { readonly etcd: string; readonly etcdctl: string }): string {
  const dir = path.join(root, `bin-${target}`);
  mkdirSync(dir, { recursive: true });
  symlinkSync(tools.etcdctl, path.join(dir, 'etcdctl'));
  if (target === 'etcd') {
    symlinkSync(tools.etcd, path.join(dir, 'etcd'));
  } else {
    const launcher = path.join(dir, 'etcd');
    const log = `"\${${MEMBER_LOG_VARIABLE}:-/dev/null}"`;
    writeFileSync(launcher, [
      '#!/bin/bash',
      `echo "exec etcd $*" >> ${log}`,
      `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(TERN_BIN)} "$@" 2> >(tee -a ${log} >&2)`,
      '',
    ].join('\n'));
    chmodSync(launcher, 0o755);
  }
  return dir;
}

/** A fresh `<root>/<name>/tests/e2e` to run one test in, with `../../integration/fixtures` beside it; returns that dir. */
export function makeWorkDir(root: string, name: string): string {
  const top = path.join(root, name);
  const cwd = path.join(top, 'tests', 'e2e');
  mkdirSync(cwd, { recursive: true });
  mkdirSync(path.join(top, 'integration'), { recursive: true });
  symlinkSync(SUITE_FIXTURES, path.join(top, 'integration', 'fixtures'));
  return cwd;
}
