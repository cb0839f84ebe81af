// What the backend property tests compare between a backend and MemoryBackend (the
// reference): every record, the meta, a few gets and two scans picked by the probes.

import type { MvccBackend, StoredKv } from '../../core/mvcc/backend.js';
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
