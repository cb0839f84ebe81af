// The member binary's flags: etcd's names and defaults; bad flags exit 2 with Go's flag texts.
import test from 'ava';
import { parseFlags } from '../../../net/config/flags.js';
import { runTernToExit } from '../processes.js';

test('no flags: etcd\'s defaults', (t) => {
  const parsed = parseFlags([]);
  t.true(parsed.ok);
  if (!parsed.ok) return;
  t.deepEqual(parsed.flags.listenClientUrls, ['http://localhost:2379']);
  t.is(parsed.flags.dataDir, 'default.tern');
  t.is(parsed.flags.heartbeatMs, 100);
  t.is(parsed.flags.electionMs, 1000);
  t.deepEqual(parsed.flags.listenMetricsUrls, []);
  t.is(parsed.flags.maxRequestBytes, 1572864);
  t.is(parsed.flags.maxConcurrentStreams, 4294967295);
});

test('--max-concurrent-streams is a Go uint32 (any base); bad values get etcd\'s text and exit 2', (t) => {
  const value = (raw: string): number | string => {
    const parsed = parseFlags(['--max-concurrent-streams', raw]);
    return parsed.ok ? parsed.flags.maxConcurrentStreams : `${parsed.exitCode} ${parsed.error}`;
  };
  t.is(value('2'), 2);
  t.is(value('0x10'), 16);
  t.is(value('abc'), '2 invalid value "abc" for flag -max-concurrent-streams: strconv.ParseUint: parsing "abc": invalid syntax');
  t.is(value('4294967296'), '2 invalid value "4294967296" for flag -max-concurrent-streams: strconv.ParseUint: parsing "4294967296": value out of range');
});

test('both --flag value and --flag=value are accepted', (t) => {
  const parsed = parseFlags(['--name', 'n1', '--heartbeat-interval=50', '--election-timeout', '500']);
  t.true(parsed.ok && parsed.flags.name === 'n1' && parsed.flags.heartbeatMs === 50 && parsed.flags.electionMs === 500);
});

test('--experimental-initial-corrupt-check (the e2e suite of etcd passes it to every member) is a Go bool flag, off by default', (t) => {
  const values = [[], ['--experimental-initial-corrupt-check'], ['--experimental-initial-corrupt-check=false']].map((argv) => {
    const parsed = parseFlags(argv);
    return parsed.ok ? parsed.flags.initialCorruptCheck : parsed.error;
  });
  t.deepEqual(values, [false, true, false]);
  const bad = parseFlags(['--experimental-initial-corrupt-check=maybe']);
  t.deepEqual(bad.ok ? null : [bad.error, bad.exitCode], ['invalid boolean value "maybe" for -experimental-initial-corrupt-check: parse error', 2]);
});

test('--experimental-corrupt-check-time is a Go duration, 0 (off) by default', (t) => {
  const values = [[], ['--experimental-corrupt-check-time', '2s'], ['--experimental-corrupt-check-time=1m30s']].map((argv) => {
    const parsed = parseFlags(argv);
    return parsed.ok ? parsed.flags.corruptCheckTimeMs : parsed.error;
  });
  t.deepEqual(values, [0, 2000, 90_000]);
  const bad = parseFlags(['--experimental-corrupt-check-time', '5']);
  t.false(bad.ok);
});

test('--strict-reconfig-check is on unless turned off', (t) => {
  const values = [[], ['--strict-reconfig-check'], ['--strict-reconfig-check=false']].map((argv) => {
    const parsed = parseFlags(argv);
    return parsed.ok ? parsed.flags.strictReconfigCheck : parsed.error;
  });
  t.deepEqual(values, [true, true, false]);
});

test('peers may listen and advertise on a plain unix socket, as etcd\'s TestEtcdUnixPeers starts them', (t) => {
  const parsed = parseFlags(['--name', 'e1', '--listen-peer-urls', 'unix://etcd.unix:1', '--initial-advertise-peer-urls', 'unix://etcd.unix:1',
    '--initial-cluster', 'e1=unix://etcd.unix:1']);
  t.true(parsed.ok, parsed.ok ? '' : parsed.error);
  if (parsed.ok) t.deepEqual(parsed.flags.listenPeerUrls, ['unix://etcd.unix:1']);
});

test('bad flags are refused with a reason', (t) => {
  for (const [argv, fragment] of [
    [['--nope', '1'], 'flag provided but not defined: -nope'],
    [['--heartbeat-interval', 'x'], 'invalid value "x" for flag -heartbeat-interval: parse error'],
    [['--heartbeat-interval', '100', '--election-timeout', '200'], 'at least as 5 times'],
    [['--listen-peer-urls', 'unixs:///tmp/s'], 'unixs:// on --listen-client-urls only'],
    [['--initial-advertise-peer-urls', 'unixs://p:1'], 'unixs:// on --listen-client-urls only'],
    [['--client-cert-auth=maybe'], 'invalid boolean value "maybe" for -client-cert-auth: parse error'],
    [['--listen-client-urls', 'https://127.0.0.1:2379'], 'TLS key/cert (--cert-file, --key-file) must be provided'],
    [['--name'], 'flag needs an argument: -name'],
    [['--listen-metrics-urls', 'x'], 'URL scheme must be http'],
    [['--max-request-bytes', '-1'], 'invalid value "-1" for flag -max-request-bytes: parse error'],
    [['--max-request-bytes', '0'], 'must be positive'],
  ] as const) {
    const parsed = parseFlags(argv);
    t.false(parsed.ok);
    if (!parsed.ok) t.true(parsed.error.includes(fragment), parsed.error);
  }
});

test('the binary exits 2 on a bad flag', async (t) => {
  const result = await runTernToExit(['--bogus']);
  t.is(result.code, 2);
  t.true(result.stderr.includes('flag provided but not defined: -bogus'), result.stderr);
});
