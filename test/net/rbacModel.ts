// The command model of the RBAC differential: what fast-check draws (a setup of roles,
// permission grants, role grants and revokes; then requests as users), and how each
// drawn command becomes one gRPC call. Both servers get the same calls in the same order.
//
// Keys come from a small alphabet (single letters and a few two-letter keys) so that
// granted ranges, requested ranges and prefixes overlap in many ways. Byte fields are
// always Buffers: protobufjs reads a JavaScript string given for a `bytes` field as
// base64, so passing "b" would send a different key than the one drawn.
import fc from 'fast-check';

export const KEYS = ['a', 'b', 'c', 'd', 'e', 'ab', 'bc', 'cd'] as const;
export type Key = (typeof KEYS)[number];

/** Users made once per test with passwords (bcrypt is slow; drawing users anew per run would dominate the wall time). */
export const USERS = ['u1', 'u2', 'u3'] as const;
export type User = (typeof USERS)[number];

/** Roles a run may create; every non-root role is deleted between runs. */
export const ROLES = ['r1', 'r2', 'r3'] as const;
export type Role = (typeof ROLES)[number];

/** Client-chosen lease ids: a server-chosen id differs between etcd and Tern. */
export const LEASES = [1001, 1002] as const;
export type Lease = (typeof LEASES)[number];

export type PermType = 'READ' | 'WRITE' | 'READWRITE';

/** A key and its range_end as etcd reads them: '' one key, '\0' from the key on, otherwise [key, end). */
export interface Span {
  readonly key: string;
  readonly end: string;
}

export interface Grant {
  readonly role: Role;
  readonly perm: PermType;
  readonly span: Span;
}

export type Revoke =
  | { readonly kind: 'permission'; readonly grant: number }
  | { readonly kind: 'role'; readonly user: User; readonly role: Role };

export interface Setup {
  readonly roles: readonly Role[];
  readonly grants: readonly Grant[];
  readonly userRoles: readonly { readonly user: User; readonly role: Role }[];
  readonly revokes: readonly Revoke[];
}

/** Who sends a request: a user (with its token), no token, a token no server issued, or root. */
export type Who = User | 'anonymous' | 'bogus' | 'root';

export type Compare =
  | { readonly target: 'VALUE'; readonly key: string; readonly result: CompareResult; readonly value: string }
  | { readonly target: 'VERSION'; readonly span: Span; readonly result: CompareResult; readonly version: number }
  // CREATE and MOD only against 0 (exists or not): absolute revisions would tie a run to the runs before it.
  | { readonly target: 'CREATE' | 'MOD'; readonly key: string; readonly result: CompareResult };
export type CompareResult = 'EQUAL' | 'NOT_EQUAL' | 'GREATER' | 'LESS';

export type TxnOp =
  | { readonly op: 'range'; readonly span: Span }
  | { readonly op: 'put'; readonly key: string; readonly value: string; readonly prevKv: boolean }
  | { readonly op: 'delete'; readonly span: Span; readonly prevKv: boolean }
  | { readonly op: 'txn'; readonly compare: readonly Compare[]; readonly success: readonly TxnOp[]; readonly failure: readonly TxnOp[] };

export type AdminCall =
  | { readonly method: 'RoleAdd' | 'RoleDelete' | 'RoleGet'; readonly role: Role | 'root' }
  | { readonly method: 'UserGet' | 'UserDelete'; readonly user: User | 'root' }
  | { readonly method: 'UserGrantRole' | 'UserRevokeRole'; readonly user: User; readonly role: Role | 'root' }
  | { readonly method: 'RoleGrantPermission' | 'RoleRevokePermission'; readonly role: Role; readonly perm: PermType; readonly span: Span }
  | { readonly method: 'UserList' | 'RoleList' | 'AuthDisable' | 'AuthEnable' };

export type Request =
  | { readonly op: 'range'; readonly span: Span; readonly limit: number; readonly keysOnly: boolean; readonly countOnly: boolean }
  | { readonly op: 'put'; readonly key: string; readonly value: string; readonly prevKv: boolean; readonly lease: Lease | null; readonly ignoreValue: boolean }
  | { readonly op: 'delete'; readonly span: Span; readonly prevKv: boolean }
  | { readonly op: 'txn'; readonly compare: readonly Compare[]; readonly success: readonly TxnOp[]; readonly failure: readonly TxnOp[] }
  | { readonly op: 'leaseGrant'; readonly lease: Lease }
  | { readonly op: 'leaseRevoke'; readonly lease: Lease }
  | { readonly op: 'leaseTimeToLive'; readonly lease: Lease }
  | { readonly op: 'watch'; readonly span: Span; readonly prevKv: boolean }
  | { readonly op: 'admin'; readonly call: AdminCall }
  | { readonly op: 'maintenance'; readonly method: 'Hash' | 'HashKV' | 'Status' | 'MemberList' };

export interface Step {
  readonly as: Who;
  readonly request: Request;
}

export interface Scenario {
  readonly setup: Setup;
  readonly steps: readonly Step[];
}

// ---------------------------------------------------------------------------------
// Drawing

/** The key just past every key with this prefix (all our keys are letters, so no 0xff carry). */
export function prefixEnd(key: string): string {
  return key.slice(0, -1) + String.fromCharCode(key.charCodeAt(key.length - 1) + 1);
}

const key = fc.constantFrom(...KEYS);
const value = fc.constantFrom('x', 'y', '');

/** One key, [key, other key) (inverted ones too), a prefix, or from the key on. */
const span: fc.Arbitrary<Span> = fc.oneof(
  { weight: 3, arbitrary: key.map((k) => ({ key: k, end: '' })) },
  { weight: 2, arbitrary: fc.tuple(key, key).map(([k, end]) => ({ key: k, end })) },
  { weight: 2, arbitrary: key.map((k) => ({ key: k, end: prefixEnd(k) })) },
  { weight: 1, arbitrary: key.map((k) => ({ key: k, end: '\0' })) },
  // Key "\0" with range_end "\0": every key.
  { weight: 1, arbitrary: fc.constant({ key: '\0', end: '\0' }) },
);

const role = fc.constantFrom(...ROLES);
const user = fc.constantFrom(...USERS);
const perm = fc.constantFrom<PermType>('READ', 'WRITE', 'READWRITE');
const lease = fc.constantFrom(...LEASES);

/** true about one time in six (ignore_value: etcd then wants an empty value and an existing key). */
const rarely = fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) });

const grant: fc.Arbitrary<Grant> = fc.record({ role, perm, span });

// Dense enough that most requests meet a permission that partly covers them: a user
// with nothing granted only ever sees "permission denied".
export const setupArbitrary: fc.Arbitrary<Setup> = fc.record({
  roles: fc.oneof(
    { weight: 4, arbitrary: fc.constant(ROLES) },
    // Sometimes a role is missing: grants to it fail with "role name not found".
    { weight: 1, arbitrary: fc.uniqueArray(role, { minLength: 1, maxLength: ROLES.length }) },
  ),
  grants: fc.array(grant, { minLength: 2, maxLength: 8 }),
  userRoles: fc.array(fc.record({ user, role }), { minLength: 2, maxLength: 6 }),
  revokes: fc.array(fc.oneof(
    fc.record({ kind: fc.constant('permission' as const), grant: fc.nat(20) }),
    fc.record({ kind: fc.constant('role' as const), user, role }),
  ), { maxLength: 2 }),
});

const compareResult = fc.constantFrom<CompareResult>('EQUAL', 'NOT_EQUAL', 'GREATER', 'LESS');

const compare: fc.Arbitrary<Compare> = fc.oneof(
  fc.record({ target: fc.constant('VALUE' as const), key, result: compareResult, value }),
  fc.record({ target: fc.constant('VERSION' as const), span, result: compareResult, version: fc.nat(2) }),
  fc.record({ target: fc.constantFrom('CREATE' as const, 'MOD' as const), key, result: compareResult }),
);

const flatOp: fc.Arbitrary<TxnOp> = fc.oneof(
  fc.record({ op: fc.constant('range' as const), span }),
  fc.record({ op: fc.constant('put' as const), key, value, prevKv: fc.boolean() }),
  fc.record({ op: fc.constant('delete' as const), span, prevKv: fc.boolean() }),
);

const nestedTxn: fc.Arbitrary<TxnOp> = fc.record({
  op: fc.constant('txn' as const),
  compare: fc.array(compare, { maxLength: 1 }),
  success: fc.array(flatOp, { maxLength: 2 }),
  failure: fc.array(flatOp, { maxLength: 2 }),
});

const txnOp = fc.oneof({ weight: 4, arbitrary: flatOp }, { weight: 1, arbitrary: nestedTxn });

const adminCall: fc.Arbitrary<AdminCall> = fc.oneof(
  fc.record({ method: fc.constantFrom('RoleAdd' as const, 'RoleDelete' as const, 'RoleGet' as const), role: fc.constantFrom(...ROLES, 'root' as const) }),
  fc.record({ method: fc.constantFrom('UserGet' as const, 'UserDelete' as const), user: fc.constantFrom(...USERS, 'root' as const) }),
  fc.record({ method: fc.constantFrom('UserGrantRole' as const, 'UserRevokeRole' as const), user, role: fc.constantFrom(...ROLES, 'root' as const) }),
  fc.record({ method: fc.constantFrom('RoleGrantPermission' as const, 'RoleRevokePermission' as const), role, perm, span }),
  fc.record({ method: fc.constantFrom('UserList' as const, 'RoleList' as const, 'AuthDisable' as const, 'AuthEnable' as const) }),
);

const request: fc.Arbitrary<Request> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ op: fc.constant('range' as const), span, limit: fc.constantFrom(0, 0, 1, 2), keysOnly: fc.boolean(), countOnly: fc.boolean() }) },
  { weight: 5, arbitrary: fc.record({
    op: fc.constant('put' as const), key, value, prevKv: fc.boolean(),
    lease: fc.option(lease, { freq: 3 }), ignoreValue: rarely,
  }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), span, prevKv: fc.boolean() }) },
  { weight: 4, arbitrary: fc.record({
    op: fc.constant('txn' as const),
    compare: fc.array(compare, { maxLength: 2 }),
    success: fc.array(txnOp, { maxLength: 3 }),
    failure: fc.array(txnOp, { maxLength: 2 }),
  }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('leaseGrant' as const), lease }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('leaseRevoke' as const), lease }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('leaseTimeToLive' as const), lease }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('watch' as const), span, prevKv: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('admin' as const), call: adminCall }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('maintenance' as const), method: fc.constantFrom('Hash' as const, 'HashKV' as const, 'Status' as const, 'MemberList' as const) }) },
);

const notAdmin = request.filter((r) => r.op !== 'admin');

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 12, arbitrary: fc.record({ as: user, request }) },
  { weight: 1, arbitrary: fc.record({ as: fc.constantFrom<Who>('anonymous', 'bogus'), request }) },
  // Root reads back what the users' writes did. It makes no admin calls: root could
  // disable auth or delete the users whose tokens the whole test holds.
  { weight: 2, arbitrary: fc.record({ as: fc.constant<Who>('root'), request: notAdmin }) },
);

export function scenarioArbitrary(steps: number): fc.Arbitrary<Scenario> {
  return fc.record({
    setup: setupArbitrary,
    steps: fc.array(step, { minLength: steps, maxLength: steps }),
  });
}
