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
}

const inconclusive = (reason: string): FastPathResult => ({ verdict: 'inconclusive', reason });

export function revisionDirectedCheck(history: readonly EtcdOp[]): FastPathResult {
  const mutationAt = new Map<number, EtcdOp>();
  const placed: Placed[] = [];
  /** Buckets holding ops that change state without a revision (compact, lease grant). */
  const stirredBuckets = new Set<number>();
  let maxRevision = 0;

  for (const op of history) {
    if (op.outcome !== 'ok' || op.output === undefined) continue;
    const response = op.output;
    if (response['error'] !== undefined) return inconclusive(`line ${op.line}: an error response has no revision to place it by`);
    const revision = response['revision'];
    if (typeof revision !== 'number') return inconclusive(`line ${op.line}: the response records no revision`);
    maxRevision = Math.max(maxRevision, revision);
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

  // (a) Dense revisions: each gap needs an unknown op that a response names.
  const unknownWriters = history.filter((op) => op.outcome === 'unknown' && !MvccStore.isReadOnly(op.input));
  const gaps: number[] = [];
  for (let r = 1; r <= maxRevision; r++) if (!mutationAt.has(r)) gaps.push(r);
  if (gaps.length > 0) {
    if (unknownWriters.length === 0) {
      const gap = gaps[0] ?? 0;
      const next = mutationAt.get(gap + 1) ?? [...mutationAt.values()][0];
      return {
        verdict: 'illegal',
        reason: `revision ${gap} was written by no operation (and none had an unknown outcome)`,
        ops: next === undefined ? [] : [next.id],
        prefix: [],
      };
    }
    const observed = observedWrites(history);
    const used = new Set<EtcdOp>();
    for (const gap of gaps) {
      const seen = observed.get(gap);
      if (seen === undefined) return inconclusive(`revision ${gap}: no response shows what was written there`);
      const candidates = unknownWriters.filter((op) => !used.has(op) && writesPair(op.input, seen.key, seen.value));
      const [filler, ...others] = candidates;
      if (filler === undefined || others.length > 0) {
        return inconclusive(`revision ${gap}: ${candidates.length} unknown operations could have written it`);
      }
      used.add(filler);
      placed.push({ op: filler, key: 2 * gap });
    }
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
  const stirs = (p: Placed): number => (p.op.input.type === 'compact' || p.op.input.type === 'leaseGrant' ? 1 : 0);
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
      if (c.op.input.type !== 'compact') continue;
      const compactTo = c.op.input.revision;
      const late = inBucket.find((p) => stirs(p) === 0 && p.op.call > c.op.ret && compactionSensitive(p.op.input, compactTo));
      if (late !== undefined) {
        return inconclusive(`line ${late.op.line}: began after the compaction on line ${c.op.line} returned`);
      }
    }
  }
  // Successful compactions of one bucket must have gone in increasing order.
  const compactTo = (p: Placed): number => (p.op.input.type === 'compact' ? p.op.input.revision : 0);
  placed.sort((a, b) => a.key - b.key || stirs(a) - stirs(b) || compactTo(a) - compactTo(b) || a.op.call - b.op.call);
  const store = new MvccStore(true);
  const prefix: number[] = [];
  for (const { op, key } of placed) {
    const response = store.apply(op.input);
    if (op.output === undefined) {
      if (store.revision !== key / 2) return inconclusive(`line ${op.line}: the unknown op placed at revision ${key / 2} would not write it`);
    } else if (!responseMatches(response, op.output) || ((key & 1) === 0 && store.revision !== key / 2)) {
      if (stirredBuckets.has(key >> 1)) {
        return inconclusive(`line ${op.line}: bucket ${key >> 1} holds compactions or lease grants; the store answers ${JSON.stringify(response)}`);
      }
      return {
        verdict: 'illegal',
        reason: `line ${op.line}: at ${describeKey(key)} the store answers ${JSON.stringify(response)}`,
        ops: [op.id],
        prefix,
      };
    }
    prefix.push(op.id);
  }
  return { verdict: 'ok', store };
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
