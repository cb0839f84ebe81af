// The one table of etcd's flags: consistent with itself, with --help and with docs/flags.md.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { envName, FLAG_TABLE } from '../../../net/config/flagTable.js';
import { goValueProblem } from '../../../net/config/goValues.js';
import { flagsHelp } from '../../../net/config/help.js';
import { parseFlags } from '../../../net/config/flags.js';

test('names are unique, and ETCD_ variables are named as etcd names them', (t) => {
  t.is(new Set(FLAG_TABLE.map((s) => s.name)).size, FLAG_TABLE.length);
  t.is(envName('experimental-initial-corrupt-check'), 'ETCD_EXPERIMENTAL_INITIAL_CORRUPT_CHECK');
});

test('every etcd default parses as its own type, and a refused flag accepts its default', (t) => {
  for (const spec of FLAG_TABLE) {
    if (spec.etcdDefault !== '' && spec.disposition.kind !== 'legacy') t.is(goValueProblem(spec.type, spec.etcdDefault), null, spec.name);
    if (spec.disposition.kind === 'refused') {
      const parsed = parseFlags([`--${spec.name}=${spec.etcdDefault}`]);
      t.true(parsed.ok, `${spec.name}: ${parsed.ok ? '' : parsed.error}`);
    }
  }
});

test('every flag etcd sets to its default is accepted by the parser (a command line of etcd\'s defaults starts)', (t) => {
  const args = FLAG_TABLE.filter((s) => s.etcdDefault !== '' && s.disposition.kind !== 'legacy' && !['data-dir', 'version', 'config-file'].includes(s.name))
    .map((s) => `--${s.name}=${s.etcdDefault}`);
  const parsed = parseFlags(args);
  t.true(parsed.ok, parsed.ok ? '' : parsed.error);
  if (parsed.ok) t.true(parsed.flags.notices.length > 10, 'the inert ones each say so');
});

test('--help lists every flag etcd\'s help lists, with what Tern does with the inert and refused ones', (t) => {
  const help = flagsHelp();
  for (const spec of FLAG_TABLE.filter((s) => s.hidden !== true && s.section !== 'Other')) t.true(help.includes(`  --${spec.name} `), spec.name);
  t.true(help.includes('[no effect in Tern: Go\'s runtime profiler'));
  t.true(help.includes('[Tern refuses other values: Tern serves the v3 API only]'));
});

test('docs/flags.md has a row for every flag, with the table\'s disposition', (t) => {
  const doc = readFileSync('docs/flags.md', 'utf8');
  const word = { honoured: 'honoured', inert: 'inert', refused: 'refused unless default', legacy: '' } as const;
  for (const spec of FLAG_TABLE.filter((s) => s.disposition.kind !== 'legacy')) {
    const row = doc.split('\n').find((line) => line.startsWith(`| \`--${spec.name}\``));
    t.truthy(row, spec.name);
    t.true(row?.includes(`| ${word[spec.disposition.kind]} |`), `${spec.name}: ${row ?? ''}`);
  }
});

test('the honoured Raft and server flags reach the settings', (t) => {
  const parsed = parseFlags([
    '--pre-vote=false', '--initial-election-tick-advance=false', '--max-txn-ops=7', '--wal-dir=/w',
    '--grpc-keepalive-interval=10s', '--grpc-keepalive-timeout=3s', '--experimental-watch-progress-notify-interval=50ms',
  ]);
  if (!parsed.ok) return t.fail(parsed.error);
  t.like(parsed.flags, {
    preVote: false, initialElectionTickAdvance: false, maxTxnOps: 7, walDir: '/w',
    grpcKeepalive: { intervalMs: 10_000, timeoutMs: 3000 }, watchProgressNotifyIntervalMs: 100,
  });
  const defaults = parseFlags([]);
  t.like(defaults.ok ? defaults.flags : {}, { preVote: true, initialElectionTickAdvance: true, maxTxnOps: 128, walDir: '', watchProgressNotifyIntervalMs: 600_000 });
  const off = parseFlags(['--grpc-keepalive-timeout=0']);
  t.true(off.ok && off.flags.grpcKeepalive === null, 'etcd sets no server pings when either is 0');
});

test('etcd\'s cross-flag checks: lease checkpoint persistence needs checkpoints; election timeout bounds', (t) => {
  const persist = parseFlags(['--experimental-enable-lease-checkpoint-persist']);
  t.deepEqual(persist.ok ? null : [persist.error, persist.exitCode], ['setting experimental-enable-lease-checkpoint-persist requires experimental-enable-lease-checkpoint', 1]);
  const long = parseFlags(['--election-timeout=60000']);
  t.deepEqual(long.ok ? null : long.error, '--election-timeout[60000ms] is too long, and should be set less than 50000ms');
  const zero = parseFlags(['--heartbeat-interval=0']);
  t.deepEqual(zero.ok ? null : zero.error, '--heartbeat-interval must be >0 (set to 0ms)');
});
