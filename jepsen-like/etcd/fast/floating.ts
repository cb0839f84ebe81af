// Places the error responses (which carry no revision) before rules (b) and (c).
//
// A position is idx = 2r + phase: bucket r, before (phase 0) or after (phase 1)
// the bucket's compactions and lease grants. Each error holds on a prefix or a
// suffix of positions (revision and compact revision only grow; a lease exists
// from its grant on), or, for a lease that an ok revoke removed, outside the
// interval from its grant to that revoke; so with the window real time allows (PositionWindows),
// each op gets an interval; errors ordered by real time among themselves take
// the least positions satisfying their bounds (the least solution exists iff
// any does). Whether an error holds at a position is ErrorConditions.holds.

import { countBelow } from '../sorted.js';
import type { Floating } from './classify.js';
import type { EtcdOp, Placed } from './placed.js';
import { isStirring } from './placed.js';

/** Only the state changes an error depends on split a bucket: compactions for revision errors, lease changes for lease errors. */
export type SplitBy = 'compaction' | 'lease';

export const splitByOf = (op: EtcdOp): SplitBy =>
  op.output?.['error'] === 'leaseNotFound' || op.output?.['error'] === 'leaseExists' ? 'lease' : 'compaction';

interface Bounds {
  /** lower[i]: the least position after the first i + 1 ops by return. */
  readonly lower: number[];
  /** upper[i]: the greatest position before the ops by call from i on. */
  readonly upper: number[];
}

/** The window of positions real time allows an op, one pair of sweeps per SplitBy. */
export class PositionWindows {
  private readonly byReturn: readonly Placed[];
  private readonly byCall: readonly Placed[];
  private readonly computed = new Map<SplitBy, Bounds>();
  private readonly initialRevision: number;
  private readonly maxRevision: number;

  constructor(placed: readonly Placed[], initialRevision: number, maxRevision: number) {
    this.byReturn = placed.filter((p) => Number.isFinite(p.op.ret)).sort((a, b) => a.op.ret - b.op.ret);
    this.byCall = [...placed].sort((a, b) => a.op.call - b.op.call);
    this.initialRevision = initialRevision;
    this.maxRevision = maxRevision;
  }

  /** [lo, hi]: after every op that returned before `op` was invoked, before every op invoked after it returned. */
  window(op: EtcdOp): { lo: number; hi: number } {
    const { lower, upper } = this.boundsOf(splitByOf(op));
    const top = 2 * this.maxRevision + 1;
    const n = countBelow(this.byReturn, (p) => p.op.ret < op.call);
    // Nothing goes before the empty store's revision.
    const lo = Math.max(2 * this.initialRevision, n === 0 ? 0 : (lower[n - 1] ?? 0));
    const m = countBelow(this.byCall, (p) => p.op.call <= op.ret);
    const hi = m >= this.byCall.length ? top : (upper[m] ?? top);
    return { lo, hi };
  }

  private boundsOf(kind: SplitBy): Bounds {
    const known = this.computed.get(kind);
    if (known !== undefined) return known;
    const fresh = this.bounds(kind);
    this.computed.set(kind, fresh);
    return fresh;
  }

  private bounds(kind: SplitBy): Bounds {
    const lower: number[] = [];
    let best = 0;
    for (const p of this.byReturn) lower.push((best = Math.max(best, positionAfter(p, kind))));
    const upper: number[] = new Array<number>(this.byCall.length);
    let least = 2 * this.maxRevision + 1;
    for (let i = this.byCall.length - 1; i >= 0; i--) {
      const p = this.byCall[i];
      if (p !== undefined) least = Math.min(least, positionBefore(p, kind));
      upper[i] = least;
    }
    return { lower, upper };
  }
}

const stirsFor = (p: Placed, kind: SplitBy): boolean => isStirring(p.op) && (kind === 'compaction' ? p.op.input.type === 'compact' : p.op.input.type !== 'compact');

/** The least position an op may take if `p` returned before it was invoked. */
export const positionAfter = (p: Placed, kind: SplitBy): number => ((p.key & 1) === 0 ? p.key : stirsFor(p, kind) ? p.key : p.key - 1);

/** The greatest position an op may take if `p` was invoked after it returned. */
export const positionBefore = (p: Placed, kind: SplitBy): number => ((p.key & 1) === 0 ? p.key - 1 : stirsFor(p, kind) ? p.key - 1 : p.key);

/** The store's compact revision and leases as functions of the position, and whether an error holds at one. */
export class ErrorConditions {
  private readonly compactions: { idx: number; to: number }[] = [];
  /** Successful compactions go in increasing order (one bucket may hold several), so the value is the running maximum. */
  private readonly compactMax: number[] = [];
  /** Each lease's least ok grant position, and how many ok grants it has. */
  private readonly grants = new Map<number, number>();
  private readonly grantCount = new Map<number, number>();
  /**
   * Each revoked lease's least position from which an ok revoke has surely removed it:
   * the revoke sits in its revision's bucket (2r + 1) or made that revision (2r), so
   * from 2r + 1 on it is gone either way.
   */
  private readonly goneFrom = new Map<number, number>();

  constructor(placed: readonly Placed[]) {
    for (const p of placed) {
      if (p.op.input.type === 'leaseRevoke') {
        const id = p.op.input.id;
        this.goneFrom.set(id, Math.min(p.key | 1, this.goneFrom.get(id) ?? Infinity));
      }
      if (!isStirring(p.op)) continue;
      if (p.op.input.type === 'compact') this.compactions.push({ idx: p.key, to: p.op.input.revision });
      if (p.op.input.type === 'leaseGrant') {
        const id = p.op.input.id;
        this.grants.set(id, Math.min(p.key, this.grants.get(id) ?? Infinity));
        this.grantCount.set(id, (this.grantCount.get(id) ?? 0) + 1);
      }
    }
    this.compactions.sort((a, b) => a.idx - b.idx);
    for (const c of this.compactions) this.compactMax.push(Math.max(this.compactMax[this.compactMax.length - 1] ?? -1, c.to));
  }

  compactAt(idx: number): number {
    return this.compactMax[countBelow(this.compactions, (c) => c.idx <= idx) - 1] ?? -1;
  }

  /**
   * Where a lease is known to be absent: before its one ok grant, and from its first ok
   * revoke on (unknown grants and revokes are taken as not having happened, which can
   * only leave an error unexplained, never explain one wrongly). Undefined when the ok
   * ops alone do not say: several grants of one id, or a revoke before the grant.
   */
  private leaseAbsence(id: number): { readonly before: number; readonly from: number } | undefined {
    if ((this.grantCount.get(id) ?? 0) > 1) return undefined;
    const before = this.grants.get(id) ?? Infinity;
    const from = this.goneFrom.get(id) ?? Infinity;
    if (from < before) return undefined;
    return { before, from };
  }

  /** Whether the op's error holds at position idx; undefined when it depends on more than the position. */
  holds(op: EtcdOp, idx: number): boolean | undefined {
    const revision = idx >> 1;
    const request = op.input;
    const error = op.output?.['error'];
    switch (request.type) {
      case 'range': {
        const at = request.revision ?? 0;
        if (error === 'futureRev') return at > revision;
        if (error === 'compacted') return at > 0 && at <= revision && at < this.compactAt(idx);
        return undefined;
      }
      case 'compact':
        if (error === 'compacted') return request.revision <= this.compactAt(idx);
        if (error === 'futureRev') return request.revision > this.compactAt(idx) && request.revision > revision;
        return undefined;
      case 'put': {
        const lease = request.lease ?? 0;
        if (error !== 'leaseNotFound' || lease === 0) return undefined;
        const absent = this.leaseAbsence(lease);
        return absent === undefined ? undefined : idx < absent.before || idx >= absent.from;
      }
      case 'leaseGrant': {
        if (error !== 'leaseExists') return undefined;
        const absent = this.leaseAbsence(request.id);
        // With a revoke, existence is an interval, not a suffix: left to the search.
        return absent === undefined || absent.from !== Infinity ? undefined : idx >= absent.before;
      }
      default:
        return undefined; // txn / revoke errors depend on more than the position
    }
  }

  /**
   * The least position in [lo, hi] where an 'early' error holds (hi + 1 when none). A
   * lease error holds before the grant and again from the revoke on, so past lo the
   * first holding position is lo or the revoke's.
   */
  leastEarly(op: EtcdOp, lo: number, hi: number): number {
    if (this.holds(op, lo) === true) return lo;
    const request = op.input;
    if (request.type === 'put' && (request.lease ?? 0) !== 0) {
      const from = this.leaseAbsence(request.lease ?? 0)?.from ?? Infinity;
      if (from <= hi && this.holds(op, Math.max(lo, from)) === true) return Math.max(lo, from);
    }
    return hi + 1;
  }
}

/** The least position in [lo, hi] where the error holds, validity being a suffix; hi + 1 when none. */
export function leastHolding(conditions: ErrorConditions, op: EtcdOp, lo: number, hi: number): number {
  let a = lo;
  let b = hi + 1;
  while (a < b) {
    const mid = (a + b) >> 1;
    if (conditions.holds(op, mid) === true) b = mid;
    else a = mid + 1;
  }
  return a;
}

/** Places every error response into `placed`; a reason when some cannot be placed. */
export function placeFloating(placed: Placed[], floating: readonly Floating[], initialRevision: number, maxRevision: number): string | undefined {
  const windows = new PositionWindows(placed, initialRevision, maxRevision);
  const conditions = new ErrorConditions(placed);
  const sorted = [...floating].sort((a, b) => a.op.call - b.op.call);
  const assigned: { op: EtcdOp; idx: number }[] = [];
  for (const { op, side } of sorted) {
    const window = windows.window(op);
    let lo = window.lo;
    for (const a of assigned) if (a.op.ret < op.call) lo = Math.max(lo, a.idx);
    if (conditions.holds(op, lo) === undefined) return `line ${op.line}: cannot place the error ${JSON.stringify(op.output?.['error'])}`;
    const idx = side === 'late' ? leastHolding(conditions, op, lo, window.hi) : conditions.leastEarly(op, lo, window.hi);
    if (idx > window.hi || conditions.holds(op, idx) !== true) return `line ${op.line}: no point in its real-time window explains the error`;
    assigned.push({ op, idx });
  }
  for (const { op, idx } of assigned) {
    const key = ((idx >> 1) << 1) + 1;
    placed.push((idx & 1) === 1 ? { op, key, late: true } : { op, key });
  }
  return undefined;
}
