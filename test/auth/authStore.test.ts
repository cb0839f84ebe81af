// The auth store's operations, each against what etcd 3.4.23 answered on loopback
// (error texts, which changes bump the auth revision, and the order of the checks).

import test, { type ExecutionContext } from 'ava';
import { isEtcdError, type EtcdErrorName } from '../../core/errors.js';
import { AuthStore, compareNames } from '../../core/auth/authStore.js';
import { encodeAuthImage } from '../../core/auth/image.js';
import type { Permission } from '../../core/auth/rangePermissions.js';

const HASH = '$2a$10$opaque.hash.computed.outside.the.core';

function errorName(result: unknown): EtcdErrorName | 'ok' {
  return isEtcdError(result) ? result.name : 'ok';
}

/** Asserts the operation fails with `name` and leaves the state (revision included) as it was. */
function refuses(t: ExecutionContext, store: AuthStore, op: () => unknown, name: EtcdErrorName): void {
  const before = encodeAuthImage(store.state());
  t.is(errorName(op()), name);
  t.deepEqual(encodeAuthImage(store.state()), before, `${name} changed the state`);
}

function withRoot(): AuthStore {
  const store = new AuthStore();
  store.userAdd({ name: 'root', passwordHash: HASH, noPassword: false });
  store.userGrantRole({ user: 'root', role: 'root' });
  return store;
}

const perm = (key: string, rangeEnd: string, permType: Permission['permType'] = 'READ'): Permission => ({ permType, key, rangeEnd });

test('a new store: auth off, revision 1, nobody', (t) => {
  const store = new AuthStore();
  t.deepEqual(store.authStatus(), { enabled: false, authRevision: 1 });
  t.deepEqual(store.userList(), { users: [] });
  t.deepEqual(store.roleList(), { roles: [] });
});

test('user add: empty name, duplicate; each success bumps the revision once', (t) => {
  const store = new AuthStore();
  refuses(t, store, () => store.userAdd({ name: '', passwordHash: HASH, noPassword: false }), 'userEmpty');
  t.is(errorName(store.userAdd({ name: 'u1', passwordHash: HASH, noPassword: false })), 'ok');
  t.is(store.authRevision(), 2);
  refuses(t, store, () => store.userAdd({ name: 'u1', passwordHash: HASH, noPassword: false }), 'userAlreadyExist');
  t.is(store.user('u1')?.passwordHash, HASH);
});

test('user add with no_password stores no hash; change password keeps the option', (t) => {
  const store = new AuthStore();
  store.userAdd({ name: 'np', passwordHash: HASH, noPassword: true });
  t.deepEqual(store.user('np'), { name: 'np', passwordHash: '', roles: [], noPassword: true });
  store.userChangePassword({ name: 'np', passwordHash: HASH });
  t.deepEqual(store.user('np'), { name: 'np', passwordHash: HASH, roles: [], noPassword: true });
  refuses(t, store, () => store.userChangePassword({ name: 'nobody', passwordHash: HASH }), 'userNotFound');
  refuses(t, store, () => store.userChangePassword({ name: '', passwordHash: HASH }), 'userNotFound');
});

test('user get and list: not found (also for an empty name), names in byte order', (t) => {
  const store = new AuthStore();
  for (const name of ['zed', 'amy', 'Bob']) store.userAdd({ name, passwordHash: HASH, noPassword: false });
  t.deepEqual(store.userList(), { users: ['Bob', 'amy', 'zed'] });
  t.is(errorName(store.userGet('nobody')), 'userNotFound');
  t.is(errorName(store.userGet('')), 'userNotFound');
  t.deepEqual(store.userGet('amy'), { roles: [] });
});

test('grant role: missing user, missing role, root allowed without the role existing, regrant is a no-op', (t) => {
  const store = new AuthStore();
  store.userAdd({ name: 'u1', passwordHash: HASH, noPassword: false });
  store.roleAdd('r1');
  refuses(t, store, () => store.userGrantRole({ user: 'nouser', role: 'r1' }), 'userNotFound');
  refuses(t, store, () => store.userGrantRole({ user: 'u1', role: 'nope' }), 'roleNotFound');
  t.is(errorName(store.userGrantRole({ user: 'u1', role: 'root' })), 'ok');
  t.is(errorName(store.userGrantRole({ user: 'u1', role: 'r1' })), 'ok');
  const revision = store.authRevision();
  t.is(errorName(store.userGrantRole({ user: 'u1', role: 'r1' })), 'ok');
  t.is(store.authRevision(), revision, 'a regrant commits nothing');
  t.deepEqual(store.userGet('u1'), { roles: ['r1', 'root'] });
});

test('revoke role: not granted, missing user; root from root only while auth is off', (t) => {
  const store = withRoot();
  refuses(t, store, () => store.userRevokeRole({ name: 'root', role: 'x' }), 'roleNotGranted');
  refuses(t, store, () => store.userRevokeRole({ name: 'nouser', role: 'root' }), 'userNotFound');
  store.authEnable();
  refuses(t, store, () => store.userRevokeRole({ name: 'root', role: 'root' }), 'invalidAuthMgmt');
  store.authDisable();
  t.is(errorName(store.userRevokeRole({ name: 'root', role: 'root' })), 'ok');
  t.deepEqual(store.userGet('root'), { roles: [] });
});

test('user delete: missing user; root only while auth is off; checked before existence', (t) => {
  const store = withRoot();
  store.userAdd({ name: 'zed', passwordHash: HASH, noPassword: false });
  store.authEnable();
  refuses(t, store, () => store.userDelete('root'), 'invalidAuthMgmt');
  t.is(errorName(store.userDelete('zed')), 'ok');
  refuses(t, store, () => store.userDelete('zed'), 'userNotFound');
  store.authDisable();
  t.is(errorName(store.userDelete('root')), 'ok');
});

test('auth enable: no root user, root without role root, then on without bumping the revision', (t) => {
  const store = new AuthStore();
  refuses(t, store, () => store.authEnable(), 'rootUserNotExist');
  store.userAdd({ name: 'root', passwordHash: HASH, noPassword: false });
  refuses(t, store, () => store.authEnable(), 'rootRoleNotExist');
  store.userGrantRole({ user: 'root', role: 'root' });
  const revision = store.authRevision();
  t.is(errorName(store.authEnable()), 'ok');
  t.deepEqual(store.authStatus(), { enabled: true, authRevision: revision });
  t.is(errorName(store.authEnable()), 'ok', 'enabling twice is ignored');
  t.is(store.authRevision(), revision);
});

test('auth disable: silent when off, bumps the revision when on', (t) => {
  const store = withRoot();
  const revision = store.authRevision();
  t.is(errorName(store.authDisable()), 'ok');
  t.is(store.authRevision(), revision);
  store.authEnable();
  store.authDisable();
  t.deepEqual(store.authStatus(), { enabled: false, authRevision: revision + 1 });
});

test('role add, get, list: empty name, duplicate, not found', (t) => {
  const store = new AuthStore();
  refuses(t, store, () => store.roleAdd(''), 'roleEmpty');
  store.roleAdd('r1');
  store.roleAdd('r0');
  refuses(t, store, () => store.roleAdd('r1'), 'roleAlreadyExist');
  t.is(errorName(store.roleGet('nope')), 'roleNotFound');
  t.deepEqual(store.roleGet('r1'), { perm: [] });
  t.deepEqual(store.roleList(), { roles: ['r0', 'r1'] });
});

test('role delete: not found; root only while auth is off (checked before existence); revoked from users in one revision', (t) => {
  const store = withRoot();
  store.roleAdd('r1');
  for (const name of ['amy', 'zed']) {
    store.userAdd({ name, passwordHash: HASH, noPassword: false });
    store.userGrantRole({ user: name, role: 'r1' });
  }
  store.authEnable();
  refuses(t, store, () => store.roleDelete('root'), 'invalidAuthMgmt');
  const revision = store.authRevision();
  t.is(errorName(store.roleDelete('r1')), 'ok');
  t.is(store.authRevision(), revision + 1);
  t.deepEqual(store.userGet('amy'), { roles: [] });
  t.deepEqual(store.userGet('zed'), { roles: [] });
  refuses(t, store, () => store.roleDelete('r1'), 'roleNotFound');
});

test('grant permission: missing role, missing permission; malformed ranges are stored as etcd 3.4 stores them', (t) => {
  const store = new AuthStore();
  refuses(t, store, () => store.roleGrantPermission({ name: 'nope', perm: perm('a', '') }), 'roleNotFound');
  store.roleAdd('r1');
  refuses(t, store, () => store.roleGrantPermission({ name: 'r1', perm: null }), 'permissionNotGiven');
  for (const p of [perm('c', 'a'), perm('', 'a'), perm('', ''), perm('', '\0'), perm('b', 'b')]) {
    t.is(errorName(store.roleGrantPermission({ name: 'r1', perm: p })), 'ok');
  }
  // Stable by key: the three empty keys keep their grant order (as etcd answered).
  t.deepEqual(store.roleGet('r1'), { perm: [perm('', 'a'), perm('', ''), perm('', '\0'), perm('b', 'b'), perm('c', 'a')] });
});

test('grant permission: update in place only against the first permission with that key, else append', (t) => {
  const store = new AuthStore();
  store.roleAdd('r1');
  const grant = (p: Permission): void => { store.roleGrantPermission({ name: 'r1', perm: p }); };
  grant(perm('a', 'b'));
  grant(perm('a', 'c'));
  grant(perm('a', 'c', 'WRITE')); // the first 'a' is [a,b): etcd appends a second [a,c)
  const revision = store.authRevision();
  grant(perm('a', 'b', 'READWRITE')); // the first 'a' matches: updated in place
  t.is(store.authRevision(), revision + 1, 'an update in place still commits');
  t.deepEqual(store.roleGet('r1'), { perm: [perm('a', 'b', 'READWRITE'), perm('a', 'c'), perm('a', 'c', 'WRITE')] });
  t.is(errorName(store.roleRevokePermission({ role: 'r1', key: 'a', rangeEnd: 'c' })), 'ok');
  t.deepEqual(store.roleGet('r1'), { perm: [perm('a', 'b', 'READWRITE')] }, 'a revoke removes every copy');
  refuses(t, store, () => store.roleRevokePermission({ role: 'r1', key: 'a', rangeEnd: 'c' }), 'permissionNotGranted');
  refuses(t, store, () => store.roleRevokePermission({ role: 'nope', key: 'a', rangeEnd: 'c' }), 'roleNotFound');
});

test('the revision counts exactly the successful changes (etcd: 13 after 2 roles, 2 users, 3 grants, 4 permissions, 1 revoke)', (t) => {
  const store = new AuthStore();
  store.roleAdd('r1');
  store.roleAdd('r0');
  store.userAdd({ name: 'zed', passwordHash: HASH, noPassword: false });
  store.userAdd({ name: 'amy', passwordHash: HASH, noPassword: false });
  store.userGrantRole({ user: 'amy', role: 'r1' });
  store.userGrantRole({ user: 'amy', role: 'r0' });
  store.userGrantRole({ user: 'zed', role: 'r1' });
  for (const p of [perm('a', 'b'), perm('a', 'c'), perm('a', 'c', 'WRITE'), perm('a', 'b')]) store.roleGrantPermission({ name: 'r1', perm: p });
  store.roleRevokePermission({ role: 'r1', key: 'a', rangeEnd: 'c' });
  t.is(store.authRevision(), 13);
  store.roleDelete('r1');
  store.userDelete('zed');
  t.is(store.authRevision(), 15);
});

test('names sort by UTF-8 bytes (code points), not UTF-16 code units', (t) => {
  const astral = '\u{1F600}'; // UTF-16 D83D DE00, UTF-8 F0 9F 98 80
  const high = '\uFF01'; // UTF-8 EF BC 81: below the astral one in bytes, above it in code units
  t.true(compareNames(high, astral) < 0);
  t.true(compareNames('a', 'ab') < 0);
  t.is(compareNames('b', 'b'), 0);
});
