// Rule (b): real time against revision order. A returned before B was invoked
// => key(A) <= key(B). Also the same bound for an unknown write: it can only
// make a revision at or after everything that returned before it was invoked.

import { countBelow } from '../sorted.js';
import type { EtcdOp, Illegal, Placed } from './placed.js';
import { describeKey, illegal } from './placed.js';

/** A pair (A, B) with A.ret < B.call but key(A) > key(B), if any. */
export function realTimeViolation(placed: readonly Placed[]): [Placed, Placed] | undefined {
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

/** The verdict of rule (b): illegal at the first violation, if any. */
export function realTimeVerdict(placed: readonly Placed[]): Illegal | undefined {
  const violation = realTimeViolation(placed);
  if (violation === undefined) return undefined;
  const [before, after] = violation;
  return illegal(
    `line ${before.op.line} returned before line ${after.op.line} was invoked, ` + `but sits at ${describeKey(before.key)}, after ${describeKey(after.key)}`,
    [before.op.id, after.op.id],
  );
}

/**
 * Whether real time lets an unknown `op` make revision `gap`: the latest key
 * among the ops returned before it was invoked is at most 2·gap (monotone in gap).
 */
export function realTimeFit(placed: readonly Placed[]): (op: EtcdOp, gap: number) => boolean {
  const byReturn = placed.filter((p) => Number.isFinite(p.op.ret)).sort((a, b) => a.op.ret - b.op.ret);
  const returnedMax: number[] = [];
  let running = -Infinity;
  for (const p of byReturn) returnedMax.push((running = Math.max(running, p.key)));
  return (op, gap) => {
    const n = countBelow(byReturn, (p) => p.op.ret < op.call);
    return n === 0 || (returnedMax[n - 1] ?? -Infinity) <= 2 * gap;
  };
}
