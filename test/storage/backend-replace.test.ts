// Installing a snapshot into LmdbBackend (replaceAll) and dumping it: the replacement is
// visible at once, before its transaction commits, even over batches not yet committed;
// after a reopen only the snapshot's records remain. And a dump is what MemoryBackend
// dumps for the same writes.
import test from 'ava';
import { MemoryBackend, type BackendBatch, type StoredKv } from '../../core/mvcc/backend.js';
import { rev } from '../../core/mvcc/revision.js';
import { LmdbBackend } from '../../storage/lmdbBackend.js';
import { withTempDir } from './util.js';

const kv = (key: string, main: number, value = key): StoredKv => ({
  key, value: new TextEncoder().encode(value), createRevision: main, modRevision: main, version: 1, lease: 0n, tombstone: false,
});
const batch = (main: number, key: string, appliedIndex: number): BackendBatch => ({
  puts: [[rev(main, 0), kv(key, main)]], deletes: [], meta: { appliedIndex, compactRevision: 0 },
});

test('dump() equals MemoryBackend\'s for the same batches', async (t) => {
  await withTempDir(async (dir) => {
    const lmdb = LmdbBackend.open(dir);
    const memory = new MemoryBackend();
    for (const b of [batch(2, 'a', 1), batch(3, 'b', 2), { ...batch(4, 'c', 3), deletes: [rev(2, 0)] }]) {
      lmdb.write(b);
      memory.write(b);
    }
    t.deepEqual(lmdb.dump(), memory.dump(), 'before commit');
    await lmdb.close();
    const reopened = LmdbBackend.open(dir);
    t.deepEqual(reopened.dump(), memory.dump(), 'after a reopen');
    await reopened.close();
  });
});

test('replaceAll() shows the snapshot at once, over uncommitted batches, and is all that survives a reopen', async (t) => {
  await withTempDir(async (dir) => {
    const first = LmdbBackend.open(dir);
    first.write(batch(2, 'old1', 1));
    await first.close();

    const backend = LmdbBackend.open(dir);
    backend.write(batch(3, 'old2', 2)); // not committed yet when the snapshot arrives
    const snapshot = { records: [[rev(5, 0), kv('x', 5)], [rev(7, 0), kv('y', 7)]] as const, meta: { appliedIndex: 9, compactRevision: 4 } };
    backend.replaceAll(snapshot);
    t.deepEqual(backend.dump(), { records: snapshot.records.map(([r, v]) => [r, v]), meta: snapshot.meta }, 'visible at once');
    t.is(backend.get(rev(2, 0)), undefined, 'a committed record is gone');
    t.is(backend.get(rev(3, 0)), undefined, 'an uncommitted record is gone');
    backend.write(batch(8, 'z', 10)); // writes after the snapshot go on as usual
    await backend.close();

    const reopened = LmdbBackend.open(dir);
    t.deepEqual(reopened.dump().records.map(([r]) => r), [rev(5, 0), rev(7, 0), rev(8, 0)]);
    t.deepEqual(reopened.meta(), { appliedIndex: 10, compactRevision: 0 });
    await reopened.close();
  });
});
