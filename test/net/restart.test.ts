// A member restarted on its data dir resumes: what was acknowledged is still there,
// at the same revisions (the Raft log is in LMDB; the store is rebuilt from it).
import test from 'ava';
import { etcdctl, removeDataDir, startTern, tempDataDir } from './processes.js';

test('restarting on an existing data dir resumes with the same data and revisions', async (t) => {
  const dataDir = tempDataDir();
  try {
    const first = await startTern({ dataDir });
    for (const [k, v] of [['a', '1'], ['b', '2'], ['a', '3']] as const) {
      t.is((await etcdctl(first.endpoint, ['put', k, v])).code, 0);
    }
    const before = await etcdctl(first.endpoint, ['get', '', '--prefix', '-w', 'json']);
    t.is(await first.stop(), 0);

    const second = await startTern({ dataDir });
    const after = await etcdctl(second.endpoint, ['get', '', '--prefix', '-w', 'json']);
    // A restart is a new election (a new raft_term, as in etcd); the data and revisions are the same.
    const data = (o: string): unknown => {
      const parsed = JSON.parse(o) as { kvs: unknown; header: { revision: number } };
      return { kvs: parsed.kvs, revision: parsed.header.revision };
    };
    t.deepEqual(data(after.stdout), data(before.stdout), 'same keys, values, versions and revisions');
    t.is((await etcdctl(second.endpoint, ['put', 'c', '4', '-w', 'json'])).stdout.includes('"revision":5'), true,
      'the next write continues the revision sequence');
    t.is(await second.stop(), 0);
  } finally {
    removeDataDir(dataDir);
  }
});
