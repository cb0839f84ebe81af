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
import { etcdError } from '../../core/errors.js';
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

/**
 * The calls on one existing user or role: the request field that names it (etcd's
 * field names differ from call to call) and what the answer holds beside its header.
 */
type OnExisting = Readonly<Record<string, readonly [field: string, answer: Wire]>>;

const ON_USER: OnExisting = {
  UserGet: ['name', { roles: [] }],
  UserDelete: ['name', {}],
  UserChangePassword: ['name', {}],
  UserGrantRole: ['user', {}],
  UserRevokeRole: ['name', {}],
};

const ON_ROLE: OnExisting = {
  RoleGet: ['role', { perm: [] }],
  RoleDelete: ['role', {}],
  RoleGrantPermission: ['name', {}],
  RoleRevokePermission: ['role', {}],
};

export function authHandlers(context: ServiceContext, view: AuthView = DISABLED_EMPTY): grpc.UntypedServiceImplementation {
  const ok = (): Wire => ({ header: wireHeader(context, context.server.header()) });
  const str = (w: Wire, field: string): string => (typeof w[field] === 'string' ? w[field] : '');
  /** `calls`' handlers: each answers if the user or role it names exists, else `missing`. */
  const onExisting = (calls: OnExisting, exists: (name: string) => boolean, missing: 'userNotFound' | 'roleNotFound') =>
    Object.fromEntries(Object.entries(calls).map(([method, [field, answer]]) =>
      [method, immediate((w) => (exists(str(w, field)) ? { ...ok(), ...answer } : etcdError(missing)))]));
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
    UserList: immediate(() => ({ ...ok(), users: view.users() })),
    ...onExisting(ON_USER, (name) => view.userExists(name), 'userNotFound'),
    RoleAdd: named('name', 'roleEmpty'),
    RoleList: immediate(() => ({ ...ok(), roles: view.roles() })),
    ...onExisting(ON_ROLE, (name) => view.roleExists(name), 'roleNotFound'),
  };
}
