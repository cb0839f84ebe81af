// Stale (serializable) gets: served from the member's own applied state, so they may
// lag — but never lie. Two sound rules, etcd's guarantees for serializable reads:
//
//   state      a read whose header says revision R returns exactly the committed state
//              at R (the member's store is the committed log applied up to R);
//   monotonic  a client that stays on one member (one server incarnation) never sees
//              that member's revision go back: its store only moves forward.
//
// The committed state comes from the same ground truth as the watch verdict
// (watchTruth.ts): every revision any member applied, in the model's numbering.

import type { StoreEvent } from '../jepsen-like/etcd/store.js';
import type { Json, KeyValue } from '../jepsen-like/etcd/types.js';
import { responseMatches } from '../jepsen-like/etcd/types.js';

/** One answered serializable get of a single key, in the model's revisions. */
export interface StaleRead {
  readonly process: number;
  readonly member: number;
  readonly call: number;
  readonly key: string;
  /** The header revision the member reported. */
  readonly revision: number;
  /** The recorded `{ kvs, count, more }`. */
  readonly response: Json;
}

/** Each key's changes in revision order. */
function byKey(truth: readonly StoreEvent[]): Map<string, StoreEvent[]> {
  const keys = new Map<string, StoreEvent[]>();
  for (const event of truth) {
    const list = keys.get(event.kv.key);
    if (list === undefined) keys.set(event.kv.key, [event]);
    else list.push(event);
  }
  return keys;
}

/** The key's value at revision r: the last change at or before r (binary search). */
function stateAt(changes: readonly StoreEvent[] | undefined, revision: number): KeyValue | null {
  if (changes === undefined) return null;
  let lo = 0;
  let hi = changes.length; // first index with revision > r
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((changes[mid]?.revision ?? 0) <= revision) lo = mid + 1;
    else hi = mid;
  }
  const last = changes[lo - 1];
  return last === undefined || last.type === 'delete' ? null : last.kv;
}

/** Violations of the state rule, one message each (the first few are enough to act on). */
export function checkStaleReads(truth: readonly StoreEvent[], reads: readonly StaleRead[]): string[] {
  const keys = byKey(truth);
  const problems: string[] = [];
  for (const read of reads) {
    const kv = stateAt(keys.get(read.key), read.revision);
    const expected: Json = { kvs: kv === null ? [] : [{ ...kv }], count: kv === null ? 0 : 1, more: false };
    if (!responseMatches(expected, read.response)) {
      problems.push(`process ${read.process} on member ${read.member} at ${read.call} µs: serializable get of ${read.key} ` +
        `at revision ${read.revision} returned ${JSON.stringify(read.response)}, the committed state is ${JSON.stringify(expected)}`);
    }
  }
  return problems;
}
