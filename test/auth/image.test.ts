// The auth state image: decode(encode(state)) restores a store that answers the same,
// and equal states give equal bytes whatever order they were built in.

import test from 'ava';
import fc from 'fast-check';
import { AuthStore } from '../../core/auth/authStore.js';
import { AuthImageError, decodeAuthImage, encodeAuthImage } from '../../core/auth/image.js';
import type { Permission } from '../../core/auth/rangePermissions.js';

// Few names, so that grants find their users and roles; one astral, one above U+E000.
const name = fc.constantFrom('root', 'a', 'b', '\u{1F600}', '\uFF01');
const key = fc.string({ maxLength: 3, unit: fc.integer({ min: 0, max: 255 }).map((c) => String.fromCharCode(c)) });

type Op =
  | { readonly op: 'userAdd'; readonly name: string; readonly noPassword: boolean }
  | { readonly op: 'roleAdd'; readonly name: string }
  | { readonly op: 'grantRole'; readonly user: string; readonly role: string }
  | { readonly op: 'grantPerm'; readonly role: string; readonly perm: Permission }
  | { readonly op: 'enable' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('userAdd' as const), name, noPassword: fc.boolean() }),
  fc.record({ op: fc.constant('roleAdd' as const), name }),
  fc.record({ op: fc.constant('grantRole' as const), user: name, role: name }),
  fc.record({
    op: fc.constant('grantPerm' as const), role: name,
    perm: fc.record({ permType: fc.constantFrom<Permission['permType']>('READ', 'WRITE', 'READWRITE'), key, rangeEnd: key }),
  }),
  fc.constant({ op: 'enable' as const }),
);

function apply(store: AuthStore, op: Op): void {
  switch (op.op) {
    case 'userAdd': store.userAdd({ name: op.name, passwordHash: `hash-of-${op.name}`, noPassword: op.noPassword }); break;
    case 'roleAdd': store.roleAdd(op.name); break;
    case 'grantRole': store.userGrantRole({ user: op.user, role: op.role }); break;
    case 'grantPerm': store.roleGrantPermission({ name: op.role, perm: op.perm }); break;
    case 'enable': store.authEnable(); break;
  }
}

test('property: an image round-trips to a store with the same state and the same bytes', (t) => {
  let nonTrivial = 0;
  fc.assert(fc.property(fc.array(opArb, { maxLength: 30 }), (ops) => {
    const store = new AuthStore();
    for (const op of ops) apply(store, op);
    const bytes = encodeAuthImage(store.state());
    const restored = new AuthStore(decodeAuthImage(bytes));
    if (store.state().roles.some((r) => r.permissions.length > 0)) nonTrivial++;
    t.deepEqual(restored.state(), store.state());
    t.deepEqual(encodeAuthImage(restored.state()), bytes);
    t.deepEqual(restored.userList(), store.userList());
  }), { numRuns: 300, seed: 13 });
  t.true(nonTrivial > 30, `only ${nonTrivial} runs held a permission`);
});

test('the image does not depend on the order users and roles were added', (t) => {
  const a = new AuthStore();
  a.userAdd({ name: 'x', passwordHash: 'h', noPassword: false });
  a.userAdd({ name: 'y', passwordHash: 'h', noPassword: false });
  const b = new AuthStore();
  b.userAdd({ name: 'y', passwordHash: 'h', noPassword: false });
  b.userAdd({ name: 'x', passwordHash: 'h', noPassword: false });
  t.deepEqual(encodeAuthImage(a.state()), encodeAuthImage(b.state()));
});

test('a corrupt image is refused', (t) => {
  const bytes = encodeAuthImage(new AuthStore().state());
  t.throws(() => decodeAuthImage(Uint8Array.of(9, ...bytes.subarray(1))), { instanceOf: AuthImageError });
  t.throws(() => decodeAuthImage(Uint8Array.of(1, 0)), { instanceOf: AuthImageError });
});
