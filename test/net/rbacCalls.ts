// Drawn commands (rbacModel.ts) as gRPC calls: the service, the method and the request
// message in proto-loader's shape (snake_case fields, bytes as Buffers, enums by name).
import type { AdminCall, Compare, Grant, Request, Revoke, Setup, Span, TxnOp } from './rbacModel.js';
import type { ServiceName } from './rbacClient.js';

export type Call =
  | { readonly kind: 'unary'; readonly service: ServiceName; readonly method: string; readonly body: object }
  | { readonly kind: 'watch'; readonly body: object };

/** Bytes exactly as drawn (each character one byte: the alphabet and "\0" are all below 0x80). */
export function bytes(text: string): Buffer {
  return Buffer.from(text, 'latin1');
}

const unary = (service: ServiceName, method: string, body: object): Call => ({ kind: 'unary', service, method, body });

/**
 * A bytes field as Go's clientv3 sends it: an empty one is left out. protobufjs would
 * otherwise encode it as present and empty, and etcd 3.4 serves a Range (or a read-only
 * Txn) whose range_end is present-but-empty as a from-key range, while its permission
 * check reads it as the single key: no real client sends that, and Tern does not copy
 * it (it would read keys past the user's permission). This was the "etcd returned c
 * for a get of b" seen by an earlier version of this harness.
 */
function optionalBytes(name: string, text: string): Record<string, Buffer> {
  return text === '' ? {} : { [name]: bytes(text) };
}

function spanFields(span: Span): Record<string, Buffer> {
  return { key: bytes(span.key), ...optionalBytes('range_end', span.end) };
}

function compareMessage(c: Compare): object {
  switch (c.target) {
    // value is in a oneof: set even when empty (it says which target is compared), as Go sends it.
    case 'VALUE': return { target: 'VALUE', result: c.result, key: bytes(c.key), value: bytes(c.value) };
    case 'VERSION': return { target: 'VERSION', result: c.result, ...spanFields(c.span), version: c.version };
    case 'CREATE': return { target: 'CREATE', result: c.result, key: bytes(c.key), create_revision: 0 };
    case 'MOD': return { target: 'MOD', result: c.result, key: bytes(c.key), mod_revision: 0 };
  }
}

function requestOp(op: TxnOp): object {
  switch (op.op) {
    case 'range': return { request_range: spanFields(op.span) };
    case 'put': return { request_put: { key: bytes(op.key), ...optionalBytes('value', op.value), prev_kv: op.prevKv } };
    case 'delete': return { request_delete_range: { ...spanFields(op.span), prev_kv: op.prevKv } };
    case 'txn': return { request_txn: txnMessage(op) };
  }
}

function txnMessage(t: { compare: readonly Compare[]; success: readonly TxnOp[]; failure: readonly TxnOp[] }): object {
  return { compare: t.compare.map(compareMessage), success: t.success.map(requestOp), failure: t.failure.map(requestOp) };
}

function permission(perm: string, span: Span): object {
  return { permType: perm, ...spanFields(span) };
}

function adminMessage(a: AdminCall): Call {
  switch (a.method) {
    case 'RoleAdd': return unary('auth', a.method, { name: a.role });
    case 'RoleDelete':
    case 'RoleGet': return unary('auth', a.method, { role: a.role });
    case 'UserGet':
    case 'UserDelete': return unary('auth', a.method, { name: a.user });
    case 'UserGrantRole': return unary('auth', a.method, { user: a.user, role: a.role });
    case 'UserRevokeRole': return unary('auth', a.method, { name: a.user, role: a.role });
    case 'RoleGrantPermission': return unary('auth', a.method, { name: a.role, perm: permission(a.perm, a.span) });
    case 'RoleRevokePermission': return unary('auth', a.method, { role: a.role, ...spanFields(a.span) });
    case 'UserList':
    case 'RoleList':
    case 'AuthDisable':
    case 'AuthEnable': return unary('auth', a.method, {});
  }
}

/** Long enough that no lease expires during a run; equal on both, so the granted TTL compares. */
export const LEASE_TTL_S = 600;

export function requestCall(r: Request): Call {
  switch (r.op) {
    case 'range': return unary('kv', 'Range', { ...spanFields(r.span), limit: r.limit, keys_only: r.keysOnly, count_only: r.countOnly });
    case 'put': return unary('kv', 'Put', {
      key: bytes(r.key), ...optionalBytes('value', r.value), prev_kv: r.prevKv, lease: r.lease ?? 0, ignore_value: r.ignoreValue,
    });
    case 'delete': return unary('kv', 'DeleteRange', { ...spanFields(r.span), prev_kv: r.prevKv });
    case 'txn': return unary('kv', 'Txn', txnMessage(r));
    case 'leaseGrant': return unary('lease', 'LeaseGrant', { ID: r.lease, TTL: LEASE_TTL_S });
    case 'leaseRevoke': return unary('lease', 'LeaseRevoke', { ID: r.lease });
    case 'leaseTimeToLive': return unary('lease', 'LeaseTimeToLive', { ID: r.lease, keys: true });
    case 'watch': return { kind: 'watch', body: { ...spanFields(r.span), prev_kv: r.prevKv } };
    case 'admin': return adminMessage(r.call);
    case 'maintenance': return unary(r.method === 'MemberList' ? 'cluster' : 'maintenance', r.method, {});
  }
}

/** The setup as root's calls, in order: roles, permission grants, role grants, revokes. */
export function setupCalls(s: Setup): Call[] {
  const grant = (g: Grant): Call => unary('auth', 'RoleGrantPermission', { name: g.role, perm: permission(g.perm, g.span) });
  const revoke = (r: Revoke): Call => {
    if (r.kind === 'role') return unary('auth', 'UserRevokeRole', { name: r.user, role: r.role });
    // A revoke names one of the drawn grants (modulo their number), so it usually hits.
    const g = s.grants[r.grant % s.grants.length];
    if (g === undefined) throw new Error('a setup has at least one grant');
    return unary('auth', 'RoleRevokePermission', { role: g.role, ...spanFields(g.span) });
  };
  return [
    ...s.roles.map((role) => unary('auth', 'RoleAdd', { name: role })),
    ...s.grants.map(grant),
    ...s.userRoles.map((u) => unary('auth', 'UserGrantRole', { user: u.user, role: u.role })),
    ...s.revokes.map(revoke),
  ];
}
