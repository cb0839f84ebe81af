// Auto compaction as etcd configures it: the flag pair parses as etcd reads it, the
// leader compacts on schedule (revision mode: latest − retention every 5 minutes;
// periodic mode: history older than the retention, once per period), and the
// compaction goes through Raft so every member compacts at the same revision.
import test from 'ava';
import { AutoCompactor, parseAutoCompaction } from '../../core/server/autoCompactor.js';
import { isEtcdError } from '../../core/errors.js';
import { ServerCluster } from './cluster.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

test('the flags parse as etcd reads them', (t) => {
  t.deepEqual(parseAutoCompaction('periodic', '1'), { mode: 'periodic', retentionMs: 3600_000 });
  t.deepEqual(parseAutoCompaction('periodic', '1h30m'), { mode: 'periodic', retentionMs: 5400_000 });
  t.deepEqual(parseAutoCompaction('periodic', '10s'), { mode: 'periodic', retentionMs: 10_000 });
  t.deepEqual(parseAutoCompaction('revision', '1000'), { mode: 'revision', retention: 1000 });
  t.is(parseAutoCompaction('periodic', '0'), null, '0 disables (etcd\'s default)');
  t.is(typeof parseAutoCompaction('hourly', '1'), 'string');
  t.is(typeof parseAutoCompaction('periodic', '1x'), 'string');
  t.is(typeof parseAutoCompaction('revision', '-3'), 'string');
});

test('revision mode compacts to latest − retention every five minutes, on the leader only', (t) => {
  const c = new AutoCompactor({ mode: 'revision', retention: 100 });
  t.is(c.onTick(0, true, 500, 0), null);
  t.is(c.onTick(299_999, true, 500, 0), null);
  t.is(c.onTick(300_000, true, 500, 0), 400);
  t.is(c.onTick(600_000, true, 450, 400), null, 'nothing new to compact');
  t.is(c.onTick(900_000, false, 900, 400), null, 'a follower never compacts');
});

test('periodic mode keeps the retention window of history', (t) => {
  const c = new AutoCompactor({ mode: 'periodic', retentionMs: 10_000 });
  const results: (number | null)[] = [];
  // One write per second: the revision is 1 + seconds elapsed.
  for (let ms = 0; ms <= 30_000; ms += 1000) results.push(c.onTick(ms, true, 1 + ms / 1000, 0));
  const compactions = results.flatMap((r, i) => (r === null ? [] : [[i, r]]));
  t.deepEqual(compactions, [[10, 1], [20, 11], [30, 21]], 'every 10 s, to the revision of 10 s before');
});

test('the leader proposes the compaction; every member compacts at the same revision', (t) => {
  const cluster = new ServerCluster([1, 2, 3], { autoCompaction: { mode: 'revision', retention: 2 } });
  const leader = cluster.elect();
  for (let i = 0; i < 6; i++) leader.put({ key: enc('k'), value: enc(String(i)) }, (r) => { if (isEtcdError(r)) t.fail(r.message); });
  cluster.run(5 * 60 * 10 + 20); // five minutes of 100 ms ticks, and then some
  const compacted = [...cluster.servers.values()].map((s) => s.machine.store.compactRevision());
  t.deepEqual(compacted, [5, 5, 5], 'latest (7) − 2 on every member');
});
