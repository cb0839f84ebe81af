// An auth state made on real etcd 3.4.23 with etcdctl, rebuilt on Tern's AuthStore with
// the bcrypt hashes etcd made: the compatibility tests compare the buckets etcd wrote for
// it, and restore Tern's image of it into etcd.

import { AuthStore, type AuthState } from '../../../core/auth/authStore.js';
import { keyOf } from '../../../core/mvcc/keys.js';

/** bcrypt hashes real etcd 3.4.23 made (cost 10) for the passwords rootpw and alicepw. */
export const ROOT_HASH = '$2a$10$e8OiU2onmlSdcaYBEDT4xOH9ei.votxredUnRPB72.ZNlLtCUF1TW';
export const ALICE_HASH = '$2a$10$k452ruTD/glHybXtouxlLeIWkXa3HQvT4tXGZbgktmGHJpI33kw.q';

/**
 * The state etcd held after: user add root, alice, --no-password nopw; role add reader,
 * writer, empty; reader: read foo, readwrite [a, b), then write [a, b) (updated in
 * place); writer: --prefix write pre/, --from-key read zz; root, alice (writer, reader)
 * and nopw (reader) granted; auth enabled. Revision 16.
 */
export function etcdExampleState(): AuthState {
  const store = new AuthStore();
  const ok = (answer: { readonly kind: string }): void => { if (answer.kind !== 'authOk') throw new Error(JSON.stringify(answer)); };
  ok(store.userAdd({ name: 'root', passwordHash: ROOT_HASH, noPassword: false }));
  ok(store.userAdd({ name: 'alice', passwordHash: ALICE_HASH, noPassword: false }));
  ok(store.userAdd({ name: 'nopw', passwordHash: '', noPassword: true }));
  for (const role of ['reader', 'writer', 'empty']) ok(store.roleAdd(role));
  const grant = (name: string, permType: 'READ' | 'WRITE' | 'READWRITE', key: string, rangeEnd: string): void => {
    ok(store.roleGrantPermission({ name, perm: { permType, key: keyOf(key), rangeEnd: keyOf(rangeEnd) } }));
  };
  grant('reader', 'READ', 'foo', '');
  grant('reader', 'READWRITE', 'a', 'b');
  grant('writer', 'WRITE', 'pre/', 'pre0');
  grant('writer', 'READ', 'zz', '\0');
  grant('reader', 'WRITE', 'a', 'b');
  ok(store.userGrantRole({ user: 'root', role: 'root' }));
  ok(store.userGrantRole({ user: 'alice', role: 'writer' }));
  ok(store.userGrantRole({ user: 'alice', role: 'reader' }));
  ok(store.userGrantRole({ user: 'nopw', role: 'reader' }));
  ok(store.authEnable());
  return store.state();
}
