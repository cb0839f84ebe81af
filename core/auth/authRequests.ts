// The auth requests that go through Raft (etcd's InternalRaftRequest auth fields) and
// what applying one answers. Every auth RPC but AuthStatus is an entry, as in etcd 3.4,
// so reads of the auth state (user get, role list, …) are linearizable too. Passwords
// never travel: a proposer hashes them first, and Authenticate checks the password on
// the member it reaches and proposes only the token's creation.

import type { Key } from '../mvcc/keys.js';
import type { Permission } from './rangePermissions.js';

export type AuthRequest =
  | { readonly op: 'authEnable' }
  | { readonly op: 'authDisable' }
  /** `simplePrefix`: the 16 letters the proposer drew ('' for JWT). */
  | { readonly op: 'authenticate'; readonly name: string; readonly simplePrefix: string }
  | { readonly op: 'userAdd'; readonly name: string; readonly passwordHash: string; readonly noPassword: boolean }
  | { readonly op: 'userGet'; readonly name: string }
  | { readonly op: 'userList' }
  | { readonly op: 'userDelete'; readonly name: string }
  | { readonly op: 'userChangePassword'; readonly name: string; readonly passwordHash: string }
  | { readonly op: 'userGrantRole'; readonly user: string; readonly role: string }
  | { readonly op: 'userRevokeRole'; readonly name: string; readonly role: string }
  | { readonly op: 'roleAdd'; readonly name: string }
  | { readonly op: 'roleGet'; readonly role: string }
  | { readonly op: 'roleList' }
  | { readonly op: 'roleDelete'; readonly role: string }
  | { readonly op: 'roleGrantPermission'; readonly name: string; readonly perm: Permission | null }
  | { readonly op: 'roleRevokePermission'; readonly role: string; readonly key: Key; readonly rangeEnd: Key };

export type AuthOp = AuthRequest['op'];

/** What an applied auth request answers beside its header: at most one of these fields. */
export interface AuthAnswer {
  readonly token?: string;
  readonly roles?: readonly string[];
  readonly users?: readonly string[];
  readonly perm?: readonly Permission[];
}

/**
 * etcd's needAdminPermission: the requests only a holder of role root may make while auth
 * is on. Authenticate is open; UserGet and RoleGet are also open to the user itself and
 * to holders of the role (checked in the applier).
 */
export const ADMIN_ONLY: ReadonlySet<AuthOp> = new Set<AuthOp>([
  'authEnable', 'authDisable', 'userAdd', 'userDelete', 'userChangePassword', 'userGrantRole', 'userRevokeRole',
  'roleAdd', 'roleGrantPermission', 'roleRevokePermission', 'roleDelete', 'userList', 'roleList',
]);
