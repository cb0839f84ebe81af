// The interval tree etcd 3.4 keeps a user's permissions in (pkg/adt: a red-black tree
// ordered by begin, each node holding the largest end below it), reproduced shape for
// shape, because its answers depend on the shape.
//
// For proper intervals (begin < end) the tree answers what any interval tree answers:
// a point is permitted when some interval holds it, a range when the intervals
// overlapping it cover it without a gap. But etcd also stores the intervals of
// degenerate grants (range_end ≤ key, or key "") and is asked about inverted ranges
// ([d, a)), and then its pruned walk skips subtrees that a full scan would visit: the
// answer depends on which nodes sit where. Worked example (observed on etcd 3.4.23):
// with READ on the key a and on [ab, e), the tree is [a, a\0) with [ab, e) to its
// right. A request for [b, a) lies right of the root, and the root's [a, max e) lies
// right of the request's end a, so the walk stops there and finds nothing: refused,
// although b itself is granted. [c, b) is allowed: the walk reaches [ab, e). Only the
// same tree, built by the same inserts in the same order, gives the same answer in
// every case.
//
// Bounds are "affine" binary strings: the empty string compares above every other
// (etcd's BytesAffineComparable), so an end of '' means "no upper bound".

import type { Key } from '../mvcc/keys.js';
import { invariant } from '../util/invariant.js';

/** etcd's affine order: '' is +∞. */
export function affineCompare(a: Key, b: Key): number {
  if (a === '') return b === '' ? 0 : 1;
  if (b === '') return -1;
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface AffineInterval {
  readonly begin: Key;
  /** '' = no upper bound. */
  readonly end: Key;
}

/** etcd's Interval.Compare: -1 if `a` lies left of `b`, 1 if right, 0 if they overlap (by its own rule). */
export function intervalCompare(a: AffineInterval, b: AffineInterval): number {
  if (affineCompare(a.begin, b.begin) < 0 && affineCompare(a.end, b.begin) <= 0) return -1;
  if (affineCompare(a.begin, b.end) >= 0) return 1;
  return 0;
}

interface TreeNode {
  readonly interval: AffineInterval;
  max: Key;
  left: TreeNode | null;
  right: TreeNode | null;
  parent: TreeNode | null;
  red: boolean;
}

/** Inserts are bounded by the permissions of one user; this is a guard, not a policy. */
const MAX_NODES = 1 << 20;

export class EtcdIntervalTree {
  private root: TreeNode | null = null;
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** etcd's Insert: descend by begin (ties to the right), attach red, fix up. */
  insert(interval: AffineInterval): void {
    invariant(this.count < MAX_NODES, 'an interval tree holds at most 2^20 permissions');
    const z: TreeNode = { interval, max: interval.end, left: null, right: null, parent: null, red: true };
    let y: TreeNode | null = null;
    for (let x = this.root; x !== null;) {
      y = x;
      x = affineCompare(interval.begin, x.interval.begin) < 0 ? x.left : x.right;
    }
    z.parent = y;
    if (y === null) {
      this.root = z;
    } else {
      if (affineCompare(interval.begin, y.interval.begin) < 0) y.left = z;
      else y.right = z;
      updateMax(y);
    }
    this.insertFixup(z);
    this.count++;
  }

  /** etcd's Intersects: the textbook stabbing search (exact, for any intervals). */
  intersects(probe: AffineInterval): boolean {
    let x = this.root;
    while (x !== null && intervalCompare(probe, x.interval) !== 0) {
      x = x.left !== null && affineCompare(x.left.max, probe.begin) > 0 ? x.left : x.right;
    }
    return x !== null;
  }

  /**
   * etcd's Contains: walks the nodes its visit reaches in begin order; true when they
   * run without a gap from at or below the probe's begin to at or above its end.
   */
  contains(probe: AffineInterval): boolean {
    // Written through an object: the walk's callback sets what the verdict reads.
    const walk: { minBegin: Key | null; maxEnd: Key; contiguous: boolean } = { minBegin: null, maxEnd: '', contiguous: true };
    this.visit(this.root, probe, (iv) => {
      if (walk.minBegin === null) {
        walk.minBegin = iv.begin;
        walk.maxEnd = iv.end;
        return true;
      }
      if (affineCompare(walk.maxEnd, iv.begin) < 0) {
        walk.contiguous = false;
        return false;
      }
      if (affineCompare(iv.end, walk.maxEnd) > 0) walk.maxEnd = iv.end;
      return true;
    });
    return walk.contiguous && walk.minBegin !== null
      && affineCompare(walk.maxEnd, probe.end) >= 0 && affineCompare(walk.minBegin, probe.begin) <= 0;
  }

  /**
   * etcd's visit: into the left subtree when the probe lies left of the node; into both
   * when it lies right of the node but overlaps [node begin, subtree max); into both
   * around the node when it overlaps. Recursion depth is the tree height (≤ 2·log2 n).
   */
  private visit(x: TreeNode | null, probe: AffineInterval, visitor: (iv: AffineInterval) => boolean): boolean {
    if (x === null) return true;
    const v = intervalCompare(probe, x.interval);
    if (v < 0) return this.visit(x.left, probe, visitor);
    if (v > 0) {
      if (intervalCompare({ begin: x.interval.begin, end: x.max }, probe) !== 0) return true;
      return this.visit(x.left, probe, visitor) && this.visit(x.right, probe, visitor);
    }
    return this.visit(x.left, probe, visitor) && visitor(x.interval) && this.visit(x.right, probe, visitor);
  }

  /** CLRS RB-INSERT-FIXUP, as etcd writes it (rotations update max on their way). */
  private insertFixup(start: TreeNode): void {
    let z = start;
    for (let parent = z.parent; parent !== null && parent.red; parent = z.parent) {
      const grand = parent.parent;
      invariant(grand !== null, 'a red node is never the root');
      const parentIsLeft = parent === grand.left;
      const uncle = parentIsLeft ? grand.right : grand.left;
      if (uncle !== null && uncle.red) {
        uncle.red = false;
        parent.red = false;
        grand.red = true;
        z = grand;
        continue;
      }
      if (parentIsLeft && z === parent.right) {
        z = parent;
        this.rotateLeft(z);
      } else if (!parentIsLeft && z === parent.left) {
        z = parent;
        this.rotateRight(z);
      }
      const p = z.parent;
      const g = p?.parent ?? null;
      invariant(p !== null && g !== null, 'after the inner rotation z has a parent and a grandparent');
      p.red = false;
      g.red = true;
      if (parentIsLeft) this.rotateRight(g);
      else this.rotateLeft(g);
    }
    if (this.root !== null) this.root.red = false;
  }

  private rotateLeft(x: TreeNode): void {
    const y = x.right;
    if (y === null) return;
    x.right = y.left;
    if (y.left !== null) y.left.parent = x;
    updateMax(x);
    this.replaceParent(x, y);
    y.left = x;
    updateMax(y);
  }

  private rotateRight(x: TreeNode): void {
    const y = x.left;
    if (y === null) return;
    x.left = y.right;
    if (y.right !== null) y.right.parent = x;
    updateMax(x);
    this.replaceParent(x, y);
    y.right = x;
    updateMax(y);
  }

  private replaceParent(x: TreeNode, y: TreeNode): void {
    y.parent = x.parent;
    const parent = x.parent;
    if (parent === null) {
      this.root = y;
    } else {
      if (x === parent.left) parent.left = y;
      else parent.right = y;
      updateMax(parent);
    }
    x.parent = y;
  }
}

/**
 * etcd's updateMax: recompute the node's max from its end and its children's maxes,
 * and walk up while it changes. It stops at the first node whose max is unchanged,
 * even mid-rotation; the shape of the answers depends on that, so it is kept.
 */
function updateMax(start: TreeNode): void {
  for (let x: TreeNode | null = start; x !== null; x = x.parent) {
    let max = x.interval.end;
    if (x.left !== null && affineCompare(x.left.max, max) > 0) max = x.left.max;
    if (x.right !== null && affineCompare(x.right.max, max) > 0) max = x.right.max;
    if (affineCompare(x.max, max) === 0) return;
    x.max = max;
  }
}
