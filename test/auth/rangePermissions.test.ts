// Permission checks: scenarios from etcd's range permission cache, decisions observed on
// etcd 3.4.23, and a property that compares the interval-tree check with a naive
// point-by-point model where etcd's tree is an ordinary interval tree.

import test from 'ava';
import fc from 'fast-check';
import { AuthStore } from '../../core/auth/authStore.js';
import { checkAdminPermitted, checkOpPermitted, isRangePermitted } from '../../core/auth/permissionCheck.js';
import { permits, userPermissions, type Permission } from '../../core/auth/rangePermissions.js';
import { isEtcdError } from '../../core/errors.js';

const perm = (key: string, rangeEnd: string, permType: Permission['permType'] = 'READ'): Permission => ({ permType, key, rangeEnd });

/** A store with auth on, root, and user u holding role r with `perms`. */
function storeWith(perms: readonly Permission[]): AuthStore {
  const store = new AuthStore();
  store.userAdd({ name: 'root', passwordHash: 'h', noPassword: false });
  store.userGrantRole({ user: 'root', role: 'root' });
  store.userAdd({ name: 'u', passwordHash: 'h', noPassword: false });
  store.roleAdd('r');
  for (const p of perms) store.roleGrantPermission({ name: 'r', perm: p });
  store.userGrantRole({ user: 'u', role: 'r' });
  store.authEnable();
  return store;
}

const read = (store: AuthStore, key: string, rangeEnd: string, user = 'u'): boolean =>
  isRangePermitted(store, { user, key, rangeEnd, type: 'READ' });

test('a key, a range, a prefix and from-key', (t) => {
  const store = storeWith([perm('k', ''), perm('a', 'c'), perm('p/', 'p0'), perm('x', '\0')]);
  t.true(read(store, 'k', ''));
  t.false(read(store, 'k0', ''));
  t.true(read(store, 'a', 'c'));
  t.true(read(store, 'b', ''));
  t.false(read(store, 'c', ''), 'range_end is exclusive');
  t.false(read(store, 'a', 'd'));
  t.true(read(store, 'p/', 'p0'), 'etcdctl --prefix p/ sends [p/, p0)');
  t.true(read(store, 'p/q', 'p/r'));
  t.true(read(store, 'x', '\0'));
  t.true(read(store, 'zz', '\0'));
  t.false(read(store, 'w', '\0'));
});

test('adjacent and overlapping permissions from several roles cover their union; a one-key gap does not', (t) => {
  const store = storeWith([perm('a', 'b'), perm('b', 'c')]);
  store.roleAdd('r2');
  store.roleGrantPermission({ name: 'r2', perm: perm('c', 'e') });
  store.userGrantRole({ user: 'u', role: 'r2' });
  t.true(read(store, 'a', 'e'));
  const gap = storeWith([perm('a', 'b'), perm('b\0', 'c')]);
  t.false(read(gap, 'a', 'c'), 'the key "b" itself is not covered');
  t.true(read(gap, 'b\0', 'c'));
});

test('READ, WRITE and READWRITE are separate', (t) => {
  const store = storeWith([perm('r', '', 'READ'), perm('w', '', 'WRITE'), perm('rw', '', 'READWRITE')]);
  const write = (key: string): boolean => isRangePermitted(store, { user: 'u', key, rangeEnd: '', type: 'WRITE' });
  t.deepEqual([read(store, 'r', ''), write('r')], [true, false]);
  t.deepEqual([read(store, 'w', ''), write('w')], [false, true]);
  t.deepEqual([read(store, 'rw', ''), write('rw')], [true, true]);
});

test('degenerate permissions grant nothing; an inverted request inside one granted interval is permitted', (t) => {
  const store = storeWith([perm('c', 'a'), perm('', 'z'), perm('', '\0'), perm('b', 'b')]);
  for (const key of ['a', 'b', 'c', 'z']) t.false(read(store, key, ''), key);
  const ranged = storeWith([perm('a', 'c')]);
  t.true(read(ranged, 'b', 'a'), 'etcd permits [b, a) when b is covered');
  t.false(read(ranged, 'd', 'a'));
  t.false(read(ranged, '', 'b'), 'an empty key is never permitted');
});

test('an inverted request follows etcd\'s tree walk, not the key alone (observed on etcd 3.4.23)', (t) => {
  // Tree: [a, a\0) at the root, [ab, e) to its right. [b, a) stops at the root.
  const store = storeWith([perm('a', ''), perm('ab', 'e')]);
  const observed: readonly (readonly [string, string, boolean])[] = [
    ['b', 'a', false], ['b', '', true], ['c', 'b', true], ['ab', 'a', false], ['a', 'a', true], ['d', 'c', true],
  ];
  for (const [key, rangeEnd, allowed] of observed) t.is(read(store, key, rangeEnd), allowed, JSON.stringify([key, rangeEnd]));
});

test('root, auth off, unknown user', (t) => {
  const store = storeWith([]);
  t.true(read(store, 'any', '\0', 'root'));
  t.false(read(store, 'any', '', 'nobody'));
  store.authDisable();
  t.true(read(store, 'any', '', 'nobody'));
});

test('checkOpPermitted: no token, a stale revision, denied, allowed; a change is seen at once', (t) => {
  const store = storeWith([perm('a', '')]);
  const check = (revision: number, key: string): string | null => {
    const e = checkOpPermitted(store, { info: { user: 'u', revision }, key, rangeEnd: '', type: 'READ' });
    return e === null ? null : e.name;
  };
  const now = store.authRevision();
  t.is(check(0, 'a'), 'userEmpty');
  t.is(check(now - 1, 'a'), 'authOldRevision');
  t.is(check(now, 'b'), 'permissionDenied');
  t.is(check(now, 'a'), null);
  store.roleRevokePermission({ role: 'r', key: 'a', rangeEnd: '' });
  t.is(check(store.authRevision(), 'a'), 'permissionDenied', 'the cached permissions were dropped');
});

test('checkAdminPermitted: no user, unknown user, not root, root', (t) => {
  const store = storeWith([]);
  const name = (e: ReturnType<typeof checkAdminPermitted>): string | null => (isEtcdError(e) ? e.name : null);
  t.is(name(checkAdminPermitted(store, null)), 'userEmpty');
  t.is(name(checkAdminPermitted(store, { user: 'nobody', revision: 1 })), 'userNotFound');
  t.is(name(checkAdminPermitted(store, { user: 'u', revision: 1 })), 'permissionDenied');
  t.is(checkAdminPermitted(store, { user: 'root', revision: 1 }), null);
});

// ------------------------------------------------------------------ the naive model

// Bounds are drawn from strings over {\0, a, b} of length 1–2; every gap between merged
// intervals then starts at a bound or at bound+"\0", so checking every string of length
// 1–3 over the same alphabet finds any gap the real check could miss.
const ALPHABET = ['\0', 'a', 'b'];
const POINTS: string[] = (() => {
  let level = [''];
  const all: string[] = [];
  for (let len = 1; len <= 3; len++) {
    level = level.flatMap((s) => ALPHABET.map((c) => s + c));
    all.push(...level);
  }
  return all.sort();
})();

function modelGrants(p: Permission, key: string): boolean {
  if (p.key === '') return false; // etcd: an empty begin is +∞
  if (p.rangeEnd === '') return key === p.key;
  if (p.rangeEnd === '\0') return key >= p.key;
  return key >= p.key && key < p.rangeEnd;
}

function modelPermitted(perms: readonly Permission[], type: 'READ' | 'WRITE', key: string, rangeEnd: string): boolean {
  const has = (k: string): boolean => perms.some((p) => (p.permType === type || p.permType === 'READWRITE') && modelGrants(p, k));
  if (key === '') return false;
  if (rangeEnd === '' || (rangeEnd !== '\0' && rangeEnd <= key)) return has(key);
  return POINTS.filter((k) => k >= key && (rangeEnd === '\0' || k < rangeEnd)).every(has);
}

const bound = fc.constantFrom(...POINTS.filter((p) => p.length <= 2));
const rangeEnd = fc.oneof(bound, fc.constant(''), fc.constant('\0'));
const permission = fc.record({
  permType: fc.constantFrom<Permission['permType']>('READ', 'WRITE', 'READWRITE'),
  key: fc.oneof({ weight: 9, arbitrary: bound }, { weight: 1, arbitrary: fc.constant('') }),
  rangeEnd,
});

/** A proper grant: its interval is not empty (etcd's tree is then an ordinary interval tree). */
const properGrant = (p: Permission): boolean => p.key !== '' && (p.rangeEnd === '' || p.rangeEnd === '\0' || p.rangeEnd > p.key);
const properRequest = (key: string, end: string): boolean => key !== '' && (end === '' || end === '\0' || end > key);

test('property: with proper grants and requests, the tree check equals the point-by-point model', (t) => {
  let permittedRanges = 0;
  fc.assert(fc.property(
    fc.array(permission.filter(properGrant), { maxLength: 8 }), bound, rangeEnd, fc.constantFrom<'READ' | 'WRITE'>('READ', 'WRITE'),
    (perms, key, end, type) => {
      fc.pre(properRequest(key, end));
      const store = storeWith(perms);
      const actual = isRangePermitted(store, { user: 'u', key, rangeEnd: end, type });
      if (actual && end !== '') permittedRanges++;
      // The model reads what the role holds (a regrant of the same range replaces its type).
      const stored = store.role('r')?.permissions ?? [];
      return actual === modelPermitted(stored, type, key, end);
    },
  ), { numRuns: 3000, seed: 13 });
  t.true(permittedRanges > 100, `only ${permittedRanges} non-trivial ranges were permitted: the property is vacuous`);
});

test('property: degenerate grants and inverted requests never permit more than the model', (t) => {
  // etcd's pruned walk may skip intervals then (so it may refuse what the model allows),
  // but it only ever walks intervals that overlap the request: it never permits more.
  fc.assert(fc.property(
    fc.array(permission, { maxLength: 8 }), bound, rangeEnd, fc.constantFrom<'READ' | 'WRITE'>('READ', 'WRITE'),
    (perms, key, end, type) => {
      const store = storeWith(perms);
      const actual = isRangePermitted(store, { user: 'u', key, rangeEnd: end, type });
      return !actual || modelPermitted(store.role('r')?.permissions ?? [], type, key, end);
    },
  ), { numRuns: 3000, seed: 13 });
  t.true(permits(userPermissions([perm('a', '\0')]).read, 'b', 'c'));
  t.false(permits(userPermissions([]).read, 'a', ''));
});

test('the decisions etcd 3.4.23 made for one role (observed on loopback)', (t) => {
  const store = storeWith([
    perm('a', 'c'), perm('c', 'd'), perm('m', 'k'), perm('', 'z'), perm('q', 'q'), perm('x', 'x\0'), perm('x\x01', 'y'),
  ]);
  const observed: readonly (readonly [string, string, boolean])[] = [
    ['b', '', true], ['a', 'd', true], ['a', 'd\0', false], ['b', 'a', true], ['e', 'a', false], ['b', 'b', true],
    ['l', '', false], ['j', 'n', false], ['q', '', false], ['p', 'r', false], ['e', '', false], ['x', 'y', false],
    ['x', 'x\x01', false], ['c', '\0', false],
  ];
  for (const [key, rangeEnd, allowed] of observed) t.is(read(store, key, rangeEnd), allowed, JSON.stringify([key, rangeEnd]));
});
