// Applies one committed auth request to the auth store (etcd 3.4's authApplierV3.Apply
// and applierV3backend's auth calls): the admin check first, then the store's change,
// then the token side effects. Deterministic given the store, the request, the
// proposer's auth info and the entry's index; only token TTLs read the member's clock.

import { etcdError, isEtcdError, type EtcdError } from '../errors.js';
import { ADMIN_ONLY, type AuthAnswer, type AuthRequest } from './authRequests.js';
import type { AuthOk, AuthStore } from './authStore.js';
import { checkAdminPermitted, type AuthInfo } from './permissionCheck.js';
import type { TokenProvider } from './tokens.js';

export interface AuthApplyContext {
  readonly index: number;
  readonly nowMs: number;
  /** Where tokens are made and dropped; null while replaying entries a restart already applied. */
  readonly tokens: TokenProvider | null;
}

export function applyAuth(store: AuthStore, request: AuthRequest, info: AuthInfo | null, context: AuthApplyContext): AuthAnswer | EtcdError {
  const refused = ADMIN_ONLY.has(request.op) ? checkAdminPermitted(store, info) : null;
  if (refused !== null) return refused;
  switch (request.op) {
    case 'authEnable': return done(store.authEnable());
    case 'authDisable':
      context.tokens?.disable();
      return done(store.authDisable());
    case 'authenticate': return authenticate(store, request, context);
    case 'userAdd': return done(store.userAdd(request));
    case 'userGet': return selfOrAdmin(store, info, request.name === info?.user, () => store.userGet(request.name));
    case 'userList': return store.userList();
    case 'userDelete': return invalidating(store.userDelete(request.name), request.name, context);
    case 'userChangePassword': return invalidating(store.userChangePassword(request), request.name, context);
    case 'userGrantRole': return done(store.userGrantRole(request));
    case 'userRevokeRole': return done(store.userRevokeRole(request));
    case 'roleAdd': return done(store.roleAdd(request.name));
    case 'roleGet': {
      const holds = info !== null && (store.user(info.user)?.roles.includes(request.role) ?? false);
      return selfOrAdmin(store, info, holds, () => store.roleGet(request.role));
    }
    case 'roleList': return store.roleList();
    case 'roleDelete': return done(store.roleDelete(request.role));
    case 'roleGrantPermission': return done(store.roleGrantPermission(request));
    case 'roleRevokePermission': return done(store.roleRevokePermission(request));
  }
}

const EMPTY: AuthAnswer = {};

function done(result: AuthOk | EtcdError): AuthAnswer | EtcdError {
  return isEtcdError(result) ? result : EMPTY;
}

/** etcd's authStore.Authenticate: the password was checked by the proposer already. */
function authenticate(
  store: AuthStore, request: AuthRequest & { readonly op: 'authenticate' }, context: AuthApplyContext,
): AuthAnswer | EtcdError {
  if (!store.isEnabled()) return etcdError('authNotEnabled');
  const user = store.user(request.name);
  if (user === undefined || user.noPassword) return etcdError('authFailed');
  if (context.tokens === null) return EMPTY;
  const token = context.tokens.assign({
    user: user.name, authRevision: store.authRevision(), index: context.index, simplePrefix: request.simplePrefix, nowMs: context.nowMs,
  });
  return typeof token === 'string' ? { token } : token;
}

/** UserGet / RoleGet: an admin, or the user itself / a holder of the role (etcd's authApplierV3). */
function selfOrAdmin(
  store: AuthStore, info: AuthInfo | null, itself: boolean, read: () => AuthAnswer | EtcdError,
): AuthAnswer | EtcdError {
  const refused = checkAdminPermitted(store, info);
  return refused !== null && !itself ? refused : read();
}

/** A deleted user's or a changed password's simple tokens stop working (etcd's invalidateUser). */
function invalidating(result: AuthOk | EtcdError, user: string, context: AuthApplyContext): AuthAnswer | EtcdError {
  if (!isEtcdError(result)) context.tokens?.invalidateUser(user);
  return done(result);
}
