// Binary search over sorted arrays, shared by the fast path and the gap search.

/** The length of the prefix of `sorted` satisfying the (prefix-closed) predicate. */
export function countBelow<T>(sorted: readonly T[], inPrefix: (x: T) => boolean): number {
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
