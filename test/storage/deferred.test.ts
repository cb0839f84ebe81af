// DeferredWrites on real LMDB (storage/deferredWrites.ts): a commit-index-only hard state
// and the MVCC batches wait for the next synced log write and commit in its transaction;
// another process sees none of them before and all of them after. The queue's limit, its
// timer and a close commit them without a log write.
import test from 'ava';
import type { BackendBatch } from '../../core/mvcc/backend.js';
import { rev } from '../../core/mvcc/revision.js';
import { LmdbBackend } from '../../storage/lmdbBackend.js';
import { openLmdbEnv } from '../../storage/lmdbEnv.js';
import { LmdbLogStore } from '../../storage/lmdbLogStore.js';
import { entries, hardState, plain, recoverInChild, withTempDir, write } from './util.js';

const HOUR_MS = 3_600_000;

function batch(index: number): BackendBatch {
  const r = rev(index + 1, 0);
  return {
    puts: [[r, { key: `k${index}`, value: new TextEncoder().encode(`v${index}`), createRevision: r, modRevision: r, version: 1, lease: 0n, tombstone: false }]],
    deletes: [],
    meta: { appliedIndex: index, compactRevision: 0 },
  };
}

function open(dir: string, options: { flushAfterMs?: number; maxQueued?: number }): { root: ReturnType<typeof openLmdbEnv>; log: LmdbLogStore; backend: LmdbBackend } {
  const root = openLmdbEnv(dir);
  const log = LmdbLogStore.onEnv(root, options);
  return { root, log, backend: LmdbBackend.onEnv(root, { deferTo: log.deferred }) };
}

test('the commit index and MVCC batches commit with the next synced write, not before; a close commits what waits', async (t) => {
  await withTempDir(async (dir) => {
    const { root, log, backend } = open(dir, { flushAfterMs: HOUR_MS });
    t.deepEqual(await write(log, { entries: entries(1, 2, 1), hardState: hardState(1, 0) }), { kind: 'ok' });
    t.deepEqual(await write(log, { hardState: hardState(1, 2), mustSync: false }), { kind: 'ok' }, 'acknowledged without a commit');
    backend.write(batch(1));
    backend.write(batch(2));
    t.is(log.deferred.size, 3);
    t.is(backend.get(rev(3, 0))?.key, 'k2', 'visible at once, from the overlay');
    t.like(log.recover(), { hardState: hardState(1, 2) }, 'this process recovers what it acknowledged');
    t.like(recoverInChild(dir), { hardState: hardState(1, 0) }, 'another process sees nothing deferred');

    t.deepEqual(await write(log, { entries: entries(3, 3, 1) }), { kind: 'ok' });
    t.is(log.deferred.size, 0);
    t.deepEqual(recoverInChild(dir), plain({ hardState: hardState(1, 2), snapshot: null, entries: entries(1, 3, 1), truncatedTornTail: false }));

    t.deepEqual(await write(log, { hardState: hardState(1, 3), mustSync: false }), { kind: 'ok' });
    backend.write(batch(3));
    await backend.close();
    await log.close();
    await root.close();

    const again = open(dir, { flushAfterMs: HOUR_MS });
    t.deepEqual(again.backend.meta(), { appliedIndex: 3, compactRevision: 0 });
    t.is(again.backend.get(rev(4, 0))?.key, 'k3');
    t.like(again.log.recover(), { hardState: hardState(1, 3) });
    await again.root.close();
  });
});

test('past --backend-batch-limit the waiting writes commit at once, and after the interval on their own', async (t) => {
  await withTempDir(async (dir) => {
    const limited = open(dir, { flushAfterMs: HOUR_MS, maxQueued: 3 });
    limited.backend.write(batch(1));
    limited.backend.write(batch(2));
    t.is(limited.log.deferred.size, 2);
    limited.backend.write(batch(3));
    t.is(limited.log.deferred.size, 0, 'the third one committed all three');
    await limited.root.flushed;
    await limited.root.close();

    const timed = open(dir, { flushAfterMs: 20 });
    t.deepEqual(timed.backend.meta(), { appliedIndex: 3, compactRevision: 0 });
    t.deepEqual(await write(timed.log, { entries: entries(1, 1, 1), hardState: hardState(1, 0) }), { kind: 'ok' });
    t.deepEqual(await write(timed.log, { hardState: hardState(1, 1), mustSync: false }), { kind: 'ok' });
    // Waits for the timer's commit (bounded: a timer that never fires fails here).
    for (let i = 0; i < 1000 && timed.log.deferred.size > 0; i++) await new Promise((done) => setTimeout(done, 10));
    t.is(timed.log.deferred.size, 0);
    await timed.root.flushed;
    t.like(recoverInChild(dir), { hardState: hardState(1, 1) });
    await timed.root.close();
  });
});
