// The auth buckets of the snapshot image: the records etcd 3.4.23 itself wrote (pasted
// from `etcdctl snapshot save` of a real etcd, dumped with bbolt), readAuthBuckets'
// round trip, and the backend hash covering them.

import test from 'ava';
import { AuthStore, type AuthState } from '../../../core/auth/authStore.js';
import { keyOf } from '../../../core/mvcc/keys.js';
import { EtcdStateMachine } from '../../../core/server/stateMachine.js';
import { authBuckets, AuthBucketsError, readAuthBuckets } from '../../../net/snapshot/authBuckets.js';
import type { KeyValues } from '../../../net/snapshot/bbolt.js';
import { ProtoFormatError, protoFields } from '../../../net/snapshot/protoReader.js';
import { backendHash } from '../../../net/snapshot/snapshotImage.js';
import { ALICE_HASH, etcdExampleState, ROOT_HASH } from './etcdAuthExample.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');
const dump = (buckets: ReadonlyMap<string, KeyValues>, name: string): string[] =>
  (buckets.get(name) ?? []).map(([k, v]) => `${hex(k)} ${hex(v)}`).sort();
const fromDump = (lines: readonly string[]): KeyValues =>
  lines.map((line) => line.split(' ').map((h) => Buffer.from(h, 'hex')) as [Buffer, Buffer]);

/** etcd 3.4.23's buckets for etcdExampleState(), as its bbolt file held them (key value, hex). */
const ETCD_AUTH = ['61757468456e61626c6564 01', '617574685265766973696f6e 0000000000000010'];
const ETCD_USERS = [
  `616c696365 0a05616c696365123c${hex(Buffer.from(ALICE_HASH))}1a067265616465721a067772697465722200`,
  '6e6f7077 0a046e6f70771a0672656164657222020801',
  `726f6f74 0a04726f6f74123c${hex(Buffer.from(ROOT_HASH))}1a04726f6f742200`,
];
const ETCD_ROLES = [
  '656d707479 0a05656d707479',
  '726561646572 0a06726561646572120808011201611a016212051203666f6f',
  '777269746572 0a06777269746572120e080112047072652f1a0470726530120712027a7a1a0100',
];

test('the auth buckets hold byte for byte what etcd 3.4.23 writes for the same state', (t) => {
  const buckets = authBuckets(etcdExampleState());
  t.deepEqual([...buckets.keys()].sort(), ['auth', 'authRoles', 'authUsers']);
  t.deepEqual(dump(buckets, 'auth'), ETCD_AUTH);
  t.deepEqual(dump(buckets, 'authUsers'), ETCD_USERS);
  t.deepEqual(dump(buckets, 'authRoles'), ETCD_ROLES);
});

test('with auth never enabled the auth bucket holds only authRevision, as on a fresh etcd', (t) => {
  t.deepEqual(dump(authBuckets(new AuthStore().state()), 'auth'), ['617574685265766973696f6e 0000000000000001']);
  const never = { ...etcdExampleState(), enabled: false, everEnabled: false };
  t.deepEqual(dump(authBuckets(never), 'auth'), [ETCD_AUTH[1]]);
});

test('after AuthDisable the auth bucket keeps authEnabled as 0, as etcd does once auth was enabled', (t) => {
  const store = new AuthStore(etcdExampleState());
  store.authDisable();
  const written = authBuckets(store.state());
  t.deepEqual(dump(written, 'auth').map((line) => line.split(' ')[0]), ['61757468456e61626c6564', '617574685265766973696f6e']);
  t.is(dump(written, 'auth')[0], '61757468456e61626c6564 00');
  const read = readAuthBuckets(written);
  t.false(read.enabled);
  t.true(read.everEnabled);
});

test('readAuthBuckets reads etcd\'s own buckets back into the state that wrote them', (t) => {
  const etcd = new Map([['auth', fromDump(ETCD_AUTH)], ['authUsers', fromDump(ETCD_USERS)], ['authRoles', fromDump(ETCD_ROLES)]]);
  t.deepEqual(readAuthBuckets(etcd), etcdExampleState());
});

test('readAuthBuckets(authBuckets(s)) is s for users with and without passwords and roles, every permission shape', (t) => {
  const state: AuthState = {
    enabled: true,
    everEnabled: true,
    revision: 2 ** 40 + 7, // beyond 32 bits: the 8-byte big-endian revision
    users: [
      { name: 'bare', passwordHash: '', roles: [], noPassword: false },
      { name: 'nopw', passwordHash: '', roles: ['', 'r1'], noPassword: true }, // an empty role name is still a role
      { name: 'root', passwordHash: ROOT_HASH, roles: ['r1', 'r2', 'root'], noPassword: false },
      { name: 'zé\u{1F600}', passwordHash: ALICE_HASH, roles: ['r2'], noPassword: false },
      { name: '\uFEFFbom', passwordHash: '', roles: ['\uFEFFr3'], noPassword: true }, // a leading U+FEFF is part of the name
    ],
    roles: [
      { name: 'empty', permissions: [] },
      {
        name: 'r1', permissions: [
          { permType: 'READ', key: '', rangeEnd: '' }, // every field at its zero value: an empty message
          { permType: 'READWRITE', key: keyOf('\0'), rangeEnd: keyOf('\0') }, // the whole key space
          { permType: 'WRITE', key: 'k', rangeEnd: '' }, // one key
          { permType: 'READ', key: 'k', rangeEnd: 'm' }, // a range, equal key kept in order
        ],
      },
      {
        name: 'r2', permissions: [
          { permType: 'WRITE', key: 'p/', rangeEnd: 'p0' }, // a prefix
          { permType: 'READ', key: '\xff\x00', rangeEnd: '\0' }, // from a binary key to the end
        ],
      },
      { name: '\uFEFFr3', permissions: [] },
    ],
  };
  t.deepEqual(readAuthBuckets(authBuckets(state)), state);
  t.deepEqual(readAuthBuckets(authBuckets(new AuthStore().state())), new AuthStore().state());
});

test('readAuthBuckets reads as etcd starts: only a 1 enables, no revision is revision 1, no bucket is empty', (t) => {
  const revision = (n: number): Buffer => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; };
  const auth = (flag: number[]): Map<string, KeyValues> =>
    new Map([['auth', [[Buffer.from('authEnabled'), Buffer.from(flag)], [Buffer.from('authRevision'), revision(17)]]]]);
  t.false(readAuthBuckets(auth([0])).enabled, 'AuthDisable writes a 0');
  t.false(readAuthBuckets(auth([2])).enabled);
  t.true(readAuthBuckets(auth([1])).enabled);
  t.is(readAuthBuckets(auth([1])).revision, 17);
  t.deepEqual(readAuthBuckets(new Map()), { enabled: false, everEnabled: false, revision: 1, users: [], roles: [] });
  const short = new Map([['auth', [[Buffer.from('authRevision'), Buffer.from([1])]] as KeyValues]]);
  t.throws(() => readAuthBuckets(short), { instanceOf: AuthBucketsError });
});

test('readAuthBuckets refuses records that are not authpb messages', (t) => {
  const role = (value: number[]): Map<string, KeyValues> => new Map([['authRoles', [[Buffer.from('r'), Buffer.from(value)]]]]);
  t.throws(() => readAuthBuckets(role([0x0a, 0x05, 0x72])), { instanceOf: ProtoFormatError }, 'name runs past the end');
  t.throws(() => readAuthBuckets(role([0x0d, 0, 0, 0, 0])), { instanceOf: ProtoFormatError }, 'a fixed32 field');
  t.throws(() => readAuthBuckets(role([0x08, 0x01])), { instanceOf: AuthBucketsError }, 'name as a varint');
  t.throws(() => readAuthBuckets(role([0x12, 0x02, 0x08, 0x03])), { instanceOf: AuthBucketsError }, 'permType 3');
  t.throws(() => protoFields(Uint8Array.from([0x08, 0x80])), { instanceOf: ProtoFormatError }, 'a varint cut short');
});

test('the backend hash covers the auth buckets, as etcd\'s Hash covers every bucket but meta/consistent_index', (t) => {
  const machine = new EtcdStateMachine({ minLeaseTtlSeconds: 1, clock: { nowMs: () => 0 }, onResult: () => undefined });
  const before = backendHash(machine);
  machine.auth = new AuthStore({ ...new AuthStore().state(), users: [{ name: 'u', passwordHash: '', roles: [], noPassword: true }] });
  const withUser = backendHash(machine);
  t.not(withUser, before, 'a user changes the hash');
  machine.auth = new AuthStore({ ...machine.auth.state(), revision: 2 });
  t.not(backendHash(machine), withUser, 'the auth revision changes the hash');
});
