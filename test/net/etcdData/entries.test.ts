// WAL entries of etcd 3.4 as Tern's: each kind of InternalRaftRequest (encoded from the
// raft_internal.proto messages) becomes the Tern request it stands for, or an empty entry
// when it changes nothing Tern replicates; conf changes are checked against the members;
// anything else is refused.
import test from 'ava';
import { decodeEnvelope } from '../../../core/server/requests.js';
import { EntryError, translateEntries, type TranslateOptions } from '../../../net/etcdData/entries.js';
import type { EtcdEntry } from '../../../net/etcdData/walReader.js';
import { internalRaftRequestType } from '../../../net/proto/load.js';

const options: TranslateOptions = {
  members: new Set([0x8e9e05c52164694dn]), removed: new Set([0x1234n]), hashPassword: (p) => Promise.resolve(`hashed(${p})`), nowMs: 1000,
};

function normal(index: number, request: Record<string, unknown>): EtcdEntry {
  const type = internalRaftRequestType();
  return { term: 2, index, type: 'normal', data: type.encode(type.fromObject(request)).finish() };
}

function confChange(index: number, type: number, node: bigint): EtcdEntry {
  const varint = (v: bigint): number[] => {
    const out: number[] = [];
    let x = v;
    while (x >= 0x80n) {
      out.push(Number(x & 0x7fn) | 0x80);
      x >>= 7n;
    }
    out.push(Number(x));
    return out;
  };
  return { term: 2, index, type: 'confChange', data: Uint8Array.from([0x10, ...varint(BigInt(type)), 0x18, ...varint(node)]) };
}

async function one(entry: EtcdEntry): Promise<ReturnType<typeof decodeEnvelope> | 'empty'> {
  const { entries } = await translateEntries([entry], options);
  const [out] = entries;
  if (out === undefined) throw new Error('no entry');
  if (out.index !== entry.index || out.term !== entry.term || out.type !== 'normal') throw new Error('index, term or type changed');
  return out.data.length === 0 ? 'empty' : decodeEnvelope(out.data);
}

test('KV requests, with the header\'s user and auth revision', async (t) => {
  const put = await one(normal(5, { header: { ID: 7, username: 'root', auth_revision: 3 }, put: { key: Buffer.from('k'), value: Buffer.from('v'), lease: '-5' } }));
  t.like(put, { requestId: '', proposedAtMs: 1000, auth: { user: 'root', revision: 3 }, request: { kind: 'put' } });
  if (put === 'empty' || put === null || put.request.kind !== 'put') return t.fail();
  t.is(Buffer.from(put.request.put.key).toString(), 'k');
  t.is(put.request.put.lease, -5n);
  const txn = await one(normal(6, { txn: { compare: [{ key: Buffer.from('k'), target: 'MOD', mod_revision: 4, result: 'LESS' }], success: [{ request_delete_range: { key: Buffer.from('k') } }] } }));
  if (txn === 'empty' || txn === null || txn.request.kind !== 'txn') return t.fail();
  t.like(txn.request.txn.compare[0], { target: 'mod', result: 'less', modRevision: 4 });
  t.true(txn.request.txn.success[0] !== undefined && 'deleteRange' in txn.request.txn.success[0]);
  t.like(await one(normal(7, { compaction: { revision: 9 } })), { request: { kind: 'compact', compact: { revision: 9 } } });
  t.like(await one(normal(8, { delete_range: { key: Buffer.from('a'), range_end: Buffer.from('b') } })), { request: { kind: 'deleteRange' } });
  return undefined;
});

test('leases, alarms and auth changes; passwords hashed', async (t) => {
  t.like(await one(normal(5, { lease_grant: { TTL: 60, ID: '7587862091545601037' } })), { request: { kind: 'leaseGrant', id: 7587862091545601037n, ttlSeconds: 60 } });
  t.like(await one(normal(6, { lease_revoke: { ID: '12' } })), { request: { kind: 'leaseRevoke', id: 12n } });
  t.like(await one(normal(7, { alarm: { action: 'ACTIVATE', memberID: '10276657743932975437', alarm: 'NOSPACE' } })),
    { request: { kind: 'alarm', alarm: { action: 'activate', memberId: '10276657743932975437', alarm: 'NOSPACE' } } });
  t.like(await one(normal(8, { auth_user_add: { name: 'bob', password: 'pw' } })), { request: { kind: 'auth', auth: { op: 'userAdd', name: 'bob', passwordHash: 'hashed(pw)' } } });
  t.like(await one(normal(9, { auth_user_add: { name: 'svc', options: { no_password: true } } })), { request: { kind: 'auth', auth: { op: 'userAdd', noPassword: true, passwordHash: '' } } });
  t.like(await one(normal(10, { auth_role_grant_permission: { name: 'r', perm: { permType: 'READWRITE', key: Buffer.from('a') } } })),
    { request: { kind: 'auth', auth: { op: 'roleGrantPermission', name: 'r', perm: { permType: 'READWRITE' } } } });
  t.like(await one(normal(11, { auth_enable: {} })), { request: { kind: 'auth', auth: { op: 'authEnable' } } });
});

test('what changes nothing Tern replicates becomes an empty entry', async (t) => {
  t.is(await one({ term: 2, index: 3, type: 'normal', data: new Uint8Array(0) }), 'empty');
  t.is(await one(normal(4, { authenticate: { name: 'root', simple_token: 'x.1' } })), 'empty');
  t.is(await one(normal(5, { v2: Buffer.from([0x08, 0x01]) })), 'empty');
  t.is(await one(normal(6, { range: { key: Buffer.from('k') } })), 'empty');
  t.is(await one(confChange(7, 0, 0x8e9e05c52164694dn)), 'empty', 'adding a listed member');
  t.is(await one(confChange(8, 1, 0x1234n)), 'empty', 'removing a removed member');
});

test('refused: a conf change the members do not show, a request with no known field, bytes that do not decode', async (t) => {
  await t.throwsAsync(one(confChange(7, 0, 0x99n)), { instanceOf: EntryError, message: /conf change \(add member 99\)/ });
  await t.throwsAsync(one(confChange(8, 1, 0x8e9e05c52164694dn)), { instanceOf: EntryError, message: /remove member/ });
  await t.throwsAsync(one(normal(9, { ID: 5 })), { instanceOf: EntryError, message: /cannot replay/ });
  await t.throwsAsync(one({ term: 2, index: 10, type: 'normal', data: Uint8Array.of(0xff, 0xff, 0xff) }), { instanceOf: EntryError, message: /not an InternalRaftRequest/ });
  await t.throwsAsync(one({ term: 2, index: 11, type: 'confChangeV2', data: new Uint8Array(0) }), { instanceOf: EntryError, message: /ConfChangeV2/ });
});
