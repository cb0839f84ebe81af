// Rule (c)'s order inside a bucket. Within a bucket, reads go before
// compactions and lease grants (a read that succeeded at an old revision came
// before the compaction), which is sound only if no such op returned before a
// read of its bucket was invoked; otherwise the search must settle it.

import type { Slot } from '../gap-search.js';
import type { EtcdRequest } from '../types.js';
import type { EtcdOp, Placed } from './placed.js';
import { isStirring } from './placed.js';

/** Could this read's answer depend on a compaction to `revision`? */
export function compactionSensitive(request: EtcdRequest, revision: number): boolean {
  const ranges = request.type === 'txn' ? [...request.success, ...request.failure] : [request];
  return ranges.some((r) => r.type === 'range' && (r.revision ?? 0) > 0 && (r.revision ?? 0) < revision);
}

/** An op of a stirred bucket, invoked after a compaction of that bucket returned, whose answer the compaction may change. */
export function readAfterCompaction(placed: readonly Placed[], stirredBuckets: ReadonlySet<number>): { late: EtcdOp; compaction: EtcdOp } | undefined {
  const stirredOps = new Map<number, Placed[]>();
  for (const p of placed) {
    if ((p.key & 1) === 0 || !stirredBuckets.has(p.key >> 1)) continue;
    const list = stirredOps.get(p.key >> 1);
    if (list === undefined) stirredOps.set(p.key >> 1, [p]);
    else list.push(p);
  }
  for (const inBucket of stirredOps.values()) {
    for (const c of inBucket) {
      if (c.op.input.type !== 'compact' || !isStirring(c.op)) continue;
      const compactTo = c.op.input.revision;
      // (Error responses were placed around the compactions already.)
      const late = inBucket.find(
        (p) => !isStirring(p.op) && p.op.output?.['error'] === undefined && p.op.call > c.op.ret && compactionSensitive(p.op.input, compactTo),
      );
      if (late !== undefined) return { late: late.op, compaction: c.op };
    }
  }
  return undefined;
}

/**
 * The replay order: by key, then inside a bucket reads, then the ops that stir
 * it, then errors placed late; successful compactions of one bucket in
 * increasing order; then by call.
 */
export function replayOrder(a: Placed, b: Placed): number {
  return a.key - b.key || phase(a) - phase(b) || compactTo(a) - compactTo(b) || a.op.call - b.op.call;
}

const phase = (p: Placed): number => (p.late === true ? 2 : isStirring(p.op) ? 1 : 0);
const compactTo = (p: Placed): number => (p.op.input.type === 'compact' ? p.op.input.revision : 0);

/**
 * A wrong answer proves the fillers wrong only where nothing else was guessed:
 * not in a bucket whose order among compactions and lease changes is a guess,
 * not at an error placed in its window, and not where a lease that an unknown
 * grant or revoke may have changed (without a revision) matters.
 */
export function certainSlots(history: readonly EtcdOp[], stirredBuckets: ReadonlySet<number>): (slot: Slot) => boolean {
  const unsureLeases = new Set(history.flatMap((op) => (op.outcome === 'unknown' && (op.input.type === 'leaseGrant' || op.input.type === 'leaseRevoke') ? [op.input.id] : [])));
  return (slot) => !stirredBuckets.has(slot.key >> 1) && slot.op.output?.['error'] === undefined && !leasesOf(slot.op.input).some((id) => unsureLeases.has(id));
}

/** The leases a request names. */
export function leasesOf(request: EtcdRequest): number[] {
  switch (request.type) {
    case 'put':
      return (request.lease ?? 0) === 0 ? [] : [request.lease ?? 0];
    case 'txn':
      return [...request.success, ...request.failure].flatMap((op) => (op.type === 'put' && (op.lease ?? 0) !== 0 ? [op.lease ?? 0] : []));
    case 'leaseGrant':
    case 'leaseRevoke':
      return [request.id];
    default:
      return [];
  }
}
