// The auth state as bytes, for the snapshot image: a version byte, then the binary
// codec's encoding of the state in a fixed order (users and roles by name, each role's
// permissions in their stored order, which is meaningful). Equal states give equal
// bytes, so images can be compared and hashed.

import { decodeValue, encodeValue } from '../server/binaryCodec.js';
import type { AuthRole, AuthState, AuthUser } from './authStore.js';
import type { Permission, PermType } from './rangePermissions.js';
import { compareNames } from './authStore.js';

const IMAGE_VERSION = 1;
const PERM_TYPES: readonly PermType[] = ['READ', 'WRITE', 'READWRITE'];

/** Thrown for bytes that are not an auth image of this version. */
export class AuthImageError extends Error {}

type Encoded = readonly unknown[];

export function encodeAuthImage(state: AuthState): Uint8Array {
  const users = [...state.users].sort((a, b) => compareNames(a.name, b.name));
  const roles = [...state.roles].sort((a, b) => compareNames(a.name, b.name));
  return encodeValue([
    state.enabled, state.revision,
    users.map((u) => [u.name, u.passwordHash, [...u.roles], u.noPassword]),
    roles.map((r) => [r.name, r.permissions.map((p) => [PERM_TYPES.indexOf(p.permType), p.key, p.rangeEnd])]),
    state.everEnabled ?? state.enabled,
  ], [IMAGE_VERSION]);
}

export function decodeAuthImage(bytes: Uint8Array): AuthState {
  if (bytes[0] !== IMAGE_VERSION) throw new AuthImageError(`auth image version ${String(bytes[0])} is not ${IMAGE_VERSION}`);
  // Four fields in the first images of this version; the fifth (everEnabled) came after.
  const fields = list(decodeValue(bytes, 1));
  const [enabled, revision, users, roles, everEnabled] = fields.length === 4 ? fields : tuple(fields, 5);
  if (typeof enabled !== 'boolean' || typeof revision !== 'number') throw new AuthImageError('bad auth image header');
  const ever = everEnabled === undefined ? enabled : everEnabled;
  if (typeof ever !== 'boolean') throw new AuthImageError('bad auth image header');
  return { enabled, everEnabled: ever, revision, users: list(users).map(decodeUser), roles: list(roles).map(decodeRole) };
}

function decodeUser(value: unknown): AuthUser {
  const [name, passwordHash, roles, noPassword] = tuple(value, 4);
  const roleNames = list(roles);
  if (typeof name !== 'string' || typeof passwordHash !== 'string' || typeof noPassword !== 'boolean'
    || !roleNames.every((r) => typeof r === 'string')) throw new AuthImageError('bad user in auth image');
  return { name, passwordHash, roles: roleNames, noPassword };
}

function decodeRole(value: unknown): AuthRole {
  const [name, perms] = tuple(value, 2);
  if (typeof name !== 'string') throw new AuthImageError('bad role in auth image');
  return { name, permissions: list(perms).map(decodePermission) };
}

function decodePermission(value: unknown): Permission {
  const [type, key, rangeEnd] = tuple(value, 3);
  const permType = typeof type === 'number' ? PERM_TYPES[type] : undefined;
  if (permType === undefined || typeof key !== 'string' || typeof rangeEnd !== 'string') {
    throw new AuthImageError('bad permission in auth image');
  }
  return { permType, key, rangeEnd };
}

function list(value: unknown): Encoded {
  if (!Array.isArray(value)) throw new AuthImageError('auth image: expected a list');
  return value as Encoded;
}

function tuple(value: unknown, length: number): Encoded {
  const items = list(value);
  if (items.length !== length) throw new AuthImageError(`auth image: expected ${length} fields, got ${items.length}`);
  return items;
}
