// The auth state as etcd 3.4's backend holds it (auth/store.go), for the snapshot image:
//   auth       authRevision → 8-byte big-endian; authEnabled → one byte, 1 or 0
//   authUsers  name → authpb.User {name 1, password 2 (the bcrypt hash), roles 3, options 4}
//   authRoles  name → authpb.Role {name 1, keyPermission 2: {permType 1, key 2, range_end 3}}
// gogoproto's proto3 rules: empty bytes and zero enums are left out, but a user's options
// message is always written (etcd 3.4's UserAdd always sets it: `22 00`, or `22 02 08 01`
// for no_password). Checked byte for byte against etcd 3.4.23's own snapshot files.
//
// etcd writes authEnabled only at AuthEnable (1) and AuthDisable (0); a member on which
// auth was never enabled has authRevision alone; once enabled, `authEnabled` stays, as 0
// after AuthDisable (AuthState's everEnabled).

import { fromKey, toKey } from '../../core/mvcc/keys.js';
import { compareNames, type AuthRole, type AuthState, type AuthUser } from '../../core/auth/authStore.js';
import type { Permission, PermType } from '../../core/auth/rangePermissions.js';
import { utf8KeepingBom } from '../../core/util/utf8.js';
import type { KeyValues } from './bbolt.js';
import { protoFields, type ProtoField } from './protoReader.js';
import { bytesField, intField, messageField, u64Bytes } from './records.js';

export const AUTH_BUCKET = 'auth';
export const AUTH_USERS_BUCKET = 'authUsers';
export const AUTH_ROLES_BUCKET = 'authRoles';
const ENABLED_KEY = 'authEnabled';
const REVISION_KEY = 'authRevision';

/** authpb.Permission.Type: the enum value is the index. */
const PERM_TYPES: readonly PermType[] = ['READ', 'WRITE', 'READWRITE'];

/** Thrown for auth buckets that do not hold etcd 3.4's records. */
export class AuthBucketsError extends Error {}

/** The three auth buckets for `state`. */
export function authBuckets(state: AuthState): Map<string, KeyValues> {
  const auth: [Uint8Array, Uint8Array][] = [[utf8(REVISION_KEY), u64Bytes(state.revision)]];
  if (state.enabled || (state.everEnabled ?? false)) auth.push([utf8(ENABLED_KEY), Uint8Array.of(state.enabled ? 1 : 0)]);
  return new Map<string, KeyValues>([
    [AUTH_BUCKET, auth],
    [AUTH_USERS_BUCKET, state.users.map((u) => [utf8(u.name), marshalUser(u)] as const)],
    [AUTH_ROLES_BUCKET, state.roles.map((r) => [utf8(r.name), marshalRole(r)] as const)],
  ]);
}

function marshalUser(user: AuthUser): Uint8Array {
  const out: number[] = [];
  bytesField(out, 1, utf8(user.name));
  bytesField(out, 2, utf8(user.passwordHash));
  for (const role of user.roles) messageField(out, 3, utf8(role)); // repeated: an empty string is still written
  const options: number[] = [];
  intField(options, 1, user.noPassword ? 1 : 0);
  messageField(out, 4, Uint8Array.from(options));
  return Uint8Array.from(out);
}

function marshalRole(role: AuthRole): Uint8Array {
  const out: number[] = [];
  bytesField(out, 1, utf8(role.name));
  for (const perm of role.permissions) {
    const fields: number[] = [];
    intField(fields, 1, PERM_TYPES.indexOf(perm.permType));
    bytesField(fields, 2, fromKey(perm.key));
    bytesField(fields, 3, fromKey(perm.rangeEnd));
    messageField(out, 2, Uint8Array.from(fields));
  }
  return Uint8Array.from(out);
}

/**
 * The auth state the three buckets hold, as etcd reads it on start: enabled only if
 * authEnabled is exactly 1; a missing or zero revision becomes 1 (etcd commits revision
 * 1 when it finds none); a missing bucket is empty. Users and roles in name order.
 */
export function readAuthBuckets(buckets: ReadonlyMap<string, KeyValues>): AuthState {
  const auth = buckets.get(AUTH_BUCKET) ?? [];
  const value = (key: string): Uint8Array | undefined => auth.find(([k]) => Buffer.from(k).toString() === key)?.[1];
  const flag = value(ENABLED_KEY);
  const revision = value(REVISION_KEY);
  if (revision !== undefined && revision.length !== 8) throw new AuthBucketsError(`authRevision has ${revision.length} bytes, not 8`);
  const stored = revision === undefined ? 0 : Number(Buffer.from(revision).readBigUInt64BE(0));
  return {
    enabled: flag !== undefined && flag.length === 1 && flag[0] === 1,
    everEnabled: flag !== undefined,
    revision: stored === 0 ? 1 : stored,
    users: (buckets.get(AUTH_USERS_BUCKET) ?? []).map(([, v]) => unmarshalUser(v)).sort((a, b) => compareNames(a.name, b.name)),
    roles: (buckets.get(AUTH_ROLES_BUCKET) ?? []).map(([, v]) => unmarshalRole(v)).sort((a, b) => compareNames(a.name, b.name)),
  };
}

function unmarshalUser(bytes: Uint8Array): AuthUser {
  const fields = protoFields(bytes);
  const options = fields.filter((f) => f.field === 4).flatMap((f) => protoFields(bytesOf(f, 'User.options')));
  return {
    name: text(fields, 1, 'User.name'),
    passwordHash: text(fields, 2, 'User.password'),
    roles: fields.filter((f) => f.field === 3).map((f) => utf8KeepingBom.decode(bytesOf(f, 'User.roles'))),
    noPassword: options.some((f) => f.field === 1 && numberOf(f, 'UserAddOptions.no_password') !== 0),
  };
}

function unmarshalRole(bytes: Uint8Array): AuthRole {
  const fields = protoFields(bytes);
  const permissions = fields.filter((f) => f.field === 2).map((f) => unmarshalPermission(bytesOf(f, 'Role.keyPermission')));
  return { name: text(fields, 1, 'Role.name'), permissions };
}

function unmarshalPermission(bytes: Uint8Array): Permission {
  const fields = protoFields(bytes);
  const type = fields.filter((f) => f.field === 1).map((f) => numberOf(f, 'Permission.permType')).at(-1) ?? 0;
  const permType = PERM_TYPES[type];
  if (permType === undefined) throw new AuthBucketsError(`Permission.permType ${type} is not READ, WRITE or READWRITE`);
  return { permType, key: toKey(last(fields, 2, 'Permission.key')), rangeEnd: toKey(last(fields, 3, 'Permission.range_end')) };
}

/** A singular bytes field as protobuf reads it: the last occurrence wins; absent is empty. */
function last(fields: readonly ProtoField[], field: number, name: string): Uint8Array {
  return fields.filter((f) => f.field === field).map((f) => bytesOf(f, name)).at(-1) ?? new Uint8Array(0);
}

function text(fields: readonly ProtoField[], field: number, name: string): string {
  return utf8KeepingBom.decode(last(fields, field, name));
}

function bytesOf(field: ProtoField, name: string): Uint8Array {
  if (field.kind !== 'bytes') throw new AuthBucketsError(`${name} is a varint, not length-delimited`);
  return field.value;
}

function numberOf(field: ProtoField, name: string): number {
  if (field.kind !== 'varint') throw new AuthBucketsError(`${name} is length-delimited, not a varint`);
  return field.value;
}

function utf8(text: string): Uint8Array {
  return Buffer.from(text, 'utf8');
}
