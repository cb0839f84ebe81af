// BboltBackend (the MVCC port on a bbolt file laid out as etcd's backend) against
// MemoryBackend (the reference): the same batches give the same get/scan/meta before a
// commit (the overlay), after commits (automatic at maxPending, and the host's), after a
// replaceAll and after a reopen; the MVCC store rebuilt over the reopened file answers
// as before; a commit landing in the background is read meanwhile and is whole or absent
// in the file; and Go's bbolt reads the file as etcd's key and meta buckets.
import test from 'ava';
import fc from 'fast-check';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendBatch, MvccBackend, StoredKv } from '../../core/mvcc/backend.js';
import { MemoryBackend } from '../../core/mvcc/backend.js';
import { rev, type Rev } from '../../core/mvcc/revision.js';
import { askStore, observe, runHistory, scanAll } from './backendCheck.js';
import { MvccStore } from '../../core/mvcc/store.js';
import { marshalKeyValue, revBytes } from '../../net/snapshot/records.js';
import { BboltBackend } from '../../storage/bboltBackend.js';
import { inTempDir, withTempDir } from './util.js';
import { boltcheckUnavailable, goRead } from './boltcheck.js';



interface BatchPlan {
  readonly puts: readonly { sub: number; key: string; value: number[]; tombstone: boolean; lease: bigint }[];
  readonly deletePicks: readonly number[];
  readonly compact: boolean;
  /** After this batch: 0 nothing, 1 the host commits, 2 a replaceAll with the reference's dump. */
  readonly then: number;
}

const batchPlan: fc.Arbitrary<BatchPlan> = fc.record({
  puts: fc.array(fc.record({
    sub: fc.integer({ min: 0, max: 3 }),
    key: fc.string({ unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)), minLength: 1, maxLength: 6 }),
    value: fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 8 }),
    tombstone: fc.boolean(),
    lease: fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  }), { maxLength: 4 }),
  deletePicks: fc.array(fc.nat(), { maxLength: 3 }),
  compact: fc.boolean(),
  then: fc.constantFrom(0, 0, 0, 1, 1, 2),
});

/** A record as the store writes it: a tombstone carries its key and revision only. */
function record(main: number, sub: number, p: BatchPlan['puts'][number]): StoredKv {
  if (p.tombstone) return { key: p.key, value: new Uint8Array(0), createRevision: 0, modRevision: main, version: 0, lease: 0n, tombstone: true };
  return { key: p.key, value: new Uint8Array(p.value), createRevision: main - 1, modRevision: main, version: 1 + sub, lease: p.lease, tombstone: false };
}

test('BboltBackend answers like MemoryBackend for the same batches: before a commit, after commits and a replaceAll, after a reopen', (t) => {
  let batches = 0;
  inTempDir((root) => {
    let run = 0;
    fc.assert(
      fc.property(fc.array(batchPlan, { minLength: 1, maxLength: 30, size: 'max' }), fc.array(fc.nat(), { minLength: 8, maxLength: 8 }), fc.integer({ min: 1, max: 12 }), (plans, probes, maxPending) => {
        const file = join(root, `run-${run++}.db`);
        let memory = new MemoryBackend();
        let backend = BboltBackend.open(file, { maxPending });
        let main = 2;
        let applied = 0;
        const check = (b: MvccBackend): unknown => observe(b, probes, main);
        try {
          for (const [i, plan] of plans.entries()) {
            const existing = scanAll(memory, 0, Number.MAX_SAFE_INTEGER).map(([r]) => r);
            const subs = [...new Set(plan.puts.map((p) => p.sub))].sort((a, b) => a - b);
            const puts = subs.map((sub): [Rev, StoredKv] => {
              const p = plan.puts.find((q) => q.sub === sub);
              if (p === undefined) throw new Error('unreachable');
              return [rev(main, sub), record(main, sub, p)];
            });
            const deletes = [...new Set(plan.deletePicks.map((k) => existing[k % Math.max(1, existing.length)]).filter((r) => r !== undefined))];
            if (puts.length > 0) main++;
            applied += 1 + (i % 2);
            const batch: BackendBatch = { puts, deletes, meta: { appliedIndex: applied, compactRevision: plan.compact ? main - 1 : memory.meta().compactRevision } };
            memory.write(batch);
            backend.write(batch);
            t.deepEqual(check(backend), check(memory));
            if (plan.then === 1) backend.commit();
            if (plan.then === 2) {
              const dump = memory.dump();
              memory = new MemoryBackend();
              memory.replaceAll(dump);
              backend.replaceAll(dump);
            }
            t.true(backend.pendingCount < maxPending, 'the overlay commits at maxPending');
            t.deepEqual(check(backend), check(memory));
          }
        } finally {
          backend.close();
        }
        backend = BboltBackend.open(file, { maxPending });
        try {
          t.deepEqual(check(backend), check(memory));
          t.deepEqual(backend.durableMeta, memory.meta());
        } finally {
          backend.close();
        }
        batches += plans.length;
        return true;
      }),
      { numRuns: 40 },
    );
  });
  t.log(`${batches} batches`);
  t.true(batches > 200);
});

test('the MVCC store rebuilt over a reopened BboltBackend answers like before; what was not committed is not there', (t) => {
  inTempDir((dir) => {
    const file = join(dir, 'db');
    let backend = BboltBackend.open(file);
    const store = new MvccStore(backend);
    runHistory(store, 300, true);
    const ask = (s: MvccStore): unknown => askStore(s, [0, 60, 61, 100, 150, 199, 280]);
    const before = ask(store);
    t.is(backend.durableMeta.appliedIndex, 0, 'nothing reached the file before a commit (fewer than maxPending records)');
    backend.close();
    backend = BboltBackend.open(file);
    try {
      t.deepEqual(ask(new MvccStore(backend)), before);
    } finally {
      backend.close();
    }
  });
});

test('a commit lands in the background: its records are read meanwhile, and the file holds it whole or not at all', async (t) => {
  await withTempDir(async (dir) => {
    const file = join(dir, 'db');
    let landed = 0;
    let backend = BboltBackend.open(file, { onCommit: () => { landed++; } });
    const store = new MvccStore(backend);
    runHistory(store, 120, true);
    const ask = (s: MvccStore): unknown => askStore(s, [0, 30, 61, 100, 119]);
    const before = ask(store);
    backend.commit();
    // Its pages are written, its syncs and meta page not yet: a crash now leaves the last commit.
    copyFileSync(file, join(dir, 'crashed.db'));
    t.true(backend.pendingCount === 0 && landed === 0);
    t.is(backend.durableMeta.appliedIndex, 0, 'not durable before it lands');
    t.deepEqual(ask(store), before, 'the landing records are read from the backend meanwhile');
    backend.commit(); // another commit waits for this one
    while (landed === 0) await new Promise((resolve) => setImmediate(resolve));
    t.is(backend.durableMeta.appliedIndex, store.appliedIndex());
    t.deepEqual(ask(store), before);
    backend.close();
    const crashed = BboltBackend.open(join(dir, 'crashed.db'));
    try {
      t.is(crashed.durableMeta.appliedIndex, 0);
      t.deepEqual(scanAll(crashed, 0, Number.MAX_SAFE_INTEGER), []);
    } finally {
      crashed.close();
    }
    backend = BboltBackend.open(file);
    try {
      t.deepEqual(ask(new MvccStore(backend)), before);
    } finally {
      backend.close();
    }
  });
});

test('closing while a commit lands finishes it first, and what waited behind it', (t) => {
  inTempDir((dir) => {
    const file = join(dir, 'db');
    let backend = BboltBackend.open(file);
    const store = new MvccStore(backend);
    runHistory(store, 80, true);
    backend.commit();
    const next = store.appliedIndex();
    for (let i = 1; i <= 40; i++) store.put({ key: new TextEncoder().encode(`late${i % 7}`), value: new TextEncoder().encode(`v${i}`), lease: 0n }, next + i); // gathers behind the landing commit
    const after = askStore(store, [0, 50, 79, 100, 119]);
    backend.close();
    backend = BboltBackend.open(file);
    try {
      t.is(backend.durableMeta.appliedIndex, store.appliedIndex());
      t.deepEqual(askStore(new MvccStore(backend), [0, 50, 79, 100, 119]), after);
      t.true(store.appliedIndex() === next + 40);
    } finally {
      backend.close();
    }
  });
});

const unavailable = boltcheckUnavailable();
if (unavailable === null) {
  test('Go\'s bbolt reads the file as etcd 3.4\'s backend: key holds revision → mvccpb.KeyValue, meta holds consistent_index and the compaction', (t) => {
    inTempDir((dir) => {
      const file = join(dir, 'db');
      const backend = BboltBackend.open(file);
      const store = new MvccStore(backend);
      runHistory(store, 300, true);
      const records = scanAll(backend, 0, Number.MAX_SAFE_INTEGER);
      const applied = store.appliedIndex();
      backend.close();
      const buckets = goRead(file);
      t.deepEqual([...buckets.keys()], [Buffer.from('key').toString('hex'), Buffer.from('meta').toString('hex')]);
      t.deepEqual(buckets.get(Buffer.from('key').toString('hex')),
        records.map(([r, kv]) => [Buffer.from(revBytes(r, kv.tombstone)).toString('hex'), Buffer.from(marshalKeyValue(kv)).toString('hex')]));
      const meta = new Map(buckets.get(Buffer.from('meta').toString('hex')) ?? []);
      t.is(meta.get(Buffer.from('consistent_index').toString('hex')), applied.toString(16).padStart(16, '0'));
      t.is(meta.get(Buffer.from('finishedCompactRev').toString('hex')), `${(60).toString(16).padStart(16, '0')}5f0000000000000000`);
    });
  });
} else {
  test('Go\'s bbolt reads BboltBackend\'s file (skipped: no Go toolchain)', (t) => { t.log(unavailable); t.pass(); });
}
