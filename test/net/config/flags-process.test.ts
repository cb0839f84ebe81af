// The member binary's command line against etcd 3.4.23's: the same exit code and the
// same text for refusals (flags, ETCD_* variables, config files, logging flags),
// --version and --help, and the zap log's shape. Real processes on both sides.
import anyTest, { type ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import { connect } from 'node:http2';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { FLAG_TABLE } from '../../../net/config/flagTable.js';
import { etcdctl, freePort, runTernToExit, runToExit, startEtcd, startTern, TERN_BIN } from '../processes.js';

// One at a time: each case starts processes, and the CI box has two cores.
const test = anyTest.serial;

/** A clean environment: no ETCD_* variable of the machine's leaks into a case. */
const BASE_ENV: NodeJS.ProcessEnv = { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp' };

/** A scratch directory, removed when the test ends. */
function scratch(t: ExecutionContext): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-flags-'));
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }); });
  return dir;
}

interface Case {
  readonly args: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
  /** The text both must print (for usage errors: their first line). */
  readonly text: string;
  readonly code: number;
}

/** etcd and Tern, run on the same command line in their own directories, exit alike and say `text`. */
async function sameRefusal(t: ExecutionContext, c: Case): Promise<void> {
  const [etcdDir, ternDir] = [scratch(t), scratch(t)];
  const env = { ...BASE_ENV, ...c.env };
  const [etcd, tern] = await Promise.all([runToExit('etcd', c.args, env, etcdDir), runToExit(process.execPath, [TERN_BIN, ...c.args], env, ternDir)]);
  const label = `${JSON.stringify(c.env ?? {})} ${c.args.join(' ')}`;
  t.is(etcd.code, c.code, `etcd: ${label}\n${etcd.stderr}`);
  t.true(etcd.stderr.includes(c.text), `etcd: ${label}\n${etcd.stderr}`);
  t.is(tern.code, c.code, `tern: ${label}\n${tern.stderr}`);
  t.true(tern.stderr.includes(c.text), `tern: ${label}\n${tern.stderr}`);
}

test('usage errors: Go\'s flag texts and exit 2, as etcd', async (t) => {
  for (const c of [
    { args: ['--bogus'], text: 'flag provided but not defined: -bogus\n', code: 2 },
    { args: ['--snapshot-count=abc'], text: 'invalid value "abc" for flag -snapshot-count: parse error\n', code: 2 },
    { args: ['--pre-vote=maybe'], text: 'invalid boolean value "maybe" for -pre-vote: parse error\n', code: 2 },
    { args: ['--max-wals', 'x'], text: 'invalid value "x" for flag -max-wals: parse error\n', code: 2 },
    { args: ['--proxy', 'sideways'], text: 'invalid value "sideways" for flag -proxy: invalid value\n', code: 2 },
    { args: ['--log-level', 'bogus'], text: 'panic: unknown level "bogus"', code: 2 },
  ]) await sameRefusal(t, c);
});

test('errors verifying flags: etcd\'s texts and exit 1', async (t) => {
  for (const c of [
    { args: ['foo'], text: 'error verifying flags, \'foo\' is not a valid flag. See \'etcd --help\'.', code: 1 },
    { args: ['--heartbeat-interval', '100', '--election-timeout', '200'],
      text: 'error verifying flags, --election-timeout[200ms] should be at least as 5 times as --heartbeat-interval[100ms]. See \'etcd --help\'.', code: 1 },
    { args: ['--logger', 'bogus'], text: 'error verifying flags, unknown logger option "bogus". See \'etcd --help\'.', code: 1 },
    { args: ['--log-outputs', 'stdout,stderr'],
      text: 'error verifying flags, --logger=capnslog supports only 1 value in \'--log-outputs\', got ["stderr" "stdout"]. See \'etcd --help\'.', code: 1 },
  ]) await sameRefusal(t, c);
});

test('with --logger zap, an error verifying flags is etcd\'s JSON line (warn, "failed to verify flags", the error)', async (t) => {
  const args = ['--logger', 'zap', '--auto-compaction-mode', 'bogus'];
  const [etcd, tern] = await Promise.all([runToExit('etcd', args, BASE_ENV, scratch(t)), runToExit(process.execPath, [TERN_BIN, ...args], BASE_ENV, scratch(t))]);
  const shape = (stderr: string): unknown => {
    const line = stderr.split('\n').find((l) => l.includes('failed to verify flags')) ?? '{}';
    const { level, msg, error } = JSON.parse(line) as Record<string, unknown>;
    return { level, msg, error };
  };
  t.is(tern.code, 1);
  t.is(etcd.code, 1);
  t.deepEqual(shape(tern.stderr), shape(etcd.stderr));
  t.deepEqual(shape(etcd.stderr), { level: 'warn', msg: 'failed to verify flags', error: 'unknown auto-compaction-mode "bogus"' });
});

test('ETCD_* variables: shadowed by a flag is fatal (exit 1); a value that does not parse is an error', async (t) => {
  await sameRefusal(t, {
    args: ['--name', 'y'], env: { ETCD_NAME: 'x' }, code: 1,
    text: 'C | pkg/flags: conflicting environment variable "ETCD_NAME" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)',
  });
  await sameRefusal(t, {
    args: [], env: { ETCD_SNAPSHOT_COUNT: 'abc' }, code: 1,
    text: 'error verifying flags, invalid value "abc" for ETCD_SNAPSHOT_COUNT: parse error. See \'etcd --help\'.',
  });
});

test('--config-file refusals: Go\'s type error, a missing file', async (t) => {
  const dir = scratch(t);
  const file = path.join(dir, 'bad.yaml');
  writeFileSync(file, 'name: x\ngrpc-keepalive-min-time: 5s\n');
  await sameRefusal(t, {
    args: ['--config-file', file], code: 1,
    text: `error verifying flags, error unmarshaling JSON: while decoding JSON: json: cannot unmarshal string into Go struct field configYAML.grpc-keepalive-min-time of type time.Duration. See 'etcd --help'.`,
  });
  const missing = path.join(dir, 'missing.yaml');
  await sameRefusal(t, { args: ['--config-file', missing], code: 1, text: `error verifying flags, open ${missing}: no such file or directory. See 'etcd --help'.` });
});

test('--version: etcd\'s lines first (tools read "etcd Version:"), exit 0', async (t) => {
  const [etcd, tern] = await Promise.all([runToExit('etcd', ['--version'], BASE_ENV), runTernToExit(['--version'], BASE_ENV)]);
  t.is(tern.code, 0);
  t.is(etcd.code, 0);
  t.is(tern.stdout.split('\n')[0], etcd.stdout.split('\n')[0]);
  t.regex(tern.stdout, /^Tern Version: /m);
});

test('--help and -h: exit 0; every flag etcd\'s help lists is in Tern\'s help and table', async (t) => {
  const [etcd, tern, short] = await Promise.all([runToExit('etcd', ['--help'], BASE_ENV), runTernToExit(['--help'], BASE_ENV), runTernToExit(['-h'], BASE_ENV)]);
  t.is(etcd.code, 0);
  t.is(tern.code, 0);
  t.is(short.code, 0);
  const names = (text: string): Set<string> => new Set([...text.matchAll(/^ {2}--([a-z0-9-]+)/gm)].map((m) => m[1] ?? ''));
  const expected = [...names(etcd.stdout)];
  t.true(expected.length > 70, `etcd listed ${expected.length} flags`);
  const shown = names(tern.stdout);
  t.deepEqual(expected.filter((n) => !shown.has(n)), []);
  const table = new Set(FLAG_TABLE.map((s) => s.name));
  t.deepEqual(expected.filter((n) => !table.has(n)), []);
});

test('every flag of the table is one etcd defines, a bool where etcd\'s is a bool', async (t) => {
  const sample = (spec: (typeof FLAG_TABLE)[number]): string => {
    switch (spec.type.kind) {
      case 'duration': return '1s';
      case 'uint': case 'int': return '1';
      case 'choice': return spec.type.values[0] ?? '';
      case 'urls': return 'http://localhost:2380';
      default: return spec.etcdDefault === '' ? 'x' : spec.etcdDefault;
    }
  };
  // Bools bare: were one a value flag in etcd, it would swallow the next argument and the run would fail.
  const args = FLAG_TABLE.flatMap((spec) => (spec.type.kind === 'bool' ? [`--${spec.name}`] : [`--${spec.name}`, sample(spec)]));
  const etcd = await runToExit('etcd', [...args, '--version'], BASE_ENV, scratch(t));
  t.is(etcd.code, 0, etcd.stderr.split('\n')[0]);
  t.regex(etcd.stdout, /^etcd Version:/);
});

test('a semantics Tern lacks is refused with exit 1, naming the flag and why (flagTable.test: its default is accepted)', async (t) => {
  const cases = [
    [['--enable-v2'], '--enable-v2=true is not supported by Tern: Tern serves the v3 API only'],
    [['--proxy', 'on'], '--proxy=on is not supported by Tern: Tern does not run etcd\'s v2 proxy'],
    [['--discovery', 'https://discovery.etcd.io/x'], '--discovery=https://discovery.etcd.io/x is not supported by Tern'],
    [['--discovery-srv', 'example.com'], '--discovery-srv=example.com is not supported by Tern'],
  ] as const;
  for (const [args, text] of cases) {
    const out = await runTernToExit([...args], BASE_ENV);
    t.is(out.code, 1, out.stderr);
    t.true(out.stderr.includes(text), out.stderr);
  }
});

/** A Tern process whose stderr is kept; resolves once `done(stderr)` holds. Stopped at the test's end. */
async function ternUntil(t: ExecutionContext, args: readonly string[], env: NodeJS.ProcessEnv, done: (stderr: string) => boolean): Promise<string> {
  const child = spawn(process.execPath, [TERN_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let stderr = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`no ready line in 60 s:\n${stderr}`)); }, 60_000);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (!done(stderr)) return;
      clearTimeout(timer);
      resolve(stderr);
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`tern exited ${String(code)}:\n${stderr}`)); });
  });
}

const READY = 'ready to serve client requests';

async function memberArgs(t: ExecutionContext): Promise<string[]> {
  const [client, peer] = [await freePort(), await freePort()];
  return ['--data-dir', path.join(scratch(t), 'data'), '--listen-client-urls', `http://127.0.0.1:${client}`,
    '--advertise-client-urls', `http://127.0.0.1:${client}`, '--listen-peer-urls', `http://127.0.0.1:${peer}`];
}

test('an unknown ETCD_ variable is a warning and the member starts; a known one is used', async (t) => {
  const stderr = await ternUntil(t, await memberArgs(t), { ...BASE_ENV, ETCD_FOO: '1', ETCD_NAME: 'from-env' }, (s) => s.includes(READY));
  t.regex(stderr, /W \| pkg\/flags: unrecognized environment variable ETCD_FOO=1/);
  t.regex(stderr, /I \| pkg\/flags: recognized and used environment variable ETCD_NAME=from-env/);
  t.regex(stderr, /published \{Name:from-env /);
});

test('--logger zap: JSON lines with etcd\'s keys in etcd\'s order, the ready messages, to stderr and a file', async (t) => {
  const logFile = path.join(scratch(t), 'member.log');
  const args = [...await memberArgs(t), '--logger', 'zap', '--log-outputs', `stderr,${logFile}`, '--max-wals', '3'];
  const stderr = await ternUntil(t, args, BASE_ENV, (s) => s.includes(READY));
  const lines = stderr.split('\n').filter((l) => l !== '');
  const records = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  for (const r of records) t.deepEqual(Object.keys(r).slice(0, 4), ['level', 'ts', 'caller', 'msg']);
  const messages = records.map((r) => r.msg);
  for (const msg of ['published local member to cluster through raft', 'enabled capabilities for version', READY]) t.true(messages.includes(msg), msg);
  t.true(messages.some((m) => typeof m === 'string' && m.startsWith('--max-wals accepted; no effect in Tern: ')));
  t.like(records.find((r) => r.msg === 'enabled capabilities for version'), { level: 'info', 'cluster-version': '3.4' });
  t.true(existsSync(logFile));
  t.true(readFileSync(logFile, 'utf8').includes(READY));
});

test('--config-file: the member starts from the file alone; an unknown key is ignored (with a warning)', async (t) => {
  const [client, peer] = [await freePort(), await freePort()];
  const dir = scratch(t);
  const file = path.join(dir, 'etcd.yaml');
  writeFileSync(file, [
    'name: from-file', `data-dir: ${path.join(dir, 'data')}`, `listen-client-urls: http://127.0.0.1:${client}`,
    `advertise-client-urls: http://127.0.0.1:${client}`, `listen-peer-urls: http://127.0.0.1:${peer}`, 'not-an-etcd-key: 1', '',
  ].join('\n'));
  const stderr = await ternUntil(t, ['--config-file', file, '--name', 'ignored'], { ...BASE_ENV, ETCD_NAME: 'ignored-too' }, (s) => s.includes(READY));
  t.true(stderr.includes(`Loading server configuration from "${file}"`), stderr);
  t.true(stderr.includes('config file key "not-an-etcd-key" is not one of etcd\'s'), stderr);
  t.regex(stderr, /published \{Name:from-file /);
  const out = await etcdctl(`127.0.0.1:${client}`, ['member', 'list']);
  t.regex(out.stdout, /from-file/);
});

test('--max-txn-ops: a txn over the limit is refused as by etcd', async (t) => {
  const etcd = await startEtcd({ extraArgs: ['--max-txn-ops', '2'] });
  t.teardown(() => etcd.stop());
  const tern = await startTern({ extraArgs: ['--max-txn-ops', '2'] });
  t.teardown(() => tern.stop());
  const txn = '\nput a 1\nput b 2\nput c 3\n\n\n';
  const [fromEtcd, fromTern] = await Promise.all([etcdctl(etcd.endpoint, ['txn'], txn), etcdctl(tern.endpoint, ['txn'], txn)]);
  t.is(fromTern.code, fromEtcd.code);
  t.regex(fromEtcd.stderr, /too many operations in txn request/);
  t.regex(fromTern.stderr, /too many operations in txn request/);
  const small = await etcdctl(tern.endpoint, ['txn'], '\nput a 1\nput b 2\n\n\n');
  t.is(small.code, 0, small.stderr);
});

test('--wal-dir: the log and the records live there, and survive a restart', async (t) => {
  const dir = scratch(t);
  const [dataDir, walDir] = [path.join(dir, 'data'), path.join(dir, 'wal')];
  const first = await startTern({ dataDir, extraArgs: ['--wal-dir', walDir] });
  t.teardown(() => first.stop());
  const put = await etcdctl(first.endpoint, ['put', 'k', 'v']);
  await first.stop();
  t.is(put.code, 0, put.stderr);
  t.true(existsSync(path.join(walDir, 'data.mdb')));
  t.false(existsSync(path.join(dataDir, 'member', 'wal', 'data.mdb')));
  const second = await startTern({ dataDir, extraArgs: ['--wal-dir', walDir] });
  t.teardown(() => second.stop());
  const got = await etcdctl(second.endpoint, ['get', 'k', '--print-value-only']);
  t.is(got.stdout, 'v\n');
});

/** PING frames the member's client port sends a bare HTTP/2 connection until `enough` arrive or `windowMs` passes. */
async function pingsFrom(endpoint: string, enough: number, windowMs: number): Promise<number> {
  const session = connect(`http://${endpoint}`);
  let pings = 0;
  session.on('error', () => undefined);
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, windowMs);
    session.on('ping', () => {
      pings++;
      if (pings < enough) return;
      clearTimeout(timer);
      resolve();
    });
  });
  session.destroy();
  return pings;
}

test('--grpc-keepalive-interval/-timeout: the client port pings idle connections at that interval (default 2h: not within seconds)', async (t) => {
  const pinging = await startTern({ extraArgs: ['--grpc-keepalive-interval=500ms', '--grpc-keepalive-timeout=5s'] });
  t.teardown(() => pinging.stop());
  t.true(await pingsFrom(pinging.endpoint, 2, 30_000) >= 2);
  const quiet = await startTern();
  t.teardown(() => quiet.stop());
  t.is(await pingsFrom(quiet.endpoint, 1, 2_000), 0);
});
