// What the backend property tests compare between a backend and MemoryBackend (the
// reference): every record, the meta, a few gets and two scans picked by the probes.

import type { MvccBackend, StoredKv } from '../../core/mvcc/backend.js';
import type { MvccStore } from '../../core/mvcc/store.js';
import { rev, type Rev } from '../../core/mvcc/revision.js';

export function scanAll(b: MvccBackend, from: Rev, to: Rev, limit = Infinity): [Rev, StoredKv][] {
  const out: [Rev, StoredKv][] = [];
  b.scan(from, to, (r, kv) => {
    out.push([r, kv]);
    return out.length < limit;
  });
  return out;
}

/** A backend's answers: all records and the meta, gets of stored, absent and future revisions, a window and a limited scan. */
export function observe(b: MvccBackend, probes: readonly number[], main: number): unknown {
  const probe = (i: number): number => probes[i % probes.length] ?? 0;
  const all = scanAll(b, 0, Number.MAX_SAFE_INTEGER);
  const revs = all.map(([r]) => r);
  const pick = (i: number): Rev => revs.length === 0 ? 0 : (revs[probe(i) % revs.length] ?? 0);
  return {
    all,
    meta: b.meta(),
    gets: [pick(0), pick(1), pick(1) + 1, rev(main + 5, 0)].map((r) => b.get(r) ?? null),
    window: scanAll(b, pick(2), pick(3) + 1),
    limited: scanAll(b, pick(4), Number.MAX_SAFE_INTEGER, 1 + (probe(5) % 3)),
  };
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

/** A store history: puts (values `long`: up to 40 times longer), a delete every 11th step, a txn every 13th, a compaction at 60 after step 120. */
export function runHistory(store: MvccStore, steps: number, long: boolean): void {
  let applied = 0;
  for (let i = 0; i < steps; i++) {
    const key = enc(`k${i % 17}`);
    if (i % 11 === 10) store.deleteRange({ key: enc('k1'), rangeEnd: enc('k2') }, ++applied);
    else if (i % 13 === 12) store.txn({ compare: [], success: [{ put: { key, value: enc(`t${i}`) } }, { put: { key: enc('z'), value: enc(`${i}`) } }], failure: [] }, ++applied);
    else store.put({ key, value: enc(long ? `v${i}`.repeat(1 + (i % 40)) : `v${i}`), lease: 0n }, ++applied);
    if (i === 120) store.compact({ revision: 60 }, ++applied);
  }
}

/** What a store answers: revisions, the applied index, every key at `revisions`, one key now. */
export function askStore(s: MvccStore, revisions: readonly number[]): unknown {
  return {
    current: s.currentRevision(),
    compacted: s.compactRevision(),
    applied: s.appliedIndex(),
    reads: revisions.map((revision) => s.range({ key: enc('\0'), rangeEnd: enc('\0'), revision })),
    one: s.range({ key: enc('k3') }),
  };
}
