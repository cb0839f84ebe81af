// The revision-directed fast path for etcd histories (checkers.md §6, lesson 1).
//
// Every ok mutation names its own revision, which fixes its place in any legal
// linearization; every other ok op carries the revision it observed, which puts
// it in the bucket between that mutation and the next, where read-only ops
// commute. So for determinate histories linearizability reduces to:
//   (a) the mutations' revisions are unique and dense (1..max),
//   (b) real time agrees: A returned before B was invoked => key(A) <= key(B),
//       with key = 2r for the mutation at r and 2r+1 for an op in bucket r,
//   (c) replaying the mutations in revision order through the model reproduces
//       every response.
// That is O(n log n). Ops with an unknown outcome are placed only when a gap
// in the revisions must be filled and a later response names the filler (its
// key and value at that mod revision, unambiguously); unknown ops that fill no
// gap are left out (they can linearize after everything). Whatever this cannot
// decide soundly comes back "inconclusive" for the WGL search to settle.

import type { Operation } from '../history.js';
import { MvccStore } from './store.js';
import type { EtcdRequest, EtcdResponse, Json } from './types.js';
import { responseMatches } from './types.js';

type EtcdOp = Operation<EtcdRequest, EtcdResponse>;

export type FastPathResult =
  /** The store after replaying the linearization, with its event log. */
  | { readonly verdict: 'ok'; readonly store: MvccStore }
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
  /** Absolute time in the units of now() after which guessing stops (inconclusive). */
  readonly deadline: number;
  readonly now: () => number;
}

export function revisionDirectedCheck(history: readonly EtcdOp[], budget?: FastPathBudget): FastPathResult {
  const mutationAt = new Map<number, EtcdOp>();
  const placed: Placed[] = [];
  /** Buckets holding ops that change state without a revision (compact, lease grant). */
  const stirredBuckets = new Set<number>();
  let maxRevision = 0;
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
      mutationAt.set(revision, op);
      placed.push({ op, key: 2 * revision });
    } else {
      if (op.input.type === 'compact' || op.input.type === 'leaseGrant') stirredBuckets.add(revision);
      placed.push({ op, key: 2 * revision + 1 });
    }
  }

  // A lease revoke writes iff the lease had keys, which its response does not
  // say. Guess: it made its revision unless another op did. The replay checks
  // the guess, and any failure then is only inconclusive.
  const guessedRevoke = revokes.some(({ revision }) => !mutationAt.has(revision));
  for (const { op, revision } of revokes) {
    if (mutationAt.has(revision)) {
      stirredBuckets.add(revision);
      placed.push({ op, key: 2 * revision + 1 });
    } else {
      mutationAt.set(revision, op);
      placed.push({ op, key: 2 * revision });
    }
  }
  const proof = (result: FastPathResult): FastPathResult =>
    guessedRevoke && result.verdict === 'illegal' ? inconclusive(`${result.reason} (but lease revokes were placed by guess)`) : result;

  // (a) Dense revisions: each gap needs an unknown op that a response names.
  const used = new Set<EtcdOp>();
  /** Gaps no response names: filled by guesses, each verified by a full replay. */
  const phantoms: number[] = [];
  const unknownWriters = history.filter((op) => op.outcome === 'unknown' && !MvccStore.isReadOnly(op.input)).sort((a, b) => a.call - b.call);
  const gaps: number[] = [];
  for (let r = 1; r <= maxRevision; r++) if (!mutationAt.has(r)) gaps.push(r);
  if (gaps.length > 0) {
    if (unknownWriters.length === 0) {
      const gap = gaps[0] ?? 0;
      const next = mutationAt.get(gap + 1) ?? [...mutationAt.values()][0];
      return proof({
        verdict: 'illegal',
        reason: `revision ${gap} was written by no operation (and none had an unknown outcome)`,
        ops: next === undefined ? [] : [next.id],
        prefix: [],
      });
    }
    const observed = observedWrites(history);
    for (const gap of gaps) {
      const seen = observed.get(gap);
      if (seen === undefined) {
        phantoms.push(gap); // guessed below, from the keys whose later versions show a missing write
        continue;
      }
      const candidates = unknownWriters.filter((op) => !used.has(op) && writesPair(op.input, seen.key, seen.value));
      const [filler, ...others] = candidates;
      if (filler === undefined || others.length > 0) {
        return inconclusive(`revision ${gap}: ${candidates.length} unknown operations could have written it`);
      }
      used.add(filler);
      placed.push({ op: filler, key: 2 * gap });
    }
  }

  // Error responses go to the best end of their real-time window: after every
  // op that returned before they were invoked, before every op invoked after
  // they returned. An empty window shows up in the sweep below.
  if (floating.length > 0) {
    const unplaceable = placeFloating(placed, floating, maxRevision);
    if (unplaceable !== undefined) return inconclusive(unplaceable);
  }

  // (b) Real time against revision order, in one sweep over calls and returns.
  const violation = realTimeViolation(placed);
  if (violation !== undefined) {
    const [before, after] = violation;
    return proof({
      verdict: 'illegal',
      reason:
        `line ${before.op.line} returned before line ${after.op.line} was invoked, ` +
        `but sits at ${describeKey(before.key)}, after ${describeKey(after.key)}`,
      ops: [before.op.id, after.op.id],
      prefix: [],
    });
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

  type Replayed =
    | { readonly kind: 'ok'; readonly store: MvccStore }
    | {
        readonly kind: 'mismatch';
        readonly at: Placed;
        readonly response: EtcdResponse;
        readonly prefix: readonly number[];
        readonly store: MvccStore;
        readonly certain: boolean;
      }
    | { readonly kind: 'stuck'; readonly reason: string; readonly op?: EtcdOp };
  const replay = (ops: readonly Placed[], open: readonly number[]): Replayed => {
    const store = new MvccStore(true);
    const prefix: number[] = [];
    let nextOpen = 0;
    for (const p of ops) {
      const { op, key } = p;
      while (nextOpen < open.length && 2 * (open[nextOpen] ?? 0) < key) {
        store.skipRevision();
        nextOpen++;
      }
      const response = store.apply(op.input);
      if (op.output === undefined) {
        if (store.revision !== key / 2) return { kind: 'stuck', reason: `line ${op.line}: the unknown op placed at revision ${key / 2} would not write it`, op };
      } else if (!responseMatches(response, op.output) || ((key & 1) === 0 && store.revision !== key / 2)) {
        // A mismatch there may come from the order chosen inside the bucket, or from an error's placement: no proof.
        const certain = !stirredBuckets.has(key >> 1) && op.output['error'] === undefined;
        return { kind: 'mismatch', at: p, response, prefix, store, certain };
      }
      prefix.push(op.id);
    }
    return { kind: 'ok', store };
  };

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
  const writtenKeys = (request: EtcdRequest): string[] =>
    request.type === 'put' ? [request.key] : request.type === 'txn' ? [...request.success, ...request.failure].flatMap((o) => (o.type === 'put' ? [o.key] : [])) : [];

  placed.sort(order);
  const guesses = new Map<number, Placed>();
  const rejected = new Set<string>();
  const candidate = (op: EtcdOp, gap: number): boolean => !used.has(op) && !rejected.has(`${gap}:${op.id}`) && fits(op, gap);
  for (let attempt = 0; attempt <= 4 * phantoms.length + 8; attempt++) {
    // Each attempt is a full replay: stay inside the caller's budget.
    if (attempt > 0 && budget !== undefined && budget.now() >= budget.deadline) return inconclusive('out of time while guessing unnamed revisions');
    const open = phantoms.filter((g) => !guesses.has(g));
    const all = guesses.size === 0 ? placed : [...placed, ...guesses.values()].sort(order);
    const result = replay(all, open);
    if (result.kind === 'stuck') {
      // A guessed filler that would not write its revision (a txn taking its other branch): try another.
      const wrong = [...guesses].find(([, p]) => p.op === result.op);
      if (wrong === undefined) return inconclusive(result.reason);
      guesses.delete(wrong[0]);
      used.delete(wrong[1].op);
      rejected.add(`${wrong[0]}:${wrong[1].op.id}`);
      continue;
    }
    if (result.kind === 'mismatch') {
      const { at, response, prefix } = result;
      if (phantoms.length === 0) {
        if (!result.certain) {
          return inconclusive(`line ${at.op.line}: in bucket ${at.key >> 1}, which holds compactions, lease changes or errors, the store answers ${JSON.stringify(response)}`);
        }
        return proof({ verdict: 'illegal', reason: `line ${at.op.line}: at ${describeKey(at.key)} the store answers ${JSON.stringify(response)}`, ops: [at.op.id], prefix });
      }
      // A write nobody saw still shows in later versions: guess that an unknown
      // write to a key this response mentions filled the latest open gap before it.
      const keys = new Set([...mentionedKeys(at.op.output), ...mentionedKeys(response), ...writtenKeys(at.op.input), ...touchedRanges(at.op.input).map((r) => r.key)]);
      // A range's count also shows keys it does not list: an absent key in the range may be the one.
      const ranges = at.op.input.type === 'txn' ? [...at.op.input.success, ...at.op.input.failure] : [at.op.input];
      const explains = (k: string): boolean =>
        keys.has(k) ||
        ranges.some((r) => r.type === 'range' && r.rangeEnd !== undefined && r.rangeEnd !== '' && k >= r.key && (r.rangeEnd === '\u0000' || k < r.rangeEnd));
      let guessed = false;
      for (let i = open.length - 1; i >= 0 && !guessed; i--) {
        const gap = open[i] ?? 0;
        if (2 * gap > at.key) continue;
        // The most recently invoked candidate first: fillers are usually close to their gap.
        // A missing write shows as a key, a version or a count; a missing delete as a key that should be gone.
        const filler = unknownWriters.findLast(
          (op) => candidate(op, gap) && (writtenKeys(op.input).some(explains) || deletedKeys(op.input).some(explains) || [...keys].some((k) => deletes(op.input, k))),
        );
        if (filler === undefined) continue;
        used.add(filler);
        guesses.set(gap, { op: filler, key: 2 * gap });
        guessed = true;
      }
      if (!guessed) {
        // Perhaps an earlier guess took the wrong key: withdraw the latest one and try again.
        const last = [...guesses].pop();
        if (last === undefined) {
          return inconclusive(`line ${at.op.line}: no unknown write explains the answer ${JSON.stringify(response)} (unnamed revisions ${phantoms.slice(0, 5).join(', ')})`);
        }
        guesses.delete(last[0]);
        used.delete(last[1].op);
        rejected.add(`${last[0]}:${last[1].op.id}`);
      }
      continue;
    }
    if (open.length === 0) {
      if (guesses.size > 0 && realTimeViolation([...placed, ...guesses.values()]) !== undefined) return inconclusive('a guessed filler breaks real-time order');
      return { verdict: 'ok', store: result.store };
    }
    // The rest were never observed: any unknown write that fits will do; the next replay checks it.
    for (const gap of open) {
      const filler = unknownWriters.findLast((op) => candidate(op, gap) && writtenKeys(op.input).length > 0);
      if (filler === undefined) return inconclusive(`revision ${gap}: no unknown write can have made it`);
      used.add(filler);
      guesses.set(gap, { op: filler, key: 2 * gap });
    }
  }
  return inconclusive('guessing the unnamed revisions did not converge');
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
function placeFloating(placed: Placed[], floating: readonly { op: EtcdOp; side: 'early' | 'late' }[], maxRevision: number): string | undefined {
  // With revokes, a lease's existence is no longer monotone along the linearization.
  const revoked = placed.some((p) => p.op.input.type === 'leaseRevoke');
  const isStir = (p: Placed): boolean => isStirring(p.op);
  /** The least position an op may take if `p` returned before it was invoked. */
  const after = (p: Placed): number => ((p.key & 1) === 0 ? p.key : isStir(p) ? p.key : p.key - 1);
  /** The greatest position an op may take if `p` was invoked after it returned. */
  const before = (p: Placed): number => ((p.key & 1) === 0 ? p.key - 1 : isStir(p) ? p.key - 1 : p.key);
  const byReturn = placed.filter((p) => Number.isFinite(p.op.ret)).sort((a, b) => a.op.ret - b.op.ret);
  const lowerBound: number[] = [];
  let best = 0;
  for (const p of byReturn) lowerBound.push((best = Math.max(best, after(p))));
  const byCall = [...placed].sort((a, b) => a.op.call - b.op.call);
  const upperBound: number[] = new Array<number>(byCall.length);
  let least = 2 * maxRevision + 1;
  for (let i = byCall.length - 1; i >= 0; i--) {
    const p = byCall[i];
    if (p !== undefined) least = Math.min(least, before(p));
    upperBound[i] = least;
  }

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
    const n = countBelow(byReturn, (p) => p.op.ret < op.call);
    let lo = n === 0 ? 0 : (lowerBound[n - 1] ?? 0);
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

/** The length of the prefix of `sorted` satisfying the (prefix-closed) predicate. */
function countBelow<T>(sorted: readonly T[], inPrefix: (x: T) => boolean): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    const x = sorted[mid];
    if (x !== undefined && inPrefix(x)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
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

/** Every (key, value) that a response shows was written at a mod revision. */
function observedWrites(history: readonly EtcdOp[]): Map<number, { key: string; value: string }> {
  const seen = new Map<number, { key: string; value: string }>();
  const visit = (x: Json | undefined): void => {
    if (x === null || x === undefined || typeof x !== 'object') return;
    if (Array.isArray(x)) {
      for (const item of x as readonly Json[]) visit(item);
      return;
    }
    const obj = x as { readonly [k: string]: Json };
    const { key, value, modRevision } = obj;
    if (typeof key === 'string' && typeof value === 'string' && typeof modRevision === 'number') seen.set(modRevision, { key, value });
    for (const v of Object.values(obj)) visit(v);
  };
  for (const op of history) if (op.outcome === 'ok') visit(op.output);
  return seen;
}

/** The ranges a request reads. */
function touchedRanges(request: EtcdRequest): { key: string }[] {
  const ops = request.type === 'txn' ? [...request.success, ...request.failure] : [request];
  return ops.flatMap((op) => (op.type === 'range' || op.type === 'delete' ? [{ key: op.key }] : []));
}

/** The first keys of the deletes a request (or a branch of a txn) makes. */
function deletedKeys(request: EtcdRequest): string[] {
  const ops = request.type === 'txn' ? [...request.success, ...request.failure] : [request];
  return ops.flatMap((op) => (op.type === 'delete' ? [op.key] : []));
}

/** Whether a request (or a branch of a txn) deletes `key`. */
function deletes(request: EtcdRequest, key: string): boolean {
  const ops = request.type === 'txn' ? [...request.success, ...request.failure] : [request];
  return ops.some((op) => {
    if (op.type !== 'delete') return false;
    const end = op.rangeEnd;
    if (end === undefined || end === '') return op.key === key;
    return (op.key === '\u0000' && end === '\u0000') || (key >= op.key && (end === '\u0000' || key < end));
  });
}

/** Every key a response shows (kvs, prev_kv), for guessing unseen writers. */
function mentionedKeys(x: Json | undefined): string[] {
  if (x === null || x === undefined || typeof x !== 'object') return [];
  if (Array.isArray(x)) return (x as readonly Json[]).flatMap(mentionedKeys);
  const obj = x as { readonly [k: string]: Json };
  const own = typeof obj['key'] === 'string' ? [obj['key']] : [];
  return [...own, ...Object.values(obj).flatMap(mentionedKeys)];
}

function writesPair(request: EtcdRequest, key: string, value: string): boolean {
  if (request.type === 'put') return request.key === key && request.value === value;
  if (request.type === 'txn') {
    return [...request.success, ...request.failure].some((op) => op.type === 'put' && op.key === key && op.value === value);
  }
  return false;
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
