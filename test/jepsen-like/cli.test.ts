// The command line as CI and users rely on it: one JSON line per file, and
// exit codes 0 (all ok), 1 (any illegal), 3 (any unknown), 2 (usage / malformed).
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const cli = path.join(process.cwd(), 'build/jepsen-like/cli.js');
const fixtures = path.join(process.cwd(), 'test/fixtures/histories');
const jepsen = (n: string): string => path.join(fixtures, `porcupine/jepsen/etcd_${n}.log`);

function run(...args: string[]): { code: number | null; lines: unknown[]; stderr: string } {
  const result = spawnSync(process.execPath, [cli, ...args], { encoding: 'utf8' });
  const lines = result.stdout
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as unknown);
  return { code: result.status, lines, stderr: result.stderr };
}

test('all ok: exit 0, one JSON line per file with exactly file, verdict, ms', (t) => {
  const { code, lines } = run('--model', 'porcupine-register', jepsen('005'), jepsen('002'));
  t.is(code, 0);
  t.is(lines.length, 2);
  const [first] = lines as Record<string, unknown>[];
  t.deepEqual(Object.keys(first ?? {}), ['file', 'verdict', 'ms']);
  t.like(first, { file: jepsen('005'), verdict: 'ok' });
  t.is(typeof first?.['ms'], 'number');
});

test('any illegal: exit 1', (t) => {
  const { code, lines } = run('--model', 'porcupine-register', jepsen('005'), jepsen('000'));
  t.is(code, 1);
  t.like(lines[1], { verdict: 'illegal' });
});

test('out of budget: unknown, exit 3', (t) => {
  const { code, lines } = run('--model', 'porcupine-register', '--timeout-ms', '0', jepsen('002'));
  t.is(code, 3);
  t.like(lines[0], { verdict: 'unknown' });
});

test('the empty log (etcd_095) is an empty, linearizable history', (t) => {
  t.is(run('--model', 'porcupine-register', jepsen('095')).code, 0);
});

test('a malformed file: exit 2 and a message naming the file and line', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-check-'));
  const bad = path.join(dir, 'bad.edn');
  writeFileSync(bad, '[{:process 0 :type :invoke :f :read :value nil}\n {:process 0 :type :ok :f :read :value 0}\n {:process 1 :type :invoke :f :write\n');
  const good = path.join(fixtures, 'knossos/cas-register/good/memstress3-0.edn');
  const { code, stderr, lines } = run('--model', 'knossos-cas-register', bad, good);
  t.is(code, 2);
  t.true(stderr.includes(`${bad}:3:`), stderr);
  t.is(lines.length, 1, 'the good file is still checked');
});

test('an unreadable file and bad usage: exit 2', (t) => {
  const missing = run('--model', 'knossos-mutex', '/nonexistent/history.edn');
  t.is(missing.code, 2);
  t.true(missing.stderr.includes('/nonexistent/history.edn'));
  t.is(run('--model', 'nope', jepsen('005')).code, 2);
  t.is(run(jepsen('005')).code, 2);
  t.is(run('--model', 'porcupine-register').code, 2);
  t.is(run('--model', 'porcupine-register', '--timeout-ms', 'soon', jepsen('005')).code, 2);
  t.is(run('--model', 'porcupine-register', '--frobnicate', jepsen('005')).code, 2);
});

test('--report writes an HTML explanation for each illegal file only', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-report-'));
  const bad = path.join(fixtures, 'knossos/cas-register/bad/bad-analysis.edn');
  const good = path.join(fixtures, 'knossos/cas-register/good/memstress3-0.edn');
  const { code } = run('--model', 'knossos-cas-register', '--report', dir, bad, good);
  t.is(code, 1);
  const files = readdirSync(dir);
  t.is(files.length, 1);
  const html = readFileSync(path.join(dir, files[0] ?? ''), 'utf8');
  t.true(html.startsWith('<!doctype html>'));
  // Knossos names process 21's read of 2 as the op that cannot be linearized.
  t.regex(html, /minimal failing window \(2 ops/);
  t.regex(html, /<td>17<\/td><td>21<\/td><td>13<\/td><td>14<\/td><td>ok<\/td><td><code>read\(2\)<\/code>/);
});

test('a process may call again at the very instant its previous op returned', (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-hist-'));
  const file = path.join(dir, 'h.jsonl');
  writeFileSync(file, [
    '{"process":1,"call":10,"return":20,"outcome":"ok","request":{"type":"put","key":"k","value":"a"},"response":{"revision":2}}',
    '{"process":1,"call":20,"return":30,"outcome":"ok","request":{"type":"range","key":"k"},"response":{"revision":2,"kvs":[{"key":"k","value":"a","createRevision":2,"modRevision":2,"version":1,"lease":0}],"count":1,"more":false}}',
  ].join('\n') + '\n');
  const result = run('--model', 'etcd', file);
  rmSync(dir, { recursive: true, force: true });
  t.is(result.code, 0, result.stderr);
});
