// etcd's Auth service as etcd 3.4 answers it while authentication is disabled and no
// user or role exists — which is all Tern has so far: there is no auth store yet.
// Listing answers empty lists; naming a user or role answers "not found"; Authenticate
// answers "authentication is not enabled" (clientv3 then carries on without a token,
// as it does with etcd); enabling auth needs a root user, which cannot exist.
//
// The seam for real auth: an `AuthStore` replicated through Raft (users, roles,
// permissions, enabled flag, revision) would replace `DISABLED_EMPTY` below, and the
// other services would check the `token` metadata against it.

import * as grpc from '@grpc/grpc-js';
import { etcdError, type EtcdError } from '../../core/errors.js';
import type { Wire } from '../wire/message.js';
import { grpcError } from '../wire/status.js';
import { immediate, wireHeader, type ServiceContext, type UnaryHandler } from './context.js';

/** What a read-only view of the auth state answers (the future auth store's queries). */
interface AuthView {
  readonly enabled: boolean;
  userExists(name: string): boolean;
  roleExists(name: string): boolean;
  users(): string[];
  roles(): string[];
}

const DISABLED_EMPTY: AuthView = {
  enabled: false,
  userExists: () => false,
  roleExists: () => false,
  users: () => [],
  roles: () => [],
};

export function authHandlers(context: ServiceContext, view: AuthView = DISABLED_EMPTY): grpc.UntypedServiceImplementation {
  const ok = (): Wire => ({ header: wireHeader(context, context.server.header()) });
  const str = (w: Wire, field: string): string => (typeof w[field] === 'string' ? w[field] : '');
  const needUser = (field: string, then: (w: Wire) => Wire | EtcdError) => immediate((w) =>
    (view.userExists(str(w, field)) ? then(w) : etcdError('userNotFound')));
  const needRole = (field: string, then: (w: Wire) => Wire | EtcdError) => immediate((w) =>
    (view.roleExists(str(w, field)) ? then(w) : etcdError('roleNotFound')));
  // Creating users and roles needs the replicated auth store Tern does not have yet.
  const named = (field: string, empty: 'userEmpty' | 'roleEmpty'): UnaryHandler => (rpc, callback) => {
    if (str(rpc.request, field) === '') callback(grpcError(etcdError(empty)));
    else callback({ code: grpc.status.UNIMPLEMENTED, details: 'tern: users and roles are not supported yet' });
  };

  return {
    AuthEnable: immediate(() => (view.userExists('root') ? ok() : etcdError('rootUserNotExist'))),
    // Disabling when already disabled succeeds (etcd: "Authentication Disabled").
    AuthDisable: immediate(ok),
    Authenticate: immediate(() => etcdError('authNotEnabled')),
    UserAdd: named('name', 'userEmpty'),
    UserGet: needUser('name', () => ({ ...ok(), roles: [] })),
    UserList: immediate(() => ({ ...ok(), users: view.users() })),
    UserDelete: needUser('name', ok),
    UserChangePassword: needUser('name', ok),
    UserGrantRole: needUser('user', ok),
    UserRevokeRole: needUser('name', ok),
    RoleAdd: named('name', 'roleEmpty'),
    RoleGet: needRole('role', () => ({ ...ok(), perm: [] })),
    RoleList: immediate(() => ({ ...ok(), roles: view.roles() })),
    RoleDelete: needRole('role', ok),
    RoleGrantPermission: needRole('name', ok),
    RoleRevokePermission: needRole('role', ok),
  };
}
