// The checks etcd 3.4 makes before serving a request with auth on (auth/store.go:
// isOpPermitted, IsAdminPermitted), over the AuthStore's state as of the apply.

import { etcdError, type EtcdError } from '../errors.js';
import type { Key } from '../mvcc/keys.js';
import { ROOT_ROLE, type AuthStore } from './authStore.js';
import { permits } from './rangePermissions.js';

/** Who a request comes from: the token's user and the auth revision it was checked at. */
export interface AuthInfo {
  readonly user: string;
  /** 0: no token (etcd's empty AuthInfo). */
  readonly revision: number;
}

export interface RangeCheck {
  readonly user: string;
  readonly key: Key;
  /** '' one key, '\0' every key ≥ key, otherwise [key, rangeEnd). */
  readonly rangeEnd: Key;
  readonly type: 'READ' | 'WRITE';
}

/**
 * Whether `user` may read/write the whole of (key, rangeEnd): always with auth off or for
 * a holder of role root; never for an unknown user; otherwise as etcd's range
 * permission cache decides over the user's intervals of that type (rangePermissions.ts).
 */
export function isRangePermitted(store: AuthStore, check: RangeCheck): boolean {
  if (!store.isEnabled()) return true;
  const user = store.user(check.user);
  if (user === undefined) return false;
  if (user.roles.includes(ROOT_ROLE)) return true;
  const merged = store.mergedPermissions(check.user);
  if (merged === undefined) return false;
  return permits(check.type === 'READ' ? merged.read : merged.write, check.key, check.rangeEnd);
}

/** etcd's isOpPermitted: null when allowed, else the error the client gets, in etcd's order. */
export function checkOpPermitted(
  store: AuthStore,
  request: { readonly info: AuthInfo; readonly key: Key; readonly rangeEnd: Key; readonly type: 'READ' | 'WRITE' },
): EtcdError | null {
  if (!store.isEnabled()) return null;
  if (request.info.revision === 0) return etcdError('userEmpty');
  if (request.info.revision < store.authRevision()) return etcdError('authOldRevision');
  const allowed = isRangePermitted(store, {
    user: request.info.user, key: request.key, rangeEnd: request.rangeEnd, type: request.type,
  });
  return allowed ? null : etcdError('permissionDenied');
}

/** etcd's IsAdminPermitted (auth admin RPCs, member and maintenance admin calls). */
export function checkAdminPermitted(store: AuthStore, info: AuthInfo | null): EtcdError | null {
  if (!store.isEnabled()) return null;
  if (info === null || info.user === '') return etcdError('userEmpty');
  const user = store.user(info.user);
  if (user === undefined) return etcdError('userNotFound');
  return user.roles.includes(ROOT_ROLE) ? null : etcdError('permissionDenied');
}
