// Go's bbolt as the judge of Tern's bbolt files: builds test/go/src/boltcheck (on
// Debian's go.etcd.io/bbolt, offline) once per checkout, and runs it.

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { goBenchUnavailable } from '../../net/bin/loadgen/goBench.js';

// This file runs from build/test/storage/: the checkout is three levels up.
const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../..');
const SOURCE = path.join(ROOT, 'test/go/src/boltcheck/main.go');
const BINARY = path.join(ROOT, 'build/gobench/boltcheck');

/** Why Go's bbolt cannot be run here, or null (the same toolchain as the Go bench). */
export function boltcheckUnavailable(): string | null {
  return goBenchUnavailable() ?? (existsSync('/usr/share/gocode/src/go.etcd.io/bbolt') ? null : 'go.etcd.io/bbolt is not under /usr/share/gocode');
}

function binary(): string {
  if (existsSync(BINARY) && statSync(BINARY).mtimeMs > statSync(SOURCE).mtimeMs) return BINARY;
  mkdirSync(path.dirname(BINARY), { recursive: true });
  const env: NodeJS.ProcessEnv = { ...process.env, GO111MODULE: 'off', GOPATH: `/usr/share/gocode:${path.join(ROOT, 'test/go')}`, GOFLAGS: '' };
  if (env['GOCACHE'] === undefined && env['HOME'] === undefined) env['GOCACHE'] = path.join(tmpdir(), 'tern-go-build-cache');
  // Built to a name of its own, then renamed: test files run in parallel workers.
  const partial = `${BINARY}.${process.pid}`;
  execFileSync('go', ['build', '-o', partial, 'boltcheck'], { env, cwd: ROOT, timeout: 300_000, stdio: ['ignore', 'ignore', 'pipe'] });
  execFileSync('mv', ['-f', partial, BINARY]);
  return BINARY;
}

/** Every bucket as Go's bbolt reads it (hex name → [hex key, hex value] in cursor order), after tx.Check(); throws what Go found wrong. */
export function goRead(file: string): Map<string, [string, string][]> {
  const out = execFileSync(binary(), ['check', file], { maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  const buckets = new Map<string, [string, string][]>();
  let current: [string, string][] | null = null;
  for (const line of out.split('\n')) {
    if (line.startsWith('b ')) {
      current = [];
      buckets.set(line.slice(2), current);
    } else if (line.startsWith('k ') && current !== null) {
      const [, key, value] = line.split(' ');
      current.push([key ?? '', value ?? '']);
    }
  }
  return buckets;
}

/** Applies ops with Go's bbolt (boltcheck apply's language: put/del/drop/fill lines, "commit" ends a transaction). */
export function goApply(file: string, script: string): void {
  execFileSync(binary(), ['apply', file], { input: script, maxBuffer: 1 << 20, stdio: ['pipe', 'ignore', 'pipe'] });
}
