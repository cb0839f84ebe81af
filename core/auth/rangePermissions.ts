// A user's permissions as etcd 3.4's range permission cache holds them
// (auth/range_perm_cache.go getMergedPerms), and the check it makes for a request
// (checkKeyPoint / checkKeyInterval).
//
// etcd inserts one interval per permission into a read tree and a write tree (READWRITE
// into both), in the user's role order (sorted names) and each role's permission order
// (sorted by key), and asks the tree: a request for one key is permitted when an
// interval holds the key; a request for a range when the intervals its walk reaches
// cover it without a gap. The tree is etcdIntervalTree.ts, reproduced shape for shape:
// for degenerate grants (range_end ≤ key, key "") and inverted requests its answer
// depends on the shape, and only the same tree gives the same answer. (An earlier
// version merged the intervals into their union, which is exact only when every grant
// and every request is a proper interval; the RBAC differential against etcd found the
// cases where it is not.)
//
// Mapping, with '' as the affine +∞:
//   permission range_end ""   → the point [key, key+"\0");
//   permission range_end "\0" → [key, +∞);
//   otherwise                 → [key, range_end), even when empty or inverted;
//   key ""                    → a begin of +∞ (such an interval overlaps nothing).

import type { Key } from '../mvcc/keys.js';
import { EtcdIntervalTree, type AffineInterval } from './etcdIntervalTree.js';

export type PermType = 'READ' | 'WRITE' | 'READWRITE';

/** authpb.Permission: a key, or [key, range_end) with "\0" meaning no upper bound. */
export interface Permission {
  readonly permType: PermType;
  readonly key: Key;
  readonly rangeEnd: Key;
}

/** One user's read and write trees. */
export interface UserPermissions {
  readonly read: EtcdIntervalTree;
  readonly write: EtcdIntervalTree;
}

/** The interval etcd stores for a permission (see the mapping above). */
export function permissionInterval(perm: Permission): AffineInterval {
  if (perm.rangeEnd === '') return { begin: perm.key, end: perm.key + '\0' };
  return { begin: perm.key, end: perm.rangeEnd === '\0' ? '' : perm.rangeEnd };
}

/** The trees for permissions given in etcd's order (roles by name, each role's permissions by key). */
export function userPermissions(perms: readonly Permission[]): UserPermissions {
  const read = new EtcdIntervalTree();
  const write = new EtcdIntervalTree();
  for (const perm of perms) {
    const interval = permissionInterval(perm);
    if (perm.permType !== 'WRITE') read.insert(interval);
    if (perm.permType !== 'READ') write.insert(interval);
  }
  return { read, write };
}

/**
 * Whether a tree permits a request over (key, rangeEnd), as etcd's isRangeOpPermitted:
 * rangeEnd "" → the point key; "\0" → [key, +∞); otherwise [key, rangeEnd) as given.
 */
export function permits(tree: EtcdIntervalTree, key: Key, rangeEnd: Key): boolean {
  if (rangeEnd === '') return tree.intersects({ begin: key, end: key + '\0' });
  return tree.contains({ begin: key, end: rangeEnd === '\0' ? '' : rangeEnd });
}
