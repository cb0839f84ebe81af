// etcd 3.4.23's own end-to-end suite, as Debian's golang-etcd-server-dev ships its source:
// where it is, building its test binary offline, and listing its tests.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

export const SUITE_GOPATH = '/usr/share/gocode';
export const SUITE_SOURCE = `${SUITE_GOPATH}/src/go.etcd.io/etcd/tests/e2e`;
/** The suite's certificates; its configs also name them relative to the working directory (../../integration/fixtures). */
export const SUITE_FIXTURES = `${SUITE_GOPATH}/src/go.etcd.io/etcd/integration/fixtures`;

/** A cold build took 3 minutes on a loaded 2-core machine; Go's build cache makes the next one seconds. */
const BUILD_LIMIT_MS = 10 * 60_000;

/** The absolute path of `command` on $PATH, or null. */
export function onPath(command: string): string | null {
  for (const dir of (process.env['PATH'] ?? '').split(path.delimiter)) {
    const candidate = path.join(dir, command);
    if (dir !== '' && existsSync(candidate)) return candidate;
  }
  return null;
}

/** Why the suite cannot be built on this machine, or null when it can. */
export function missingToolchain(): string | null {
  if (onPath('go') === null) return 'no `go` on PATH (apt-get install golang-go)';
  if (!existsSync(SUITE_SOURCE)) return `no ${SUITE_SOURCE} (apt-get install golang-etcd-server-dev)`;
  return null;
}

/** Why the suite cannot run on this machine (no etcd or etcdctl to run it with), or null. */
export function missingEtcd(): string | null {
  if (onPath('etcdctl') === null) return 'no `etcdctl` on PATH (apt-get install etcd-client)';
  if (onPath('etcd') === null) return 'no `etcd` on PATH (apt-get install etcd-server)';
  return null;
}

/** Compiles the suite into `binary` (GOPATH mode, offline: every dependency is in Debian's GOPATH). */
export function buildSuite(binary: string): Promise<void> {
  const env = { ...process.env, GO111MODULE: 'off', GOPATH: SUITE_GOPATH, GOFLAGS: '' };
  return new Promise((resolve, reject) => {
    execFile('go', ['test', '-c', '-o', binary, '.'], { cwd: SUITE_SOURCE, env, timeout: BUILD_LIMIT_MS }, (error, _stdout, stderr) => {
      if (error === null) resolve();
      else reject(new Error(`building etcd's e2e suite failed: ${error.message}\n${stderr}`));
    });
  });
}

/** The names of the suite's tests that `pattern` (a Go regexp) matches, in the suite's order. */
export function listTests(binary: string, pattern: string): Promise<string[]> {
  return new Promise((resolve, reject) => {
    execFile(binary, ['-test.list', pattern], (error, stdout) => {
      if (error !== null) reject(new Error(`${binary} -test.list ${pattern}: ${error.message}`));
      else resolve(stdout.split('\n').filter((line) => /^Test\w+$/.test(line)));
    });
  });
}
