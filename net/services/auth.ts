// etcd's Auth service over the core's replicated auth store (core/auth, core/server/
// authApi.ts). Passwords are hashed with bcrypt here, before the change is proposed, and
// compared here for Authenticate; the core only ever sees hashes.

import * as grpc from '@grpc/grpc-js';
import { etcdError, isEtcdError, type EtcdError } from '../../core/errors.js';
import type { AuthAnswer, AuthRequest } from '../../core/auth/authRequests.js';
import type { Permission, PermType } from '../../core/auth/rangePermissions.js';
import { fromKey, toKey } from '../../core/mvcc/keys.js';
import type { Reply, ResponseHeader } from '../../core/server/server.js';
import type { Passwords } from '../auth/passwords.js';
import { bool, bytes, sub, text, type Wire } from '../wire/message.js';
import { grpcError } from '../wire/status.js';
import { credentialsOf, wireHeader, type ServiceContext, type UnaryHandler } from './context.js';

const PERM_TYPES: Readonly<Record<string, PermType>> = { READ: 'READ', WRITE: 'WRITE', READWRITE: 'READWRITE' };

/** The request each proposed call makes of its wire request (passwords already hashed). */
type Translate = (w: Wire, hashed: string) => AuthRequest;

export const AUTH_CALLS: Readonly<Record<string, Translate>> = {
  AuthEnable: () => ({ op: 'authEnable' }),
  AuthDisable: () => ({ op: 'authDisable' }),
  UserAdd: (w, hashed) => ({ op: 'userAdd', name: text(w['name']), passwordHash: hashed, noPassword: noPassword(w) }),
  UserGet: (w) => ({ op: 'userGet', name: text(w['name']) }),
  UserList: () => ({ op: 'userList' }),
  UserDelete: (w) => ({ op: 'userDelete', name: text(w['name']) }),
  UserChangePassword: (w, hashed) => ({ op: 'userChangePassword', name: text(w['name']), passwordHash: hashed }),
  UserGrantRole: (w) => ({ op: 'userGrantRole', user: text(w['user']), role: text(w['role']) }),
  UserRevokeRole: (w) => ({ op: 'userRevokeRole', name: text(w['name']), role: text(w['role']) }),
  RoleAdd: (w) => ({ op: 'roleAdd', name: text(w['name']) }),
  RoleGet: (w) => ({ op: 'roleGet', role: text(w['role']) }),
  RoleList: () => ({ op: 'roleList' }),
  RoleDelete: (w) => ({ op: 'roleDelete', role: text(w['role']) }),
  RoleGrantPermission: (w) => ({ op: 'roleGrantPermission', name: text(w['name']), perm: permission(w['perm']) }),
  RoleRevokePermission: (w) => ({
    op: 'roleRevokePermission', role: text(w['role']), key: toKey(bytes(w['key'])), rangeEnd: toKey(bytes(w['range_end'])),
  }),
};

function noPassword(w: Wire): boolean {
  return w['options'] !== null && w['options'] !== undefined && bool(sub(w['options'])['no_password']);
}

function permission(value: unknown): Permission | null {
  if (value === null || value === undefined) return null;
  const w = sub(value);
  return { permType: PERM_TYPES[text(w['permType'])] ?? 'READ', key: toKey(bytes(w['key'])), rangeEnd: toKey(bytes(w['range_end'])) };
}

/** Which calls carry a password to hash before proposing (none for a no-password user). */
export function passwordToHash(method: string, w: Wire): string | null {
  if (method === 'UserChangePassword') return text(w['password']);
  if (method === 'UserAdd' && !noPassword(w)) return text(w['password']);
  return null;
}

export function authHandlers(context: ServiceContext, passwords: Passwords): grpc.UntypedServiceImplementation {
  const { server } = context;
  const answer = (callback: grpc.sendUnaryData<Wire>): Reply<AuthAnswer> => (result) => {
    if (isEtcdError(result)) callback(grpcError(result));
    else callback(null, wireAnswer(wireHeader(context, result.header), result));
  };
  const proposed = (method: string, translate: Translate): UnaryHandler => (rpc, callback) => {
    const credentials = credentialsOf(context, rpc);
    const password = passwordToHash(method, rpc.request);
    if (password === null) {
      server.authApi.request(translate(rpc.request, ''), credentials, answer(callback));
      return;
    }
    // An empty name is refused before spending a bcrypt hash on it.
    if (method === 'UserAdd' && text(rpc.request['name']) === '') {
      callback(grpcError(etcdError('userEmpty')));
      return;
    }
    passwords.hash(password).then(
      (hashed) => { server.authApi.request(translate(rpc.request, hashed), credentials, answer(callback)); },
      (error: unknown) => { callback({ code: grpc.status.INTERNAL, details: `tern: hashing the password failed: ${String(error)}` }); },
    );
  };
  return {
    ...Object.fromEntries(Object.entries(AUTH_CALLS).map(([method, translate]) => [method, proposed(method, translate)])),
    Authenticate: authenticate(context, passwords),
  };
}

function authenticate(context: ServiceContext, passwords: Passwords): UnaryHandler {
  return (rpc, callback) => {
    const password = text(rpc.request['password']);
    const check = (hash: string, verdict: (matches: boolean) => void): void => {
      passwords.matches(password, hash).then(verdict, () => { verdict(false); });
    };
    context.server.authApi.authenticate(text(rpc.request['name']), check, (result: ({ header: ResponseHeader; token: string }) | EtcdError) => {
      if (isEtcdError(result)) callback(grpcError(result));
      else callback(null, { header: wireHeader(context, result.header), token: result.token });
    });
  };
}

function wireAnswer(header: Wire, a: AuthAnswer): Wire {
  const perm = a.perm?.map((p) => ({ permType: p.permType, key: Buffer.from(fromKey(p.key)), range_end: Buffer.from(fromKey(p.rangeEnd)) }));
  return {
    header,
    ...(a.roles === undefined ? {} : { roles: [...a.roles] }),
    ...(a.users === undefined ? {} : { users: [...a.users] }),
    ...(perm === undefined ? {} : { perm }),
  };
}

