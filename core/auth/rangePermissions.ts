// A user's permitted key intervals, merged, and the coverage test etcd 3.4's range
// permission cache (auth/range_perm_cache.go over pkg/adt's interval tree) performs.
//
// etcd's bounds are "affine": an empty bound compares above every other, so a
// permission's range_end "\0" (mapped to empty) means "to the end of the key space".
// A permission on a single key k is the interval [k, k+"\0"): no key lies between the
// two. etcd keeps every interval in a tree and, for a range request, walks the ones
// that overlap it in begin order, requiring them to be contiguous from at or below the
// request's begin to at or above its end. That is exactly "the union covers the
// request", so here the union is precomputed once per user: sorted, merged (adjacent
// intervals merge too, [a,b) ∪ [b,c) = [a,c)), and each check is one binary search.
//
// Worked out against etcd's Interval.Compare (and checked on etcd 3.4.23), three
// degenerate shapes never grant anything and are dropped before merging:
//   key ""            its begin is the affine +∞, so it overlaps no request;
//   range_end ≤ key   an empty or inverted interval overlaps a request only when the
//                     request strictly spans it, and then cannot extend the coverage.
// And two request shapes etcd answers in its own way:
//   key ""               denied (its begin is +∞: no interval overlaps it);
//   range_end ≤ key      (not "\0") treated as the point `key`: etcd's overlap test sees
//                        only the intervals containing `key`, and those pass the
//                        contiguity check.

import type { Key } from '../mvcc/keys.js';
import { invariant } from '../util/invariant.js';

export type PermType = 'READ' | 'WRITE' | 'READWRITE';

/** authpb.Permission: a key, or [key, range_end) with "\0" meaning no upper bound. */
export interface Permission {
  readonly permType: PermType;
  readonly key: Key;
  readonly rangeEnd: Key;
}

/** A half-open interval of keys; `to` null = no upper bound. Invariant: from < to. */
export interface KeyInterval {
  readonly from: Key;
  readonly to: Key | null;
}

/** The merged read and write intervals of one user: sorted, disjoint, non-adjacent. */
export interface MergedPermissions {
  readonly read: readonly KeyInterval[];
  readonly write: readonly KeyInterval[];
}

/** The interval a permission grants, or null for the shapes that grant nothing. */
export function permissionInterval(perm: Permission): KeyInterval | null {
  if (perm.key === '') return null;
  if (perm.rangeEnd === '') return { from: perm.key, to: perm.key + '\0' };
  if (perm.rangeEnd === '\0') return { from: perm.key, to: null };
  if (perm.rangeEnd <= perm.key) return null;
  return { from: perm.key, to: perm.rangeEnd };
}

/** Sorts and merges intervals into the disjoint union (adjacent ones merge). */
export function mergeIntervals(intervals: readonly KeyInterval[]): KeyInterval[] {
  const sorted = [...intervals].sort((x, y) => (x.from < y.from ? -1 : x.from > y.from ? 1 : 0));
  const merged: KeyInterval[] = [];
  for (const next of sorted) {
    invariant(next.to === null || next.from < next.to, () => `interval ${JSON.stringify(next)} is empty`);
    const last = merged[merged.length - 1];
    if (last !== undefined && (last.to === null || last.to >= next.from)) {
      const to = last.to === null || next.to === null ? null : (last.to > next.to ? last.to : next.to);
      merged[merged.length - 1] = { from: last.from, to };
    } else {
      merged.push(next);
    }
  }
  return merged;
}

/** Merges the permissions of all of a user's roles (READWRITE counts for both). */
export function mergePermissions(perms: readonly Permission[]): MergedPermissions {
  const read: KeyInterval[] = [];
  const write: KeyInterval[] = [];
  for (const perm of perms) {
    const interval = permissionInterval(perm);
    if (interval === null) continue;
    if (perm.permType !== 'WRITE') read.push(interval);
    if (perm.permType !== 'READ') write.push(interval);
  }
  return { read: mergeIntervals(read), write: mergeIntervals(write) };
}

/** The last merged interval starting at or below `key`, if any (binary search). */
function intervalAtOrBelow(merged: readonly KeyInterval[], key: Key): KeyInterval | undefined {
  let lo = 0;
  let hi = merged.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const at = merged[mid];
    invariant(at !== undefined, 'binary search stays inside the array');
    if (at.from <= key) lo = mid + 1;
    else hi = mid;
  }
  return merged[lo - 1];
}

/**
 * Whether merged intervals permit a request over (key, rangeEnd) by etcd's rules:
 * rangeEnd "" → the single key; "\0" → every key ≥ key; otherwise [key, rangeEnd),
 * with an empty or inverted range checked as the point `key` (see the header).
 */
export function covers(merged: readonly KeyInterval[], key: Key, rangeEnd: Key): boolean {
  if (key === '') return false;
  const around = intervalAtOrBelow(merged, key);
  if (around === undefined) return false;
  if (rangeEnd === '\0') return around.to === null;
  const pointOnly = rangeEnd === '' || rangeEnd <= key;
  if (around.to === null) return true;
  return pointOnly ? key < around.to : rangeEnd <= around.to;
}
