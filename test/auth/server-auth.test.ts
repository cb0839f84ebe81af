// Auth through the etcd server core on a three-member cluster: users, roles and
// permissions change through Raft; tokens made by one member work on every member;
// each request is allowed or refused as of the entry it applies at, with etcd's texts.
import test from 'ava';
import type { AuthRequest } from '../../core/auth/authRequests.js';
import { encodeEnvelope, type InternalRequest } from '../../core/server/requests.js';
import type { ApplyResult } from '../../core/server/results.js';
import { EtcdStateMachine } from '../../core/server/stateMachine.js';
import type { Credentials } from '../../core/server/authGate.js';
import type { EtcdServer } from '../../core/server/server.js';
import { isEtcdError } from '../../core/errors.js';
import { call, dec, enc, ok, ServerCluster } from '../server/cluster.js';

/** The host's bcrypt, stood in for by a reversible "hash": enough for the core, which only passes hashes on. */
const hash = (password: string): string => `hashed:${password}`;
const checkAgainst = (password: string) => (stored: string, verdict: (matches: boolean) => void): void => {
  verdict(stored === hash(password));
};

function admin(c: ServerCluster, server: EtcdServer, request: AuthRequest, credentials?: Credentials): ReturnType<typeof ok> {
  return call(c, (r: AuthRequest, reply: Parameters<EtcdServer['authApi']['request']>[2]) => {
    server.authApi.request(r, credentials, reply);
  }, request);
}

function login(c: ServerCluster, server: EtcdServer, name: string, password: string): string | Error {
  const answer = call(c, (n: string, reply: Parameters<EtcdServer['authApi']['authenticate']>[2]) => {
    server.authApi.authenticate(n, checkAgainst(password), reply);
  }, name);
  return isEtcdError(answer) ? new Error(answer.message) : answer.token;
}

function token(c: ServerCluster, server: EtcdServer, name: string, password: string): Credentials {
  const t = login(c, server, name, password);
  if (t instanceof Error) throw t;
  return { token: t };
}

function errorText(result: unknown): string {
  return isEtcdError(result) ? result.message : 'ok';
}

/** root with role root, alice with role `ab` (readwrite on [a, c)), auth on. */
function securedCluster(): { c: ServerCluster; leader: EtcdServer; follower: EtcdServer } {
  const c = new ServerCluster([1, 2, 3]);
  const leader = c.elect();
  const follower = [1, 2, 3].map((id) => c.get(id)).find((s) => s !== leader);
  if (follower === undefined) throw new Error('no follower');
  const steps: AuthRequest[] = [
    { op: 'userAdd', name: 'root', passwordHash: hash('rootpw'), noPassword: false },
    { op: 'roleAdd', name: 'root' },
    { op: 'userGrantRole', user: 'root', role: 'root' },
    { op: 'userAdd', name: 'alice', passwordHash: hash('alicepw'), noPassword: false },
    { op: 'roleAdd', name: 'ab' },
    { op: 'roleGrantPermission', name: 'ab', perm: { permType: 'READWRITE', key: 'a', rangeEnd: 'c' } },
    { op: 'userGrantRole', user: 'alice', role: 'ab' },
    { op: 'authEnable' },
  ];
  for (const step of steps) ok(admin(c, leader, step));
  return { c, leader, follower };
}

test('with auth off, requests need no token and Authenticate answers "authentication is not enabled"', (t) => {
  const c = new ServerCluster([1]);
  const leader = c.elect();
  ok(call(c, leader.put.bind(leader), { key: enc('k'), value: enc('v') }));
  t.is(String(login(c, leader, 'root', 'x')), 'Error: etcdserver: authentication is not enabled');
  t.is(errorText(admin(c, leader, { op: 'authEnable' })), 'etcdserver: root user does not exist');
});

test('auth on: no token is "user name is empty"; a token from the leader works on a follower; permissions bound the user', (t) => {
  const { c, leader, follower } = securedCluster();
  const put = (server: EtcdServer, key: string, credentials?: Credentials): unknown =>
    call(c, (r: Parameters<EtcdServer['put']>[0], reply: Parameters<EtcdServer['put']>[1]) => { server.put(r, reply, credentials); },
      { key: enc(key), value: enc('v') });
  t.is(errorText(put(leader, 'b')), 'etcdserver: user name is empty');
  const alice = token(c, leader, 'alice', 'alicepw');
  t.regex(alice.token ?? '', /^[a-zA-Z]{16}\.\d+$/, 'a simple token: 16 letters, a dot, the Raft index');
  t.is(errorText(put(follower, 'b', alice)), 'ok', 'the token is known on the follower once its entry applies there');
  t.is(errorText(put(follower, 'z', alice)), 'etcdserver: permission denied');
  const root = token(c, follower, 'root', 'rootpw');
  t.is(errorText(put(leader, 'z', root)), 'ok', 'root may write anywhere');
  const read = (key: string, credentials: Credentials, serializable = false): unknown =>
    call(c, (r: Parameters<EtcdServer['range']>[0], reply: Parameters<EtcdServer['range']>[1]) => { follower.range(r, reply, credentials); },
      { key: enc(key), serializable });
  t.is(errorText(read('z', alice)), 'etcdserver: permission denied');
  t.is(errorText(read('z', alice, true)), 'etcdserver: permission denied', 'serializable reads are checked too');
  const got = read('b', alice);
  t.true(!isEtcdError(got) && dec((got as { kvs: { value: Uint8Array }[] }).kvs[0]?.value ?? enc('')) === 'v');
  t.is(String(login(c, leader, 'alice', 'wrong')), 'Error: etcdserver: authentication failed, invalid user ID or password');
  t.is(errorText(call(c, (r: { key: Uint8Array }, reply: Parameters<EtcdServer['range']>[1]) => { leader.range(r, reply, { token: 'forged.1' }); },
    { key: enc('b') })), 'etcdserver: invalid auth token');
});

test('a transaction needs read on every compare and the right permission on every op of both branches', (t) => {
  const { c, leader } = securedCluster();
  const alice = token(c, leader, 'alice', 'alicepw');
  const txn = (request: Parameters<EtcdServer['txn']>[0]): string =>
    errorText(call(c, (r: typeof request, reply: Parameters<EtcdServer['txn']>[1]) => { leader.txn(r, reply, alice); }, request));
  const cmp = (key: string) => ({ key: enc(key), target: 'version' as const, version: 0, result: 'equal' as const });
  t.is(txn({ compare: [cmp('a')], success: [{ put: { key: enc('b'), value: enc('1') } }], failure: [] }), 'ok');
  t.is(txn({ compare: [cmp('x')], success: [], failure: [] }), 'etcdserver: permission denied');
  t.is(txn({ compare: [], success: [], failure: [{ deleteRange: { key: enc('x') } }] }), 'etcdserver: permission denied',
    'the branch not taken is checked too');
  t.is(txn({ compare: [], success: [{ txn: { compare: [], success: [{ range: { key: enc('q') } }], failure: [] } }], failure: [] }),
    'etcdserver: permission denied', 'a nested transaction is checked');
  t.is(leader.machine.store.currentRevision(), 2, 'only the allowed transaction wrote');
});

test('a revoke is effective at the entry it applies at; a deleted user\'s token stops working', (t) => {
  const { c, leader, follower } = securedCluster();
  const alice = token(c, leader, 'alice', 'alicepw');
  const put = (credentials: Credentials): string => errorText(call(c,
    (r: Parameters<EtcdServer['put']>[0], reply: Parameters<EtcdServer['put']>[1]) => { follower.put(r, reply, credentials); },
    { key: enc('b'), value: enc('v') }));
  t.is(put(alice), 'ok');
  const root = token(c, leader, 'root', 'rootpw');
  ok(admin(c, leader, { op: 'roleRevokePermission', role: 'ab', key: 'a', rangeEnd: 'c' }, root));
  t.is(put(alice), 'etcdserver: permission denied');
  ok(admin(c, follower, { op: 'userDelete', name: 'alice' }, root));
  t.is(put(alice), 'etcdserver: invalid auth token');
});

test('auth admin calls are root-only, except a user reading itself and a holder reading its role', (t) => {
  const { c, leader } = securedCluster();
  const alice = token(c, leader, 'alice', 'alicepw');
  t.is(errorText(admin(c, leader, { op: 'userList' }, alice)), 'etcdserver: permission denied');
  t.is(errorText(admin(c, leader, { op: 'userAdd', name: 'eve', passwordHash: hash('e'), noPassword: false }, alice)),
    'etcdserver: permission denied');
  t.is(errorText(admin(c, leader, { op: 'userList' })), 'etcdserver: user name is empty');
  t.deepEqual(ok(admin(c, leader, { op: 'userGet', name: 'alice' }, alice)), { header: leader.header(), roles: ['ab'] });
  t.is(errorText(admin(c, leader, { op: 'userGet', name: 'root' }, alice)), 'etcdserver: permission denied');
  t.is(errorText(admin(c, leader, { op: 'roleGet', role: 'ab' }, alice)), 'ok');
  t.is(errorText(admin(c, leader, { op: 'roleGet', role: 'root' }, alice)), 'etcdserver: permission denied');
  let refusal: string | undefined;
  leader.authApi.checkAdmin(alice, (r) => { refusal = r?.message; });
  t.is(refusal, 'etcdserver: permission denied');
});

test('a lease may be revoked only with write permission on its keys; an expired one goes anyway (revoked as root)', (t) => {
  const { c, leader } = securedCluster();
  const alice = token(c, leader, 'alice', 'alicepw');
  const root = token(c, leader, 'root', 'rootpw');
  const grant = ok(call(c, (r: { ttlSeconds: number; id: bigint }, reply: Parameters<EtcdServer['leaseGrant']>[1]) => {
    leader.leaseGrant(r, reply, root);
  }, { ttlSeconds: 10, id: 0n }));
  ok(call(c, (r: Parameters<EtcdServer['put']>[0], reply: Parameters<EtcdServer['put']>[1]) => { leader.put(r, reply, root); },
    { key: enc('z'), value: enc('v'), lease: grant.id }));
  const revoke = call(c, (r: { id: bigint }, reply: Parameters<EtcdServer['leaseRevoke']>[1]) => { leader.leaseRevoke(r, reply, alice); },
    { id: grant.id });
  t.is(errorText(revoke), 'etcdserver: permission denied');
  c.run(150); // past the TTL
  t.false(leader.machine.lessor.exists(grant.id), 'the leader revoked the expired lease');
  t.is(ok(leader.machine.store.range({ key: enc('z') })).kvs.length, 0);
});

test('a request checked at an older auth revision is refused at apply with "revision of auth store is old"', (t) => {
  const results = new Map<string, ApplyResult>();
  const machine = new EtcdStateMachine({ minLeaseTtlSeconds: 1, clock: { nowMs: () => 0 }, onResult: (id, r) => results.set(id, r) });
  let index = 0;
  const apply = (requestId: string, request: InternalRequest, auth?: { user: string; revision: number }): ApplyResult | undefined => {
    machine.apply({ index: ++index, term: 1, type: 'normal', data: encodeEnvelope({ requestId, proposedAtMs: 0, request, ...(auth === undefined ? {} : { auth }) }) });
    return results.get(requestId);
  };
  for (const auth of [
    { op: 'userAdd', name: 'root', passwordHash: 'h', noPassword: false },
    { op: 'userGrantRole', user: 'root', role: 'root' },
    { op: 'authEnable' },
  ] as const) apply(`admin-${index}`, { kind: 'auth', auth });
  const now = machine.auth.authRevision();
  const put: InternalRequest = { kind: 'put', put: { key: enc('b'), value: enc('v') } };
  const stale = apply('stale', put, { user: 'root', revision: now - 1 });
  t.true(stale?.kind === 'error' && stale.error.message === 'etcdserver: revision of auth store is old');
  t.is(machine.store.currentRevision(), 1, 'nothing written');
  t.is(apply('current', put, { user: 'root', revision: now })?.kind, 'put');
  t.is(machine.store.currentRevision(), 2);
});

test('simple tokens expire after their TTL unless used, and AuthDisable forgets them', (t) => {
  const c = new ServerCluster([1]);
  const leader = c.elect();
  for (const step of [
    { op: 'userAdd', name: 'root', passwordHash: hash('pw'), noPassword: false },
    { op: 'userGrantRole', user: 'root', role: 'root' },
    { op: 'authEnable' },
  ] as const) ok(admin(c, leader, step));
  const root = token(c, leader, 'root', 'pw');
  const list = (): string => errorText(admin(c, leader, { op: 'userList' }, root));
  c.run(2000); // 200 s
  t.is(list(), 'ok', 'used within 300 s: the TTL starts over');
  c.run(3100); // 310 s idle
  t.is(list(), 'etcdserver: invalid auth token');
  const again = token(c, leader, 'root', 'pw');
  ok(admin(c, leader, { op: 'authDisable' }, again));
  t.is(errorText(admin(c, leader, { op: 'userList' }, again)), 'etcdserver: invalid auth token', 'etcd: a token after AuthDisable is unknown');
});

test('the auth state travels in the snapshot image', (t) => {
  const { leader } = securedCluster();
  const image = leader.machine.snapshot();
  const c2 = new ServerCluster([7]);
  const other = c2.elect();
  other.machine.restore(image);
  t.deepEqual(other.machine.auth.state(), leader.machine.auth.state());
  t.true(other.machine.auth.isEnabled());
});
