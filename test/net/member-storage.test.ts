// The member's storage on real processes, real LMDB and its bbolt file: a restart
// resumes from the MVCC records in member/snap/db without executing the log again; a second member on the same data dir
// is refused; a request over --max-request-bytes fails as it does on etcd.
import test from 'ava';
import { execFile } from 'node:child_process';
import { etcdctl, freePort, removeDataDir, startEtcd, startTern, tempDataDir, TERN_BIN, type Outcome, startBoth } from './processes.js';

async function metric(endpoint: string, name: string): Promise<number> {
  const text = await (await fetch(`http://${endpoint}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.slice(name.length + 1));
}

function runTern(args: readonly string[]): Promise<Outcome> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TERN_BIN, ...args], { timeout: 20_000 }, (error, stdout, stderr) => {
      resolve({ stdout, stderr, code: error === null ? 0 : typeof error.code === 'number' ? error.code : -1 });
    });
  });
}

test('a restart resumes from the records in member/snap/db: the log is skipped through, not executed again', async (t) => {
  const dataDir = tempDataDir();
  try {
    const first = await startTern({ dataDir });
    for (let i = 0; i < 20; i++) t.is((await etcdctl(first.endpoint, ['put', `k${i % 7}`, `v${i}`])).code, 0);
    // The member's publish of its name and client URLs (before its ready line) and the 20 puts.
    t.is(await metric(first.endpoint, 'tern_server_apply_executed_entries'), 21);
    const before = await etcdctl(first.endpoint, ['get', '', '--prefix', '-w', 'json']);
    t.is(await first.stop(), 0);

    const second = await startTern({ dataDir });
    t.is(await metric(second.endpoint, 'tern_server_apply_executed_entries'), 1, 'nothing was executed again: only this start\'s publish');
    t.is(await metric(second.endpoint, 'tern_server_apply_skipped_entries'), 21, 'the publish and the 20 writes were already in the backend file');
    t.is(await metric(second.endpoint, 'etcd_debugging_mvcc_keys_total'), 7);
    const after = await etcdctl(second.endpoint, ['get', '', '--prefix', '-w', 'json']);
    const kvs = (o: string): unknown => (JSON.parse(o) as { kvs: unknown }).kvs;
    t.deepEqual(kvs(after.stdout), kvs(before.stdout));
    t.regex((await etcdctl(second.endpoint, ['put', 'next', 'x', '-w', 'json'])).stdout, /"revision":22/);
    t.is(await metric(second.endpoint, 'tern_server_apply_executed_entries'), 2);
    t.is(await second.stop(), 0);
  } finally {
    removeDataDir(dataDir);
  }
});

test('a second member on the same data dir exits 1 with a clear message; the dir is free again after a stop or a kill -9', async (t) => {
  const dataDir = tempDataDir();
  try {
    const first = await startTern({ dataDir });
    const port = await freePort();
    const second = await runTern(['--listen-client-urls', `http://127.0.0.1:${port}`, '--data-dir', dataDir]);
    t.is(second.code, 1);
    t.regex(second.stderr, new RegExp(`cannot access data directory ${dataDir}: it is locked by another member \\(pid ${String(first.process.pid)}\\)`));
    t.is((await etcdctl(first.endpoint, ['put', 'still', 'served'])).code, 0, 'the first member is unharmed');
    t.is(await first.stop(), 0);

    const third = await startTern({ dataDir });
    t.is((await etcdctl(third.endpoint, ['get', 'still', '--print-value-only'])).stdout, 'served\n');
    const exited = new Promise((resolve) => { third.process.once('exit', resolve); });
    third.process.kill('SIGKILL'); // leaves its lock file behind, naming a dead process
    await exited;
    const fourth = await startTern({ dataDir });
    t.is((await etcdctl(fourth.endpoint, ['get', 'still', '--print-value-only'])).stdout, 'served\n');
    t.is(await fourth.stop(), 0);
  } finally {
    removeDataDir(dataDir);
  }
});

test('requests over --max-request-bytes fail as on etcd (same etcdctl output), smaller ones pass', async (t) => {
  const [tern, etcd] = await startBoth(startTern(), startEtcd());
  try {
    for (const [bytes, ok] of [[1_500_000, true], [1_600_000, false], [2 * 1024 * 1024, false]] as const) {
      const value = 'a'.repeat(bytes);
      const [ours, theirs] = await Promise.all([etcdctl(tern.endpoint, ['put', 'big'], value), etcdctl(etcd.endpoint, ['put', 'big'], value)]);
      t.is(ours.code, theirs.code, `${bytes} bytes: exit code`);
      t.is(ours.code === 0, ok, `${bytes} bytes: accepted?`);
      const lastLine = (o: Outcome): string => o.stderr.trim().split('\n').pop() ?? '';
      // The client-side limit's message names a client-generated number; the rest is the server's text.
      t.is(lastLine(ours).replace(/client-[0-9a-f-]+/g, ''), lastLine(theirs).replace(/client-[0-9a-f-]+/g, ''), `${bytes} bytes: message`);
    }
    t.is((await etcdctl(tern.endpoint, ['put', 'big'], 'a'.repeat(1_600_000))).stderr.trim().split('\n').pop(),
      'Error: etcdserver: request is too large');
  } finally {
    await Promise.all([tern.stop(), etcd.stop()]);
  }
});
