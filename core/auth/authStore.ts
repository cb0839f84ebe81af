// The replicated auth state (etcd 3.4's auth/store.go): users, roles with key-range
// permissions, whether auth is enabled, and the auth revision. Every operation is applied
// from a Raft entry, so each is a deterministic function of the state and the request:
// no clock, no randomness, no hashing here. Password hashes (bcrypt) are computed before
// proposing and arrive as opaque strings; checking a password is also done outside.
//
// Semantics and error order are etcd 3.4.23's, as observed on the real binary:
//   - the revision starts at 1 and every successful change bumps it by one, except
//     AuthEnable (etcd reloads it there, it does not commit a new one) and a grant of a
//     role the user already holds (a no-op, answered with success);
//   - a failed operation changes nothing, the revision included;
//   - role `root` need not exist: granting it is allowed, and AuthEnable only requires
//     the user `root` to hold it;
//   - while auth is on, deleting user root, revoking role root from root, or deleting
//     role root is "invalid auth management" (checked before existence);
//   - permissions are kept sorted by key (stable: equal keys keep grant order); a grant
//     updates the type in place only when the *first* permission with that key has the
//     same range_end, otherwise it appends (so etcd can hold duplicates; a revoke then
//     removes every copy). etcd sorts with Go's sort.Sort, stable for fewer than 13
//     permissions per role; beyond that etcd's order of equal keys may differ.
//   - etcd 3.4 crashes on a grant without a permission (nil dereference, and again on
//     replay); Tern answers etcd 3.5's "permission not given" instead.

import { etcdError, type EtcdError } from '../errors.js';
import type { Key } from '../mvcc/keys.js';
import { invariant } from '../util/invariant.js';
import { userPermissions, type Permission, type UserPermissions } from './rangePermissions.js';

export const ROOT_USER = 'root';
export const ROOT_ROLE = 'root';

/** authpb.User. `passwordHash` is the bcrypt hash, '' when the user has none. */
export interface AuthUser {
  readonly name: string;
  readonly passwordHash: string;
  /** Sorted (etcd's sort.Strings: byte order), no duplicates. */
  readonly roles: readonly string[];
  readonly noPassword: boolean;
}

/** authpb.Role. */
export interface AuthRole {
  readonly name: string;
  /** Sorted by key, stably (see the header). */
  readonly permissions: readonly Permission[];
}

/** The whole replicated state, as the image carries it. */
export interface AuthState {
  readonly enabled: boolean;
  /**
   * Whether auth was ever enabled (etcd then keeps `authEnabled` = 0 in its auth bucket
   * after AuthDisable, where a never-enabled store has no such key). Absent: `enabled`.
   */
  readonly everEnabled?: boolean;
  readonly revision: number;
  readonly users: readonly AuthUser[];
  readonly roles: readonly AuthRole[];
}

export interface AuthOk { readonly kind: 'authOk' }
const OK: AuthOk = { kind: 'authOk' };

/**
 * Names compare as etcd compares them: by UTF-8 bytes, which is code point order. That
 * differs from JavaScript's code unit order only between a surrogate (U+D800–DFFF, half
 * of a code point above U+FFFF) and U+E000–FFFF, so only that case is corrected.
 */
export function compareNames(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 || y < 0xd800) return x - y;
    const lift = (c: number): number => (c >= 0xe000 ? c - 0x800 : c + 0x2000);
    return lift(x) - lift(y);
  }
  return a.length - b.length;
}

function sortedNames(names: Iterable<string>): string[] {
  return [...names].sort(compareNames);
}

/** Inserts a permission after every one whose key is ≤ its key (a stable sort by key). */
function insertByKey(perms: readonly Permission[], perm: Permission): Permission[] {
  let at = perms.length;
  while (at > 0 && (perms[at - 1]?.key ?? '') > perm.key) at--;
  return [...perms.slice(0, at), perm, ...perms.slice(at)];
}

/** A record's answer, or `missing` when there is no record. */
function found<T, R>(record: T | undefined, missing: 'userNotFound' | 'roleNotFound', answer: (record: T) => R): R | EtcdError {
  return record === undefined ? etcdError(missing) : answer(record);
}

export class AuthStore {
  private readonly users = new Map<string, AuthUser>();
  private readonly roles = new Map<string, AuthRole>();
  private enabled = false;
  private everEnabled = false;
  private revision = 1;
  /** etcd's rangePermCache: merged intervals per user, dropped on every change. */
  private readonly mergedCache = new Map<string, UserPermissions>();

  constructor(image?: AuthState) {
    if (image === undefined) return;
    invariant(image.revision >= 1, () => `auth revision ${image.revision} must be at least 1`);
    this.enabled = image.enabled;
    this.everEnabled = image.everEnabled ?? image.enabled;
    this.revision = image.revision;
    for (const user of image.users) this.users.set(user.name, user);
    for (const role of image.roles) this.roles.set(role.name, role);
  }

  // ---------------------------------------------------------------- reads (no change)

  isEnabled(): boolean { return this.enabled; }
  authRevision(): number { return this.revision; }
  user(name: string): AuthUser | undefined { return this.users.get(name); }
  role(name: string): AuthRole | undefined { return this.roles.get(name); }

  /** The whole state in a deterministic order (users and roles by name). */
  state(): AuthState {
    return {
      enabled: this.enabled,
      everEnabled: this.everEnabled,
      revision: this.revision,
      users: sortedNames(this.users.keys()).map((n) => this.users.get(n)).filter((u) => u !== undefined),
      roles: sortedNames(this.roles.keys()).map((n) => this.roles.get(n)).filter((r) => r !== undefined),
    };
  }

  /** A user's permission trees (cached until the next change); undefined: no such user. */
  mergedPermissions(name: string): UserPermissions | undefined {
    const cached = this.mergedCache.get(name);
    if (cached !== undefined) return cached;
    const user = this.users.get(name);
    if (user === undefined) return undefined;
    const perms = user.roles.flatMap((r) => this.roles.get(r)?.permissions ?? []);
    // etcd's order: the user's roles as stored (sorted), each role's permissions as stored (by key).
    const merged = userPermissions(perms);
    this.mergedCache.set(name, merged);
    return merged;
  }

  // ---------------------------------------------------------------- auth on / off

  authEnable(): AuthOk | EtcdError {
    if (this.enabled) return OK;
    const root = this.users.get(ROOT_USER);
    if (root === undefined) return etcdError('rootUserNotExist');
    if (!root.roles.includes(ROOT_ROLE)) return etcdError('rootRoleNotExist');
    this.enabled = true;
    this.everEnabled = true;
    this.mergedCache.clear();
    return OK;
  }

  authDisable(): AuthOk {
    if (!this.enabled) return OK;
    this.enabled = false;
    this.commit();
    return OK;
  }

  authStatus(): { readonly enabled: boolean; readonly authRevision: number } {
    return { enabled: this.enabled, authRevision: this.revision };
  }

  // ---------------------------------------------------------------- users

  userAdd(request: { readonly name: string; readonly passwordHash: string; readonly noPassword: boolean }): AuthOk | EtcdError {
    if (request.name === '') return etcdError('userEmpty');
    if (this.users.has(request.name)) return etcdError('userAlreadyExist');
    const passwordHash = request.noPassword ? '' : request.passwordHash;
    this.putUser({ name: request.name, passwordHash, roles: [], noPassword: request.noPassword });
    return OK;
  }

  userList(): { readonly users: readonly string[] } { return { users: sortedNames(this.users.keys()) }; }

  userGet(name: string): { readonly roles: readonly string[] } | EtcdError {
    return found(this.users.get(name), 'userNotFound', (user) => ({ roles: user.roles }));
  }

  /** Keeps the user's roles and its no_password option (etcd 3.4 does). */
  userChangePassword(request: { readonly name: string; readonly passwordHash: string }): AuthOk | EtcdError {
    const user = this.users.get(request.name);
    if (user === undefined) return etcdError('userNotFound');
    this.putUser({ ...user, passwordHash: request.passwordHash });
    return OK;
  }

  userDelete(name: string): AuthOk | EtcdError {
    if (this.enabled && name === ROOT_USER) return etcdError('invalidAuthMgmt');
    if (!this.users.delete(name)) return etcdError('userNotFound');
    this.commit();
    return OK;
  }

  userGrantRole(request: { readonly user: string; readonly role: string }): AuthOk | EtcdError {
    const user = this.users.get(request.user);
    if (user === undefined) return etcdError('userNotFound');
    if (request.role !== ROOT_ROLE && !this.roles.has(request.role)) return etcdError('roleNotFound');
    if (user.roles.includes(request.role)) return OK;
    this.putUser({ ...user, roles: sortedNames([...user.roles, request.role]) });
    return OK;
  }

  userRevokeRole(request: { readonly name: string; readonly role: string }): AuthOk | EtcdError {
    if (this.enabled && request.name === ROOT_USER && request.role === ROOT_ROLE) return etcdError('invalidAuthMgmt');
    const user = this.users.get(request.name);
    if (user === undefined) return etcdError('userNotFound');
    if (!user.roles.includes(request.role)) return etcdError('roleNotGranted');
    this.putUser({ ...user, roles: user.roles.filter((r) => r !== request.role) });
    return OK;
  }

  // ---------------------------------------------------------------- roles

  roleAdd(name: string): AuthOk | EtcdError {
    if (name === '') return etcdError('roleEmpty');
    if (this.roles.has(name)) return etcdError('roleAlreadyExist');
    this.putRole({ name, permissions: [] });
    return OK;
  }

  roleGet(name: string): { readonly perm: readonly Permission[] } | EtcdError {
    return found(this.roles.get(name), 'roleNotFound', (role) => ({ perm: role.permissions }));
  }

  roleList(): { readonly roles: readonly string[] } { return { roles: sortedNames(this.roles.keys()) }; }

  /** Also revokes the role from every user holding it, in the same revision. */
  roleDelete(name: string): AuthOk | EtcdError {
    if (this.enabled && name === ROOT_ROLE) return etcdError('invalidAuthMgmt');
    if (!this.roles.delete(name)) return etcdError('roleNotFound');
    for (const user of [...this.users.values()]) {
      if (user.roles.includes(name)) this.users.set(user.name, { ...user, roles: user.roles.filter((r) => r !== name) });
    }
    this.commit();
    return OK;
  }

  roleGrantPermission(request: { readonly name: string; readonly perm: Permission | null }): AuthOk | EtcdError {
    const role = this.roles.get(request.name);
    if (role === undefined) return etcdError('roleNotFound');
    const perm = request.perm;
    if (perm === null) return etcdError('permissionNotGiven');
    // etcd: sort.Search for the first permission with key ≥ perm.key, compared once.
    const first = role.permissions.findIndex((p) => p.key >= perm.key);
    const found = first === -1 ? undefined : role.permissions[first];
    const permissions = found !== undefined && found.key === perm.key && found.rangeEnd === perm.rangeEnd
      ? role.permissions.map((p, i) => (i === first ? { ...p, permType: perm.permType } : p))
      : insertByKey(role.permissions, { permType: perm.permType, key: perm.key, rangeEnd: perm.rangeEnd });
    this.putRole({ name: role.name, permissions });
    return OK;
  }

  /** Removes every permission with exactly this key and range_end. */
  roleRevokePermission(request: { readonly role: string; readonly key: Key; readonly rangeEnd: Key }): AuthOk | EtcdError {
    const role = this.roles.get(request.role);
    if (role === undefined) return etcdError('roleNotFound');
    const kept = role.permissions.filter((p) => p.key !== request.key || p.rangeEnd !== request.rangeEnd);
    if (kept.length === role.permissions.length) return etcdError('permissionNotGranted');
    this.putRole({ name: role.name, permissions: kept });
    return OK;
  }

  // ---------------------------------------------------------------- internals

  private putUser(user: AuthUser): void {
    invariant(user.name !== '', 'a stored user has a name');
    this.users.set(user.name, user);
    this.commit();
  }

  private putRole(role: AuthRole): void {
    invariant(role.name !== '', 'a stored role has a name');
    this.roles.set(role.name, role);
    this.commit();
  }

  /** etcd's commitRevision: one bump per successful change; permissions recomputed lazily. */
  private commit(): void {
    this.revision += 1;
    this.mergedCache.clear();
  }
}
