// Where flag values come from: Go's flag syntax on the command line, then etcd's
// ETCD_* variables (pkg/flags SetFlagsFromEnv), with etcd's texts for each refusal.
import test from 'ava';
import { parseArgs, withEnvironment, type CommandLine } from '../../../net/config/flagSources.js';
import { parseFlags } from '../../../net/config/flags.js';

function commandLine(argv: readonly string[]): CommandLine {
  const parsed = parseArgs(argv);
  if (parsed.kind !== 'flags') throw new Error(`not flags: ${JSON.stringify(parsed)}`);
  return parsed.commandLine;
}

test('Go\'s flag syntax: one or two dashes, = or a separate value, the last repetition wins', (t) => {
  const { values, stray } = commandLine(['-name', 'a', '--data-dir=/d', '--snapshot-count', '5', '--name=b', '-pre-vote']);
  t.deepEqual([...values], [['name', 'b'], ['data-dir', '/d'], ['snapshot-count', '5'], ['pre-vote', 'true']]);
  t.is(stray, null);
});

test('a bool flag takes no separate value: `--pre-vote false` leaves "false" as a stray argument', (t) => {
  const line = commandLine(['--pre-vote', 'false']);
  t.is(line.values.get('pre-vote'), 'true');
  t.is(line.stray, 'false');
  const refused = parseFlags(['--pre-vote', 'false']);
  t.deepEqual(refused.ok ? null : [refused.error, refused.exitCode], ['\'false\' is not a valid flag', 1]);
});

test('-- ends the flags; a value flag takes the next argument even if it starts with a dash', (t) => {
  t.is(commandLine(['--', '--name', 'x']).stray, '--name');
  t.is(commandLine(['--name', '--odd']).values.get('name'), '--odd');
});

test('Go\'s usage errors, word for word', (t) => {
  const cases: readonly (readonly [readonly string[], string])[] = [
    [['--bogus'], 'flag provided but not defined: -bogus'],
    [['-bogus=1'], 'flag provided but not defined: -bogus'],
    [['---name'], 'bad flag syntax: ---name'],
    [['--snapshot-count=abc'], 'invalid value "abc" for flag -snapshot-count: parse error'],
    [['--snapshot-count=-1'], 'invalid value "-1" for flag -snapshot-count: parse error'],
    [['--max-wals=99999999999999999999'], 'invalid value "99999999999999999999" for flag -max-wals: value out of range'],
    [['--pre-vote=maybe'], 'invalid boolean value "maybe" for -pre-vote: parse error'],
    [['--grpc-keepalive-min-time=x'], 'invalid value "x" for flag -grpc-keepalive-min-time: parse error'],
    [['--proxy=bad'], 'invalid value "bad" for flag -proxy: invalid value'],
    [['--initial-cluster-state=x'], 'invalid value "x" for flag -initial-cluster-state: invalid value'],
    [['--name'], 'flag needs an argument: -name'],
  ];
  for (const [argv, text] of cases) t.deepEqual(parseArgs(argv), { kind: 'usage-error', message: text }, argv.join(' '));
});

test('Go\'s base-0 integers are numbers (0x10, 0o17, 017, 1_000)', (t) => {
  for (const [raw, n] of [['0x10', 16], ['0o17', 15], ['017', 15], ['1_000', 1000]] as const) {
    const parsed = parseFlags([`--snapshot-count=${raw}`]);
    t.is(parsed.ok ? parsed.flags.snapshotCount : parsed.error, n);
  }
});

test('-h and --help ask for help (etcd defines neither flag; Go\'s flag package answers them)', (t) => {
  t.deepEqual(parseArgs(['-h']), { kind: 'help' });
  t.deepEqual(parseArgs(['--name', 'x', '--help']), { kind: 'help' });
});

test('etcd\'s long-removed flags are swallowed with its warning', (t) => {
  const line = commandLine(['--peer-heartbeat-interval', '--name', 'x']);
  t.is(line.values.get('name'), 'x');
  t.deepEqual(line.notices, [{ level: 'warn', text: 'flag "-peer-heartbeat-interval" is no longer supported - ignoring.' }]);
});

test('an ETCD_ variable fills an absent flag and says so', (t) => {
  const result = withEnvironment(commandLine(['--name', 'x']), { ETCD_SNAPSHOT_COUNT: '5', ETCD_PRE_VOTE: 'true', PATH: '/bin' });
  if (!result.ok) return t.fail(result.error);
  t.is(result.values.get('snapshot-count'), '5');
  t.is(result.sources.get('snapshot-count'), 'env');
  t.is(result.sources.get('name'), 'flag');
  t.deepEqual(result.notices.map((n) => n.text), [
    'recognized and used environment variable ETCD_PRE_VOTE=true', 'recognized and used environment variable ETCD_SNAPSHOT_COUNT=5',
  ]);
});

test('a variable whose flag is also given is fatal, even when the variable is empty (etcd 3.4.23)', (t) => {
  for (const value of ['y', '']) {
    const result = withEnvironment(commandLine(['--name', 'x']), { ETCD_NAME: value });
    t.deepEqual(result.ok ? null : [result.error, result.fatal], [
      'conflicting environment variable "ETCD_NAME" is shadowed by corresponding command-line flag (either unset environment variable or disable flag)', true,
    ]);
  }
});

test('an ETCD_ variable naming no flag, or empty, is a warning; others are not looked at', (t) => {
  const result = withEnvironment(commandLine([]), { ETCD_FOO: '1', ETCD_NAME: '', ETCDCTL_API: '3' });
  if (!result.ok) return t.fail(result.error);
  t.deepEqual(result.notices, [
    { level: 'warn', text: 'unrecognized environment variable ETCD_FOO=1' },
    { level: 'warn', text: 'unrecognized environment variable ETCD_NAME=' },
  ]);
  t.false(result.values.has('name'));
});

test('a variable that does not parse is an error verifying flags, in the variable\'s name', (t) => {
  const result = withEnvironment(commandLine([]), { ETCD_SNAPSHOT_COUNT: 'abc' });
  t.deepEqual(result.ok ? null : [result.error, result.fatal], ['invalid value "abc" for ETCD_SNAPSHOT_COUNT: parse error', false]);
});
