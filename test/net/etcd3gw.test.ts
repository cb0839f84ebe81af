// The real Python etcd3gw client (Debian python3-etcd3gw 2.0.0), which speaks etcd's JSON
// gateway over HTTP/1.1, against real etcd 3.4 and against Tern (issue #16): the same
// script (test/net/gateway/etcd3gw_probe.py) runs against each and prints one normalized
// line per step; the two outputs must be equal. A few lines are also checked against
// what etcd 3.4 answers, so a step broken on both sides alike still fails.
// .ci/run installs the client; without it the test is skipped and says why.
import test from 'ava';
import { execFile, spawnSync } from 'node:child_process';
import path from 'node:path';
import { startEtcd, startTern, type Running, startBoth } from './processes.js';

/** Debian's interpreter: the pyenv python on PATH does not see Debian's dist-packages. */
const PYTHON = '/usr/bin/python3';
const PROBE = path.join(process.cwd(), 'test/net/gateway/etcd3gw_probe.py');
/** Only a bound on a hung run: the probe takes about a second on a quiet machine. */
const PROBE_TIMEOUT_MS = 240_000;

function missingClient(): string | null {
  const result = spawnSync(PYTHON, ['-c', 'import etcd3gw'], { encoding: 'utf8', timeout: 60_000 });
  if (result.error !== undefined) return `${PYTHON} cannot run: ${result.error.message}`;
  if (result.status !== 0) return `${PYTHON} cannot import etcd3gw (apt-get install python3-etcd3gw): ${result.stderr.trim().split('\n').pop() ?? ''}`;
  return null;
}

function probe(server: Running): Promise<string> {
  const [host, port] = server.endpoint.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    execFile(PYTHON, [PROBE, host, port], { timeout: PROBE_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error !== null) reject(new Error(`etcd3gw probe against ${server.endpoint} failed: ${error.message}\n${stdout}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Lines whose etcd 3.4.23 answer is known: the parts of the scenario a broken gateway would lose. */
const EXPECTED_FROM_ETCD = [
  "get foo: [b'bar']",
  'create foo (exists): False',
  'replace foo bar->qux (stale): False',
  "get_prefix p/: [(b'p/a', b'P/A'), (b'p/b', b'P/B'), (b'p/c', b'P/C')]",
  "lease keys: [b'l/1', b'l/2']",
  'leased keys after revoke: []',
  "watch_prefix w/ history: [('PUT', b'w/1', b'a'), ('PUT', b'w/2', b'b'), ('DELETE', b'w/1', None), ('PUT', b'w/3', b'c')]",
  "watch_prefix w/ live: [('PUT', b'w/4', b'd')]",
  'watch big history: (200, 200, True)',
  'second acquire (held): False',
  'second acquire (free): True',
  "members: [('default', ['http://localhost:2380'], 1)]",
];

const missing = missingClient();
const run = missing === null ? test : test.skip;
const title = `the etcd3gw Python client sees the same answers from Tern as from etcd 3.4${missing === null ? '' : ` (skipped: ${missing})`}`;

run(title, async (t) => {
  t.timeout(2 * PROBE_TIMEOUT_MS + 120_000);
  const servers: Running[] = [];
  t.teardown(async () => { await Promise.all(servers.map((s) => s.stop())); });
  const [etcd, tern] = await startBoth(startEtcd(), startTern());
  servers.push(etcd, tern);
  // One after the other: each probe has the 2-core machine to itself.
  const fromEtcd = await probe(etcd);
  const fromTern = await probe(tern);
  const etcdLines = fromEtcd.trimEnd().split('\n');
  for (const line of EXPECTED_FROM_ETCD) t.true(etcdLines.includes(line), `etcd 3.4 answered otherwise than expected; wanted: ${line}\n${fromEtcd}`);
  t.deepEqual(fromTern.trimEnd().split('\n'), etcdLines);
});
