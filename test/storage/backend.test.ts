// LmdbBackend on real LMDB against MemoryBackend (the reference): the same batches
// give the same get/scan/meta, both before the batches commit (the overlay) and after
// a reopen; and the MVCC store rebuilt over a reopened LmdbBackend answers as before.
import test from 'ava';
import fc from 'fast-check';
import type { BackendBatch, MvccBackend, StoredKv } from '../../core/mvcc/backend.js';
import { MemoryBackend } from '../../core/mvcc/backend.js';
import { rev, type Rev } from '../../core/mvcc/revision.js';
import { askStore, observe, runHistory, scanAll } from './backendCheck.js';
import { MvccStore } from '../../core/mvcc/store.js';
import { LmdbBackend } from '../../storage/lmdbBackend.js';
import { LmdbLogStore } from '../../storage/lmdbLogStore.js';
import { openLmdbEnv } from '../../storage/lmdbEnv.js';
import { entries, hardState, withTempDir, write } from './util.js';

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A batch step: new revisions put, some existing ones deleted (compaction), meta advanced. */
interface BatchPlan {
  readonly puts: readonly { sub: number; key: string; value: number[]; tombstone: boolean; lease: bigint }[];
  readonly deletePicks: readonly number[];
  readonly compact: boolean;
}

const batchPlan: fc.Arbitrary<BatchPlan> = fc.record({
  puts: fc.array(fc.record({
    sub: fc.integer({ min: 0, max: 3 }),
    key: fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: 6 }),
    value: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 8 }),
    tombstone: fc.boolean(),
    lease: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }), // every int64, exactly
  }), { maxLength: 4 }),
  deletePicks: fc.array(fc.nat(), { maxLength: 3 }),
  compact: fc.boolean(),
});

test('LmdbBackend answers like MemoryBackend for the same batches, before commit and after a reopen', async (t) => {
  let batches = 0;
  await withTempDir(async (root) => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(batchPlan, { minLength: 1, maxLength: 30, size: 'max' }), fc.array(fc.nat(), { minLength: 8, maxLength: 8 }), async (plans, probes) => {
        const dir = `${root}/run-${run++}`;
        const memory = new MemoryBackend();
        let lmdb = LmdbBackend.open(dir);
        let main = 2;
        let applied = 0;
        const check = (b: MvccBackend): unknown => observe(b, probes, main);
        for (const [i, plan] of plans.entries()) {
          const existing = scanAll(memory, 0, Number.MAX_SAFE_INTEGER).map(([r]) => r);
          const subs = [...new Set(plan.puts.map((p) => p.sub))].sort((a, b) => a - b);
          const puts = subs.map((sub, n): [Rev, StoredKv] => {
            const p = plan.puts.find((q) => q.sub === sub) ?? plan.puts[n];
            if (p === undefined) throw new Error('unreachable');
            return [rev(main, sub), { key: p.key, value: new Uint8Array(p.value), createRevision: main - 1, modRevision: main, version: 1 + sub, lease: p.lease, tombstone: p.tombstone }];
          });
          const deletes = [...new Set(plan.deletePicks.map((k) => existing[k % Math.max(1, existing.length)]).filter((r) => r !== undefined))];
          if (puts.length > 0) main++;
          applied += 1 + (i % 2);
          const batch: BackendBatch = { puts, deletes, meta: { appliedIndex: applied, compactRevision: plan.compact ? main - 1 : memory.meta().compactRevision } };
          memory.write(batch);
          lmdb.write(batch);
          // Straight after the write, before LMDB has committed it: the overlay answers.
          t.deepEqual(check(lmdb), check(memory));
          if (i % 5 === 4) await lmdb.root.committed;
        }
        await lmdb.close();
        lmdb = LmdbBackend.open(dir);
        t.deepEqual(check(lmdb), check(memory));
        await lmdb.close();
        batches += plans.length;
        return true;
      }),
      { numRuns: 40 },
    );
  });
  t.log(`${batches} batches`);
  t.true(batches > 200);
});

test('the MVCC store rebuilt over a reopened LmdbBackend answers like before', async (t) => {
  await withTempDir(async (dir) => {
    let backend = LmdbBackend.open(dir);
    const store = new MvccStore(backend);
    runHistory(store, 200, false);
    const ask = (st: MvccStore): unknown => askStore(st, [0, 60, 61, 100, 150, 199, 230]);
    const before = ask(store);
    await backend.close();
    backend = LmdbBackend.open(dir);
    t.deepEqual(ask(new MvccStore(backend)), before);
    await backend.close();
  });
});

test('the log store and the backend share one environment; both survive a reopen', async (t) => {
  await withTempDir(async (dir) => {
    const root = openLmdbEnv(dir);
    const log = LmdbLogStore.onEnv(root);
    const backend = LmdbBackend.onEnv(root);
    backend.write({ puts: [[rev(2, 0), { key: 'a', value: enc('x'), createRevision: 2, modRevision: 2, version: 1, lease: 0n, tombstone: false }]], deletes: [], meta: { appliedIndex: 1, compactRevision: 0 } });
    t.deepEqual(await write(log, { entries: entries(1, 2, 1), hardState: hardState(1, 1) }), { kind: 'ok' });
    await root.close();
    const again = openLmdbEnv(dir);
    const b2 = LmdbBackend.onEnv(again);
    t.deepEqual(b2.meta(), { appliedIndex: 1, compactRevision: 0 });
    t.is(b2.get(rev(2, 0))?.key, 'a');
    t.like(LmdbLogStore.onEnv(again).recover(), { hardState: hardState(1, 1) });
    await again.close();
  });
});

test('a batch LMDB refuses throws, and the backend refuses every call after it', async (t) => {
  await withTempDir(async (dir) => {
    const failures: string[] = [];
    const backend = LmdbBackend.open(dir, { onError: (detail) => failures.push(detail) });
    await backend.close();
    const batch: BackendBatch = { puts: [], deletes: [], meta: { appliedIndex: 1, compactRevision: 0 } };
    t.throws(() => { backend.write(batch); });
    t.is(failures.length, 1);
    t.throws(() => backend.meta(), { message: /a batch failed to commit/ });
  });
});
