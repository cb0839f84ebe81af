// LmdbLogStore on real LMDB in a temporary directory: round trips, truncation,
// snapshots, compaction, recovery after reopening (in this process and in another),
// acknowledgement only after commit, refusals of inconsistent state, and a property
// against the in-memory LogStore over random write/compact sequences.
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import type { LogWrite, RecoveredLog } from '../../core/node/ports.js';
import type { Entry, HardState, Snapshot } from '../../core/raft/types.js';
import { u64Key } from '../../storage/codec.js';
import { openBinaryDb, openLmdbEnv } from '../../storage/lmdbEnv.js';
import { LmdbLogStore } from '../../storage/lmdbLogStore.js';
import { MemoryLogStore } from '../../core/node/memoryLogStore.js';
import { compact, entries, entry, hardState, plain, recoverInChild, snapshot, withTempDir, write } from './util.js';

const OK = { kind: 'ok' };

/** What recover() returns for a store holding exactly this (no torn tail cut off). */
function holding(hard: HardState, snap: Snapshot | null, held: readonly Entry[]): RecoveredLog {
  return { hardState: hard, snapshot: snap, entries: [...held], truncatedTornTail: false };
}

/** Runs `body` on a store opened in a fresh directory; closes the store `body` ends with. */
async function withStore(body: (dir: string, store: LmdbLogStore) => Promise<LmdbLogStore>): Promise<void> {
  await withTempDir(async (dir) => {
    const last = await body(dir, LmdbLogStore.open(dir));
    await last.close();
  });
}

/** Closes and reopens the store, and checks that it recovers `expected` (what was durable). */
async function reopenedHolding(
  t: ExecutionContext, at: { readonly dir: string; readonly store: LmdbLogStore }, expected: RecoveredLog,
): Promise<LmdbLogStore> {
  const again = await reopened(at.dir, at.store);
  t.deepEqual(again.recover(), expected);
  return again;
}

async function reopened(dir: string, store: LmdbLogStore): Promise<LmdbLogStore> {
  await store.close();
  return LmdbLogStore.open(dir);
}

test('an empty store recovers the empty state', async (t) => {
  await withTempDir(async (dir) => {
    const store = LmdbLogStore.open(dir);
    t.deepEqual(store.recover(), holding({ term: 0, vote: 0, commit: 0 }, null, []));
    await store.close();
  });
});

test('entries, hard state and bytes round-trip through a reopen', async (t) => {
  await withTempDir(async (dir) => {
    let store = LmdbLogStore.open(dir);
    const written: Entry[] = [
      entry(1, 1, ''),
      { index: 2, term: 1, type: 'confChange', data: new Uint8Array([0, 255, 7]) },
      { index: 3, term: 2, type: 'normal', data: new Uint8Array(70_000).map((_v, i) => i % 251) },
    ];
    t.deepEqual(await write(store, { entries: written, hardState: hardState(2, 2, 3) }), OK);
    store = await reopened(dir, store);
    const recovered = store.recover();
    t.deepEqual(recovered, holding(hardState(2, 2, 3), null, written));
    if ('entries' in recovered) t.is(recovered.entries[0]?.data.constructor, Uint8Array);
    await store.close();
  });
});

test('a write at index i replaces the entries stored at i and after', async (t) => {
  await withTempDir(async (dir) => {
    let store = LmdbLogStore.open(dir);
    t.deepEqual(await write(store, { entries: entries(1, 5, 1), hardState: hardState(1, 2) }), OK);
    t.deepEqual(await write(store, { entries: entries(3, 4, 2), hardState: hardState(2, 2) }), OK);
    const want = [...entries(1, 2, 1), ...entries(3, 4, 2)];
    t.deepEqual(store.recover(), holding(hardState(2, 2), null, want));
    store = await reopenedHolding(t, { dir, store }, holding(hardState(2, 2), null, want));
    // And appending after a reopen continues at the right place.
    t.deepEqual(await write(store, { entries: entries(5, 6, 2) }), OK);
    store = await reopened(dir, store);
    const after = store.recover();
    t.deepEqual('entries' in after ? after.entries.map((e) => `${e.index}/${e.term}`) : after, ['1/1', '2/1', '3/2', '4/2', '5/2', '6/2']);
    await store.close();
  });
});

test('a received snapshot replaces the whole log', async (t) => {
  await withStore(async (dir, store) => {
    await write(store, { entries: entries(1, 5, 1), hardState: hardState(1, 3) });
    t.deepEqual(await write(store, { snapshot: snapshot(4, 1), hardState: hardState(2, 4) }), OK);
    t.deepEqual(store.recover(), holding(hardState(2, 4), snapshot(4, 1), []));
    // A snapshot ahead of the log, with entries in the same write.
    t.deepEqual(await write(store, { snapshot: snapshot(20, 3), entries: entries(21, 22, 3), hardState: hardState(3, 20) }), OK);
    return reopenedHolding(t, { dir, store }, holding(hardState(3, 20), snapshot(20, 3), entries(21, 22, 3)));
  });
});

test('compaction saves the snapshot, drops entries up to it and keeps later ones', async (t) => {
  await withStore(async (dir, store) => {
    await write(store, { entries: entries(1, 10, 1), hardState: hardState(1, 8) });
    t.deepEqual(await compact(store, snapshot(6, 1)), OK);
    t.deepEqual(store.recover(), holding(hardState(1, 8), snapshot(6, 1), entries(7, 10, 1)));
    store = await reopened(dir, store);
    t.deepEqual(await write(store, { entries: entries(11, 11, 1), hardState: hardState(1, 11) }), OK);
    t.deepEqual(await compact(store, snapshot(11, 1)), OK);
    store = await reopenedHolding(t, { dir, store }, holding(hardState(1, 11), snapshot(11, 1), []));
    t.deepEqual(await write(store, { entries: entries(12, 12, 2), hardState: hardState(2, 11) }), OK);
    return reopenedHolding(t, { dir, store }, holding(hardState(2, 11), snapshot(11, 1), entries(12, 12, 2)));
  });
});

test('done is called only once the write is committed: another process sees it from inside done', async (t) => {
  await withTempDir(async (dir) => {
    const store = LmdbLogStore.open(dir);
    await write(store, { entries: entries(1, 2, 1), hardState: hardState(1, 1) });
    const seen = await new Promise<unknown>((resolve) => {
      store.write({ hardState: hardState(2, 2), entries: entries(3, 3, 2), snapshot: null, mustSync: true }, () => {
        resolve(recoverInChild(dir));
      });
    });
    t.deepEqual(seen, plain(holding(hardState(2, 2), null, [...entries(1, 2, 1), ...entries(3, 3, 2)])));
    // A write without mustSync is acknowledged at once, in the same event turn (nothing
    // waits for its commit), and stays in order: the next synced write covers it.
    let acknowledged = false;
    store.write({ hardState: hardState(2, 3), entries: [], snapshot: null, mustSync: false }, () => { acknowledged = true; });
    await Promise.resolve();
    t.true(acknowledged, 'acknowledged in a microtask');
    await write(store, { entries: entries(4, 4, 2) });
    t.deepEqual(recoverInChild(dir), plain({
      hardState: hardState(2, 3), snapshot: null, entries: [...entries(1, 2, 1), ...entries(3, 3, 2), ...entries(4, 4, 2)], truncatedTornTail: false,
    }));
    await store.close();
  });
});

test('a gap in the stored log is refused as corrupt', async (t) => {
  await withTempDir(async (dir) => {
    const store = LmdbLogStore.open(dir);
    await write(store, { entries: entries(1, 5, 1), hardState: hardState(1, 2) });
    await store.close();
    const root = openLmdbEnv(dir);
    await openBinaryDb(root, 'raft-log').remove(u64Key(3));
    await root.close();
    const again = LmdbLogStore.open(dir);
    t.deepEqual(again.recover(), { kind: 'corrupt', detail: 'raft log: a gap, entry 4 follows 2' });
    await again.close();
  });
});

test('a hard state committing beyond the log, a garbled record, a bad first index: refused as corrupt', async (t) => {
  await withTempDir(async (dir) => {
    let store = LmdbLogStore.open(dir);
    await write(store, { entries: entries(1, 3, 1), hardState: hardState(1, 7) });
    t.deepEqual(store.recover(), { kind: 'corrupt', detail: 'hard state commits 7 but the log ends at 3' });
    await write(store, { hardState: hardState(1, 3) });
    t.false('kind' in store.recover());
    await store.close();

    const root = openLmdbEnv(dir);
    const log = openBinaryDb(root, 'raft-log');
    await log.put(u64Key(2), Buffer.from([9, 9]));
    await root.close();
    store = LmdbLogStore.open(dir);
    t.like(store.recover(), { kind: 'corrupt', detail: 'entry 2: unknown type tag 9' });
    await store.close();

    const root2 = openLmdbEnv(dir);
    const log2 = openBinaryDb(root2, 'raft-log');
    await log2.remove(u64Key(1));
    await log2.remove(u64Key(2));
    await root2.close();
    store = LmdbLogStore.open(dir);
    t.like(store.recover(), { kind: 'corrupt', detail: 'raft log: the first entry is 3, expected 1 (snapshot index 0)' });
    await store.close();
  });
});

// ------------------------------------------------------------ property

/** Abstract steps, made concrete (valid for Raft) against the model's current state. */
type Step =
  | { kind: 'write'; at: number; count: number; newTerm: boolean; snap: number; hs: boolean; commit: number; mustSync: boolean }
  | { kind: 'compact'; at: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 6, arbitrary: fc.record({
    kind: fc.constant('write' as const),
    at: fc.integer({ min: 0, max: 100 }),
    count: fc.integer({ min: 0, max: 4 }),
    newTerm: fc.boolean(),
    snap: fc.oneof({ weight: 6, arbitrary: fc.constant(-1) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 4 }) }),
    hs: fc.boolean(),
    commit: fc.integer({ min: 0, max: 100 }),
    mustSync: fc.boolean(),
  }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('compact' as const), at: fc.integer({ min: 0, max: 100 }) }) },
);

function between(lo: number, hi: number, pct: number): number {
  return lo + Math.round(((hi - lo) * pct) / 100);
}

/** The concrete request for a step, or null if the step has nothing valid to do. */
function concretize(model: MemoryLogStore, s: Step, term: number): { write: LogWrite } | { compact: Snapshot } | null {
  const base = model.snapshot?.metadata.index ?? 0;
  const last = base + model.entries.length;
  const commit = model.hardState.commit;
  if (s.kind === 'compact') {
    if (commit <= base) return null;
    const index = between(base + 1, commit, s.at);
    const termAt = model.entries.find((e) => e.index === index)?.term ?? term;
    return { compact: { metadata: { index, term: termAt, confState: { voters: [1], learners: [] } }, data: new Uint8Array([index & 0xff]) } };
  }
  // A received snapshot lies at or beyond the commit index; the log then restarts after it.
  const snap: Snapshot | null = s.snap < 0 ? null
    : { metadata: { index: Math.max(commit, last - 2) + s.snap, term, confState: { voters: [1, 2], learners: [] } }, data: new Uint8Array([s.snap]) };
  const after = snap === null ? last : snap.metadata.index;
  // Raft never truncates committed entries.
  const from = snap === null ? between(Math.max(commit + 1, base + 1), after + 1, s.at) : after + 1;
  const written: Entry[] = [];
  for (let i = 0; i < s.count; i++) written.push({ index: from + i, term, type: i % 3 === 2 ? 'confChange' : 'normal', data: new Uint8Array([from + i, term]) });
  const newLast = written.length > 0 ? from + written.length - 1 : Math.min(after, snap === null ? last : after);
  const floor = snap?.metadata.index ?? commit;
  // Entries of a newer term imply a hard state of that term (a member votes or follows first).
  const needHs = s.hs || snap !== null || (written.length > 0 && term > model.hardState.term);
  const hs: HardState | null = needHs ? { term, vote: term % 3, commit: between(Math.min(floor, newLast), newLast, s.commit) } : null;
  // Without a new hard state, entries must not end below the current commit.
  if (hs === null && written.length > 0 && newLast < commit) return null;
  return { write: { hardState: hs, entries: written, snapshot: snap, mustSync: s.mustSync || snap !== null || written.length > 0 } };
}

test('LmdbLogStore agrees with the in-memory LogStore over random write/compact sequences, across a reopen', async (t) => {
  let steps = 0;
  await withTempDir(async (root) => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 40, size: 'max' }), async (plan) => {
        const dir = `${root}/run-${run++}`;
        const model = new MemoryLogStore();
        let store = LmdbLogStore.open(dir);
        let term = 1;
        for (const [i, s] of plan.entries()) {
          if (s.kind === 'write' && s.newTerm) term++;
          const request = concretize(model, s, term);
          if (request === null) continue;
          steps++;
          if ('write' in request) {
            model.write(request.write, () => undefined);
            if ((await write(store, request.write)).kind !== 'ok') return false;
          } else {
            model.compact(request.compact, () => undefined);
            if ((await compact(store, request.compact)).kind !== 'ok') return false;
          }
          if (i % 7 === 6) store = await reopened(dir, store);
        }
        const live = plain(store.recover());
        store = await reopened(dir, store);
        const after = plain(store.recover());
        await store.close();
        const want = plain(model.recover());
        t.deepEqual(live, want);
        t.deepEqual(after, want);
        // Now and then, from another process too (a process-level open of the same directory).
        if (run % 10 === 1) t.deepEqual(recoverInChild(dir), want);
        return true;
      }),
      { numRuns: 30 },
    );
  });
  t.log(`${steps} writes and compactions`);
  // About 20 valid steps per run on average; far fewer means the generator went slack.
  t.true(steps > 250);
});

test('a write that LMDB refuses completes with an ioError, and the store refuses writes after it', async (t) => {
  await withTempDir(async (dir) => {
    const store = LmdbLogStore.open(dir);
    await store.close();
    const first = await write(store, { entries: entries(1, 1, 1), hardState: hardState(1, 0) });
    t.like(first, { kind: 'ioError' });
    t.like(await compact(store, snapshot(1, 1)), { kind: 'ioError', detail: `an earlier write failed: ${'detail' in first ? first.detail : ''}` });
  });
});
