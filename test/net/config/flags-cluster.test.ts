// The cluster flags: etcd's defaults, etcd's texts for values that do not parse (exit
// 2) and for flags that do not fit together (exit 1, as etcd).
import test, { type ExecutionContext } from 'ava';
import { parseFlags } from '../../../net/config/flags.js';
import { runTernToExit as run } from '../processes.js';

test('cluster flags default as in etcd 3.4', (t) => {
  const parsed = parseFlags([]);
  if (!parsed.ok) return t.fail(parsed.error);
  const f = parsed.flags;
  t.deepEqual(f.initialCluster, [{ name: 'default', peerUrls: ['http://localhost:2380'] }]);
  t.deepEqual(f.listenPeerUrls, ['http://localhost:2380']);
  t.is(f.initialClusterState, 'new');
  t.is(f.initialClusterToken, 'etcd-cluster');
  t.is(f.snapshotCount, 100_000);
  t.is(f.quotaBackendBytes, 0);
  t.is(f.autoCompactionMode, 'periodic');
  t.is(f.autoCompactionRetention, 0);
  t.deepEqual(f.listenMetricsUrls, []);
});

test('a --name with the default --initial-cluster becomes a one-member cluster under that name (etcd\'s rule)', (t) => {
  const parsed = parseFlags(['--name', 'n1']);
  t.true(parsed.ok && parsed.flags.initialCluster[0]?.name === 'n1');
});

test('--initial-cluster groups URLs by name, keeps order; retention and counts parse', (t) => {
  const parsed = parseFlags([
    '--name', 'b', '--initial-advertise-peer-urls', 'http://127.0.0.1:2,http://127.0.0.1:3',
    '--initial-cluster', 'a=http://127.0.0.1:1,b=http://127.0.0.1:3,b=http://127.0.0.1:2',
    '--initial-cluster-state', 'existing', '--snapshot-count', '5000', '--quota-backend-bytes', '8589934592',
    '--auto-compaction-retention', '1h30m', '--listen-metrics-urls', 'http://127.0.0.1:9000',
  ]);
  if (!parsed.ok) return t.fail(parsed.error);
  t.deepEqual(parsed.flags.initialCluster, [
    { name: 'a', peerUrls: ['http://127.0.0.1:1'] }, { name: 'b', peerUrls: ['http://127.0.0.1:3', 'http://127.0.0.1:2'] },
  ]);
  t.is(parsed.flags.initialClusterState, 'existing');
  t.is(parsed.flags.snapshotCount, 5000);
  t.is(parsed.flags.quotaBackendBytes, 8589934592);
  const noQuota = parseFlags(['--quota-backend-bytes', '-1']);
  t.true(noQuota.ok && noQuota.flags.quotaBackendBytes === -1, 'an int64 flag: negative turns the quota off, as in etcd');
  t.is(parsed.flags.autoCompactionRetention, 90 * 60_000);
  const revision = parseFlags(['--auto-compaction-mode', 'revision', '--auto-compaction-retention', '1000']);
  t.true(revision.ok && revision.flags.autoCompactionMode === 'revision' && revision.flags.autoCompactionRetention === 1000);
  const hours = parseFlags(['--auto-compaction-retention', '2']);
  t.true(hours.ok && hours.flags.autoCompactionRetention === 2 * 3_600_000, 'a bare number is hours');
});

/** Each argv is refused by parseFlags with exactly its text and exit code. */
function assertRefusals(t: ExecutionContext, exitCode: 1 | 2, cases: readonly (readonly [readonly string[], string])[]): void {
  for (const [argv, text] of cases) {
    const parsed = parseFlags(argv);
    t.false(parsed.ok);
    if (!parsed.ok) {
      t.is(parsed.error, text);
      t.is(parsed.exitCode, exitCode);
    }
  }
}

test('values that do not parse: etcd\'s usage texts, exit 2', (t) => {
  assertRefusals(t, 2, [
    [['--initial-cluster-state', 'bogus'], 'invalid value "bogus" for flag -initial-cluster-state: invalid value'],
    [['--snapshot-count', 'abc'], 'invalid value "abc" for flag -snapshot-count: parse error'],
    [['--quota-backend-bytes', 'x'], 'invalid value "x" for flag -quota-backend-bytes: parse error'],
    [['--listen-peer-urls', 'foo'], 'invalid value "foo" for flag -listen-peer-urls: URL scheme must be http, https, unix, or unixs: foo'],
    [['--listen-metrics-urls', 'foo'], 'invalid value "foo" for flag -listen-metrics-urls: URL scheme must be http, https, unix, or unixs: foo'],
  ]);
});

test('flags that do not fit together: etcd\'s texts, exit 1', (t) => {
  assertRefusals(t, 1, [
    [['--name', 'x', '--initial-cluster', 'y=http://localhost:2380'], 'couldn\'t find local name "x" in the initial cluster configuration'],
    [['--initial-advertise-peer-urls', 'http://127.0.0.1:2390'],
      '--initial-cluster has default=http://localhost:2380 but missing from --initial-advertise-peer-urls=http://127.0.0.1:2390 '
      + '(resolved urls: "http://127.0.0.1:2390" != "http://localhost:2380")'],
    [['--initial-cluster', 'foo'], 'error setting up initial cluster: URL scheme must be http, https, unix, or unixs: '],
    [['--auto-compaction-mode', 'bogus'], 'unknown auto-compaction-mode "bogus"'],
    [['--auto-compaction-retention', 'abc'], 'error parsing CompactionRetention: time: invalid duration "abc"'],
  ]);
});

test('the binary exits with etcd\'s codes on bad cluster flags', async (t) => {
  const usage = await run(['--snapshot-count', 'abc']);
  t.is(usage.code, 2);
  t.true(usage.stderr.includes('invalid value "abc" for flag -snapshot-count: parse error'));
  const config = await run(['--name', 'x', '--initial-cluster', 'y=http://localhost:2380']);
  t.is(config.code, 1);
  t.true(config.stderr.includes('couldn\'t find local name "x" in the initial cluster configuration'));
});
