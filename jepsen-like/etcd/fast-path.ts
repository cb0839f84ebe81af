// The revision-directed fast path for etcd histories (checkers.md §6, lesson 1).
//
// Every ok mutation names its own revision, which fixes its place in any legal
// linearization; every other ok op carries the revision it observed, which puts
// it in the bucket between that mutation and the next, where read-only ops
// commute. So for determinate histories linearizability reduces to:
//   (a) the mutations' revisions are unique and dense (initial + 1 .. max),
//   (b) real time agrees: A returned before B was invoked => key(A) <= key(B),
//       with key = 2r for the mutation at r and 2r+1 for an op in bucket r,
//   (c) replaying the mutations in revision order through the model reproduces
//       every response.
// That is O(n log n). A revision no ok op claims (a gap) was made by an op with
// an unknown outcome: gap-search.ts finds which, walking the gaps in revision
// order with facts from the responses (observations.ts) to refuse wrong
// fillers early; unknown ops that fill no gap are left out (they can linearize
// after everything). Whatever this cannot decide soundly comes back
// "inconclusive" for the WGL search to settle.
//
// Revisions start at the empty store's (etcd's 1, so its first write makes 2;
// FastPathOptions.initialRevision for histories counted otherwise).

import type { Operation } from '../history.js';
import type { Slot } from './gap-search.js';
import { searchGapFillers } from './gap-search.js';
import { countBelow } from './sorted.js';
import { Observations } from './observations.js';
import { ETCD_INITIAL_REVISION, ModelStore } from './store.js';
import type { EtcdRequest, EtcdResponse, Json } from './types.js';
import { responseMatches } from './types.js';

type EtcdOp = Operation<EtcdRequest, EtcdResponse>;

export type FastPathResult =
  /** The store after replaying the linearization, with its event log. */
  | { readonly verdict: 'ok'; readonly store: ModelStore }
  | { readonly verdict: 'illegal'; readonly reason: string; readonly ops: readonly number[]; readonly prefix: readonly number[] }
  | { readonly verdict: 'inconclusive'; readonly reason: string };

interface Placed {
  readonly op: EtcdOp;
  /** 2r for the mutation at revision r, 2r+1 for an op in bucket r. */
  readonly key: number;
  /** An error response placed late in its bucket: after compactions and lease grants. */
  readonly late?: boolean;
}

/**
 * Which end of its real-time window an error response (which carries no
 * revision) is best placed at. The conditions behind the errors are monotone
 * along the linearization: the revision and the compact revision only grow, and
 * a lease exists only after its grant (lease revokes go to the search). So if
 * the best end does not explain the error, no point does.
 */
function errorSide(error: Json): 'early' | 'late' | undefined {
  if (error === 'futureRev' || error === 'leaseNotFound') return 'early';
  if (error === 'compacted' || error === 'leaseExists') return 'late';
  return undefined;
}

const inconclusive = (reason: string): FastPathResult => ({ verdict: 'inconclusive', reason });

export interface FastPathBudget {
  /** Absolute time in the units of now() after which the search stops (inconclusive). */
  readonly deadline: number;
  readonly now: () => number;
}

export interface FastPathOptions {
  readonly budget?: FastPathBudget;
  /** The revision of the empty store: etcd's 1 unless the history says otherwise. */
  readonly initialRevision?: number;
}

export function revisionDirectedCheck(history: readonly EtcdOp[], options: FastPathOptions = {}): FastPathResult {
  const { budget } = options;
  const initialRevision = options.initialRevision ?? ETCD_INITIAL_REVISION;
  const mutationAt = new Map<number, EtcdOp>();
  const placed: Placed[] = [];
  /** Buckets holding ops that change state without a revision (compact, lease grant). */
  const stirredBuckets = new Set<number>();
  let maxRevision = initialRevision;
  const floating: { op: EtcdOp; side: 'early' | 'late' }[] = [];
  const revokes: { op: EtcdOp; revision: number }[] = [];

  for (const op of history) {
    if (op.outcome !== 'ok' || op.output === undefined) continue;
    const response = op.output;
    const error = response['error'];
    if (error !== undefined) {
      const side = errorSide(error);
      if (side === undefined) return inconclusive(`line ${op.line}: unknown error ${JSON.stringify(error)}`);
      floating.push({ op, side });
      continue;
    }
    const revision = response['revision'];
    if (typeof revision !== 'number') return inconclusive(`line ${op.line}: the response records no revision`);
    if (revision < initialRevision) {
      return { verdict: 'illegal', reason: `line ${op.line}: revision ${revision} is below the empty store's ${initialRevision}`, ops: [op.id], prefix: [] };
    }
    maxRevision = Math.max(maxRevision, revision);
    if (op.input.type === 'leaseRevoke') {
      revokes.push({ op, revision });
      continue;
    }
    const mutates = isMutation(op.input, response);
    if (mutates === undefined) return inconclusive(`line ${op.line}: cannot tell from the response whether it wrote`);
    if (mutates) {
      const other = mutationAt.get(revision);
      if (other !== undefined) {
        return {
          verdict: 'illegal',
          reason: `lines ${other.line} and ${op.line}: two writes claim revision ${revision}`,
          ops: [other.id, op.id],
          prefix: [],
        };
      }
      if (revision === initialRevision) {
        return { verdict: 'illegal', reason: `line ${op.line}: a write claims the empty store's revision ${revision}`, ops: [op.id], prefix: [] };
      }
      mutationAt.set(revision, op);
      placed.push({ op, key: 2 * revision });
    } else {
      if (op.input.type === 'compact' || op.input.type === 'leaseGrant') stirredBuckets.add(revision);
      placed.push({ op, key: 2 * revision + 1 });
    }
  }

  // A lease revoke writes iff the lease had keys, which its response does not
  // say. It sits in the bucket of its revision; if no other ok op claims that
  // revision, the gap search also tries it as the revision's writer.
  const revokesAt = new Map<number, EtcdOp[]>();
  for (const { op, revision } of revokes) {
    stirredBuckets.add(revision);
    placed.push({ op, key: 2 * revision + 1 });
    if (mutationAt.has(revision) || revision === initialRevision) continue;
    const list = revokesAt.get(revision);
    if (list === undefined) revokesAt.set(revision, [op]);
    else list.push(op);
  }

  // (a) Dense revisions: each revision no ok op claims (a gap) needs an unknown write.
  const unknownWriters = history.filter((op) => op.outcome === 'unknown' && !ModelStore.isReadOnly(op.input)).sort((a, b) => a.call - b.call);
  const gaps: number[] = [];
  for (let r = initialRevision + 1; r <= maxRevision; r++) if (!mutationAt.has(r)) gaps.push(r);
  if (gaps.length > 0 && unknownWriters.length === 0 && revokesAt.size === 0) {
    const gap = gaps[0] ?? 0;
    const next = mutationAt.get(gap + 1) ?? [...mutationAt.values()][0];
    return {
      verdict: 'illegal',
      reason: `revision ${gap} was written by no operation (and none had an unknown outcome)`,
      ops: next === undefined ? [] : [next.id],
      prefix: [],
    };
  }

  // Error responses go to the best end of their real-time window: after every
  // op that returned before they were invoked, before every op invoked after
  // they returned. An empty window shows up in the sweep below.
  if (floating.length > 0) {
    const unplaceable = placeFloating(placed, floating, initialRevision, maxRevision);
    if (unplaceable !== undefined) return inconclusive(unplaceable);
  }

  // (b) Real time against revision order, in one sweep over calls and returns.
  const violation = realTimeViolation(placed);
  if (violation !== undefined) {
    const [before, after] = violation;
    return {
      verdict: 'illegal',
      reason:
        `line ${before.op.line} returned before line ${after.op.line} was invoked, ` +
        `but sits at ${describeKey(before.key)}, after ${describeKey(after.key)}`,
      ops: [before.op.id, after.op.id],
      prefix: [],
    };
  }

  // (c) Replay in revision order. Within a bucket, reads go before compactions
  // and lease grants (a read that succeeded at an old revision came before the
  // compaction), which is sound only if no such op returned before a read of
  // its bucket was invoked; otherwise leave it to the search.
  const stirs = (p: Placed): number => (isStirring(p.op) ? 1 : 0);
  /** Could this read's answer depend on a compaction to `revision`? */
  const compactionSensitive = (request: EtcdRequest, revision: number): boolean => {
    const ranges = request.type === 'txn' ? [...request.success, ...request.failure] : [request];
    return ranges.some((r) => r.type === 'range' && (r.revision ?? 0) > 0 && (r.revision ?? 0) < revision);
  };
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
        (p) => stirs(p) === 0 && p.op.output?.['error'] === undefined && p.op.call > c.op.ret && compactionSensitive(p.op.input, compactTo),
      );
      if (late !== undefined) {
        return inconclusive(`line ${late.op.line}: began after the compaction on line ${c.op.line} returned`);
      }
    }
  }
  // Successful compactions of one bucket must have gone in increasing order.
  const compactTo = (p: Placed): number => (p.op.input.type === 'compact' ? p.op.input.revision : 0);
  const phase = (p: Placed): number => (p.late === true ? 2 : stirs(p));
  const order = (a: Placed, b: Placed): number => a.key - b.key || phase(a) - phase(b) || compactTo(a) - compactTo(b) || a.op.call - b.op.call;
  placed.sort(order);

  // The latest key among ops returned before a time: an unknown op invoked then
  // can only go at a revision at or after it.
  const byReturn = placed.filter((p) => Number.isFinite(p.op.ret)).sort((a, b) => a.op.ret - b.op.ret);
  const returnedMax: number[] = [];
  let running = -Infinity;
  for (const p of byReturn) returnedMax.push((running = Math.max(running, p.key)));
  const fits = (op: EtcdOp, gap: number): boolean => {
    const n = countBelow(byReturn, (p) => p.op.ret < op.call);
    return n === 0 || (returnedMax[n - 1] ?? -Infinity) <= 2 * gap;
  };

  // A wrong answer proves the fillers wrong only where nothing else was guessed:
  // not in a bucket whose order among compactions and lease changes is a guess,
  // not at an error placed in its window, and not where a lease that an unknown
  // grant or revoke may have changed (without a revision) matters.
  const unsureLeases = new Set(history.flatMap((op) => (op.outcome === 'unknown' && (op.input.type === 'leaseGrant' || op.input.type === 'leaseRevoke') ? [op.input.id] : [])));
  const certain = (slot: Slot): boolean =>
    !stirredBuckets.has(slot.key >> 1) && slot.op.output?.['error'] === undefined && !leasesOf(slot.op.input).some((id) => unsureLeases.has(id));

  const found = searchGapFillers({
    slots: placed,
    gaps,
    unknownWriters,
    optionalWriters: revokesAt,
    fits,
    certain,
    observations: new Observations(history),
    initialRevision,
    expired: () => budget !== undefined && budget.now() >= budget.deadline,
  });
  switch (found.kind) {
    case 'inconclusive':
      return inconclusive(found.reason);
    case 'illegal':
      return { verdict: 'illegal', reason: found.reason, ops: found.ops, prefix: found.prefix };
    case 'ok':
      break;
  }
  if (found.store !== undefined) return { verdict: 'ok', store: found.store };
  // The search branched: one last replay with the fillers in place records the store's event log (the watch validator's ground truth).
  const filling = new Set(found.fillers.values());
  const all = [...placed.filter((p) => !filling.has(p.op)), ...[...found.fillers].map(([gap, op]) => ({ op, key: 2 * gap }))].sort(order);
  const store = new ModelStore({ recordEvents: true, initialRevision });
  for (const { op, key } of all) {
    const response = store.apply(op.input);
    const agrees = (op.output === undefined || responseMatches(response, op.output)) && ((key & 1) === 1 || store.revision === key / 2);
    if (!agrees) return inconclusive(`internal: line ${op.line} disagrees on the final replay`);
  }
  return { verdict: 'ok', store };
}

/** The leases a request names. */
function leasesOf(request: EtcdRequest): number[] {
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

/**
 * Places the error responses. A position is idx = 2r + phase: bucket r, before
 * (phase 0) or after (phase 1) the bucket's compactions and lease grants. Each
 * error holds on a prefix or a suffix of positions (revision and compact
 * revision only grow; a lease exists from its grant on), so with the window
 * real time allows, each op gets an interval; errors ordered by real time among
 * themselves take the least positions satisfying their bounds (the least
 * solution exists iff any does). Returns a reason when none exists.
 */
function placeFloating(
  placed: Placed[],
  floating: readonly { op: EtcdOp; side: 'early' | 'late' }[],
  initialRevision: number,
  maxRevision: number,
): string | undefined {
  // With revokes, a lease's existence is no longer monotone along the linearization.
  const revoked = placed.some((p) => p.op.input.type === 'leaseRevoke');
  // Only the state changes an error depends on split a bucket: compactions for
  // revision errors, lease grants and revokes for lease errors. A position is
  // then bounded by what real time forces, one pair of sweeps per kind.
  type Kind = 'compaction' | 'lease';
  const kindOf = (op: EtcdOp): Kind => (op.output?.['error'] === 'leaseNotFound' || op.output?.['error'] === 'leaseExists' ? 'lease' : 'compaction');
  const stirsFor = (p: Placed, kind: Kind): boolean =>
    isStirring(p.op) && (kind === 'compaction' ? p.op.input.type === 'compact' : p.op.input.type !== 'compact');
  /** The least position an op may take if `p` returned before it was invoked. */
  const after = (p: Placed, kind: Kind): number => ((p.key & 1) === 0 ? p.key : stirsFor(p, kind) ? p.key : p.key - 1);
  /** The greatest position an op may take if `p` was invoked after it returned. */
  const before = (p: Placed, kind: Kind): number => ((p.key & 1) === 0 ? p.key - 1 : stirsFor(p, kind) ? p.key - 1 : p.key);
  const byReturn = placed.filter((p) => Number.isFinite(p.op.ret)).sort((a, b) => a.op.ret - b.op.ret);
  const byCall = [...placed].sort((a, b) => a.op.call - b.op.call);
  const bounds = (kind: Kind): { lowerBound: number[]; upperBound: number[] } => {
    const lowerBound: number[] = [];
    let best = 0;
    for (const p of byReturn) lowerBound.push((best = Math.max(best, after(p, kind))));
    const upperBound: number[] = new Array<number>(byCall.length);
    let least = 2 * maxRevision + 1;
    for (let i = byCall.length - 1; i >= 0; i--) {
      const p = byCall[i];
      if (p !== undefined) least = Math.min(least, before(p, kind));
      upperBound[i] = least;
    }
    return { lowerBound, upperBound };
  };
  const computed = new Map<Kind, { lowerBound: number[]; upperBound: number[] }>();
  const boundsOf = (kind: Kind): { lowerBound: number[]; upperBound: number[] } => {
    const known = computed.get(kind);
    if (known !== undefined) return known;
    const fresh = bounds(kind);
    computed.set(kind, fresh);
    return fresh;
  };

  // The store's compact revision and leases as functions of the position.
  const compactions: { idx: number; to: number }[] = [];
  const grants = new Map<number, number>();
  for (const p of placed) {
    if (!isStirring(p.op)) continue;
    if (p.op.input.type === 'compact') compactions.push({ idx: p.key, to: p.op.input.revision });
    if (p.op.input.type === 'leaseGrant') grants.set(p.op.input.id, Math.min(p.key, grants.get(p.op.input.id) ?? Infinity));
  }
  compactions.sort((a, b) => a.idx - b.idx);
  // Successful compactions go in increasing order (one bucket may hold several), so the value is the running maximum.
  const compactMax: number[] = [];
  for (const c of compactions) compactMax.push(Math.max(compactMax[compactMax.length - 1] ?? -1, c.to));
  const compactAt = (idx: number): number => compactMax[countBelow(compactions, (c) => c.idx <= idx) - 1] ?? -1;
  const holds = (op: EtcdOp, idx: number): boolean | undefined => {
    const revision = idx >> 1;
    const request = op.input;
    const error = op.output?.['error'];
    switch (request.type) {
      case 'range': {
        const at = request.revision ?? 0;
        if (error === 'futureRev') return at > revision;
        if (error === 'compacted') return at > 0 && at <= revision && at < compactAt(idx);
        return undefined;
      }
      case 'compact':
        if (error === 'compacted') return request.revision <= compactAt(idx);
        if (error === 'futureRev') return request.revision > compactAt(idx) && request.revision > revision;
        return undefined;
      case 'put':
        if (revoked) return undefined;
        return error === 'leaseNotFound' && (request.lease ?? 0) !== 0 ? idx < (grants.get(request.lease ?? 0) ?? Infinity) : undefined;
      case 'leaseGrant':
        if (revoked) return undefined;
        return error === 'leaseExists' ? idx >= (grants.get(request.id) ?? Infinity) : undefined;
      default:
        return undefined; // txn / revoke errors depend on more than the position
    }
  };

  const sorted = [...floating].sort((a, b) => a.op.call - b.op.call);
  const assigned: { op: EtcdOp; idx: number }[] = [];
  for (const { op, side } of sorted) {
    const { lowerBound, upperBound } = boundsOf(kindOf(op));
    const n = countBelow(byReturn, (p) => p.op.ret < op.call);
    // Nothing goes before the empty store's revision.
    let lo = Math.max(2 * initialRevision, n === 0 ? 0 : (lowerBound[n - 1] ?? 0));
    const m = countBelow(byCall, (p) => p.op.call <= op.ret);
    const hi = m >= byCall.length ? 2 * maxRevision + 1 : (upperBound[m] ?? 2 * maxRevision + 1);
    for (const a of assigned) if (a.op.ret < op.call) lo = Math.max(lo, a.idx);
    if (holds(op, lo) === undefined) return `line ${op.line}: cannot place the error ${JSON.stringify(op.output?.['error'])}`;
    let idx = lo;
    if (side === 'late') {
      // The least valid position in [lo, hi]: validity is a suffix.
      let a = lo;
      let b = hi + 1;
      while (a < b) {
        const mid = (a + b) >> 1;
        if (holds(op, mid) === true) b = mid;
        else a = mid + 1;
      }
      idx = a;
    }
    if (idx > hi || holds(op, idx) !== true) return `line ${op.line}: no point in its real-time window explains the error`;
    assigned.push({ op, idx });
  }
  for (const { op, idx } of assigned) {
    const key = ((idx >> 1) << 1) + 1;
    placed.push((idx & 1) === 1 ? { op, key, late: true } : { op, key });
  }
  return undefined;
}


/** A successful compaction or lease grant or revoke: it can change state without a revision. */
function isStirring(op: EtcdOp): boolean {
  const { type } = op.input;
  return (type === 'compact' || type === 'leaseGrant' || type === 'leaseRevoke') && op.outcome === 'ok' && op.output?.['error'] === undefined;
}

function describeKey(key: number): string {
  return (key & 1) === 0 ? `revision ${key / 2}` : `a read of revision ${key >> 1}`;
}

/** Whether an ok response shows the op created a revision; undefined if it does not say. */
function isMutation(request: EtcdRequest, response: EtcdResponse): boolean | undefined {
  switch (request.type) {
    case 'range':
    case 'compact':
    case 'leaseGrant':
      return false;
    case 'put':
      return true;
    case 'delete': {
      const deleted = response['deleted'];
      return typeof deleted === 'number' ? deleted > 0 : undefined;
    }
    case 'txn': {
      const succeeded = response['succeeded'];
      const responses = response['responses'];
      if (typeof succeeded !== 'boolean') return undefined;
      const ops = succeeded ? request.success : request.failure;
      if (ops.some((op) => op.type === 'put')) return true;
      if (!ops.some((op) => op.type === 'delete')) return false;
      if (!Array.isArray(responses)) return undefined;
      let wrote = false;
      for (let i = 0; i < ops.length; i++) {
        if (ops[i]?.type !== 'delete') continue;
        const sub = (responses as readonly Json[])[i];
        const deleted = typeof sub === 'object' && sub !== null && !Array.isArray(sub) ? (sub as { readonly [k: string]: Json })['deleted'] : undefined;
        if (typeof deleted !== 'number') return undefined;
        if (deleted > 0) wrote = true;
      }
      return wrote;
    }
    case 'leaseRevoke':
      return undefined; // it writes iff keys were attached, which the response does not show
  }
}







/** A pair (A, B) with A.ret < B.call but key(A) > key(B), if any. */
function realTimeViolation(placed: readonly Placed[]): [Placed, Placed] | undefined {
  const events: { time: number; isReturn: boolean; p: Placed }[] = [];
  for (const p of placed) {
    events.push({ time: p.op.call, isReturn: false, p });
    if (Number.isFinite(p.op.ret)) events.push({ time: p.op.ret, isReturn: true, p });
  }
  // Intervals are closed: on equal times calls go first, so they do not see that return.
  events.sort((a, b) => a.time - b.time || Number(a.isReturn) - Number(b.isReturn));
  let latest: Placed | undefined;
  for (const e of events) {
    if (e.isReturn) {
      if (latest === undefined || e.p.key > latest.key) latest = e.p;
    } else if (latest !== undefined && latest.key > e.p.key) {
      return [latest, e.p];
    }
  }
  return undefined;
}
