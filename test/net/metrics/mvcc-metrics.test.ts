// etcd 3.4's mvcc metrics on Tern, beside real etcd: the same etcdctl session (puts with
// and without prev_kv, serializable and linearizable gets, deletes of none and of many
// keys, /health, txns that compare and write or only read, a compaction, a lease revoked with
// two keys, a HashKV, a watch) moves etcd_mvcc_* and etcd_debugging_mvcc_* alike on both, step by
// step, and the families carry etcd's help and type lines.
import { spawn } from 'node:child_process';
import test from 'ava';
import { etcdctl, startEtcd, startTern, type Running, startBoth } from '../processes.js';

/** The series both servers must agree on (sizes, histograms and bbolt's read txns differ by design). */
const COMPARED = [
  'etcd_mvcc_put_total', 'etcd_mvcc_delete_total', 'etcd_mvcc_range_total', 'etcd_mvcc_txn_total',
  'etcd_debugging_mvcc_put_total', 'etcd_debugging_mvcc_delete_total', 'etcd_debugging_mvcc_range_total',
  'etcd_debugging_mvcc_txn_total', 'etcd_debugging_mvcc_total_put_size_in_bytes', 'etcd_debugging_mvcc_keys_total',
  'etcd_debugging_mvcc_current_revision', 'etcd_debugging_mvcc_compact_revision', 'etcd_debugging_mvcc_events_total',
  'etcd_debugging_mvcc_watcher_total', 'etcd_debugging_mvcc_watch_stream_total', 'etcd_debugging_mvcc_slow_watcher_total',
  'etcd_mvcc_hash_duration_seconds_count', 'etcd_mvcc_hash_rev_duration_seconds_count',
];
/** Families whose help and type lines must equal etcd's (the compared ones and the db size). */
const DESCRIBED = [
  ...COMPARED.filter((name) => !name.endsWith('_count')), 'etcd_mvcc_db_total_size_in_bytes', 'etcd_debugging_mvcc_db_total_size_in_bytes',
  'etcd_mvcc_hash_duration_seconds', 'etcd_mvcc_hash_rev_duration_seconds',
];

async function scrape(endpoint: string): Promise<string> {
  return (await fetch(`http://${endpoint}/metrics`)).text();
}

function values(metrics: string): string {
  const lines = metrics.split('\n');
  return COMPARED.map((name) => lines.find((l) => l.startsWith(`${name} `)) ?? `${name} MISSING`).join('\n');
}

function descriptions(metrics: string): string[] {
  const lines = metrics.split('\n');
  return DESCRIBED.flatMap((name) => lines.filter((l) => l.startsWith(`# HELP ${name} `) || l.startsWith(`# TYPE ${name} `)));
}

/** `etcdctl watch --rev 4 x`, resolved once it printed x's value; killed by `stop`. */
function watchFromStart(endpoint: string, value: string): Promise<{ stop: () => void }> {
  const child = spawn('etcdctl', ['--endpoints', endpoint, 'watch', '--rev', '4', 'x'], { env: { ...process.env, ETCDCTL_API: '3' } });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes(value)) resolve({ stop: () => { child.kill('SIGKILL'); } });
    });
    child.once('exit', (code) => { reject(new Error(`etcdctl watch exited ${String(code)}: ${out}`)); });
  });
}

/** The session, with the metrics after each step. */
async function session(server: Running): Promise<{ steps: string[]; described: string[] }> {
  const ep = server.endpoint;
  const steps: string[] = [];
  const step = async (name: string, args: string[], input?: string): Promise<void> => {
    const out = await etcdctl(ep, args, input);
    if (out.code !== 0) throw new Error(`${name} failed on ${ep}: ${out.stderr}`);
    steps.push(`== ${name}\n${values(await scrape(ep))}`);
  };
  steps.push(`== start\n${values(await scrape(ep))}`);
  await step('put', ['put', 'foo', 'bar']);
  await step('put --prev-kv', ['put', '--prev-kv', 'foo', 'baz']);
  await step('get', ['get', 'foo']);
  await step('serializable get', ['get', '--consistency=s', 'foo']);
  // etcd's /health goes through Raft without a range: it counts nothing.
  if ((await fetch(`http://${ep}/health`)).status !== 200) throw new Error(`${ep} is not healthy`);
  steps.push(`== health\n${values(await scrape(ep))}`);
  await step('delete of nothing', ['del', 'nothing']);
  await step('put a', ['put', 'a', '1']);
  await step('put b', ['put', 'b', '22']);
  await step('delete of all', ['del', '--prefix', '']);
  await step('txn: compare, two puts', ['txn'], 'version("x") = "0"\n\nput x y\nput z w\n\n\n');
  await step('txn: compare fails, empty branch', ['txn'], 'value("x") = "nope"\n\nput x y\nget x\n\n\n');
  await step('txn: compare fails, a get', ['txn'], 'value("x") = "nope"\n\nput x y\n\nget x\n\n');
  await step('txn: compare, one put', ['txn'], 'version("x") > "0"\n\nput x y2\n\n\n');
  await step('read-only txn: two compares, a get', ['txn'], 'version("x") > "0"\nversion("z") > "0"\n\nget x\n\n\n');
  await step('compaction', ['compaction', '3']);
  const grant = await etcdctl(ep, ['lease', 'grant', '100']);
  const lease = /lease ([0-9a-f]+) granted/.exec(grant.stdout)?.[1] ?? 'none';
  await step('lease put 1', ['put', '--lease', lease, 'l1', 'v']);
  await step('lease put 2', ['put', '--lease', lease, 'l2', 'v']);
  await step('lease revoke', ['lease', 'revoke', lease]);
  await step('hashkv (timed)', ['endpoint', 'hashkv']);
  // etcd's events_total counts events sent to watchers: a watch from revision 4 (past the compaction) gets x's two puts.
  const watch = await watchFromStart(ep, 'y2');
  try {
    steps.push(`== watching\n${values(await scrape(ep))}`);
  } finally {
    watch.stop();
  }
  return { steps, described: descriptions(await scrape(ep)) };
}

test('etcdctl traffic moves the mvcc metrics on Tern exactly as on etcd 3.4', async (t) => {
  const [tern, etcd] = await startBoth(startTern(), startEtcd());
  t.teardown(async () => { await Promise.all([tern.stop(), etcd.stop()]); });
  const [ours, theirs] = await Promise.all([session(tern), session(etcd)]);
  t.deepEqual(ours.steps, theirs.steps);
  t.deepEqual(ours.described, theirs.described);
  // The figures etcd 3.4.23 printed for this session, so a drift on both sides shows too.
  t.is(ours.steps.at(-1), [
    '== watching',
    'etcd_mvcc_put_total 9', 'etcd_mvcc_delete_total 4', 'etcd_mvcc_range_total 12', 'etcd_mvcc_txn_total 4',
    'etcd_debugging_mvcc_put_total 9', 'etcd_debugging_mvcc_delete_total 4', 'etcd_debugging_mvcc_range_total 12',
    'etcd_debugging_mvcc_txn_total 4', 'etcd_debugging_mvcc_total_put_size_in_bytes 30', 'etcd_debugging_mvcc_keys_total 2',
    'etcd_debugging_mvcc_current_revision 11', 'etcd_debugging_mvcc_compact_revision 3', 'etcd_debugging_mvcc_events_total 2',
    'etcd_debugging_mvcc_watcher_total 1', 'etcd_debugging_mvcc_watch_stream_total 1', 'etcd_debugging_mvcc_slow_watcher_total 0',
    'etcd_mvcc_hash_duration_seconds_count 0', 'etcd_mvcc_hash_rev_duration_seconds_count 1',
  ].join('\n'));
  t.is(ours.described.length, DESCRIBED.length * 2);
});
