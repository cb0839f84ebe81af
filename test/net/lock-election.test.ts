// etcd's Lock and Election gRPC services, through a raw grpc-js client with the same
// protos, against real etcd 3.4 and against Tern: the same scenario on both, every
// answer recorded, and the records must be equal. (etcdctl and the npm etcd3 client run
// the recipes client-side and never call these services.)
//
// The tests run one at a time: each starts real processes (up to three), and a loaded
// 2-core box starts them slower when they all start at once.
//
// Normalized: raft_term, and lease ids — etcd draws random ones, so each side's ids
// (decimal in messages, hex in keys) become L0, L1, … in the order the scenario met them.
import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { loadEtcdServices } from '../../net/proto/load.js';
import type { Wire } from '../../net/wire/message.js';
import { startEtcd, startTern, startTernCluster, type Running, startBoth } from './processes.js';

type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

/** Conditions are awaited this long at most (a loaded CI box is slow, never wrong). */
const PATIENCE_MS = 30_000;

interface Clients {
  readonly lock: Client;
  readonly election: Client;
  readonly kv: Client;
  readonly lease: Client;
  readonly auth: Client;
  close(): void;
}

function connect(endpoint: string): Clients {
  const services = loadEtcdServices();
  const make = (name: 'lock' | 'election' | 'kv' | 'lease' | 'auth'): Client => {
    const Ctor = grpc.makeGenericClientConstructor(services[name], name);
    return new Ctor(endpoint, grpc.credentials.createInsecure()) as Client;
  };
  const clients = { lock: make('lock'), election: make('election'), kv: make('kv'), lease: make('lease'), auth: make('auth') };
  return { ...clients, close: () => { for (const c of Object.values(clients)) c.close(); } };
}

/** A unary call's answer or its error, as data; `call` is the grpc-js call (to cancel it). */
function unary(client: Client, method: string, request: Wire, metadata = new grpc.Metadata()): { answer: Promise<Wire>; call: grpc.ClientUnaryCall } {
  const fn = client[method];
  if (fn === undefined) throw new Error(`no method ${method}`);
  let resolve: (answer: Wire) => void = () => undefined;
  const answer = new Promise<Wire>((r) => { resolve = r; }); // the executor runs at once: resolve is set
  const call = fn.call(client, request, metadata, (error: grpc.ServiceError | null, response: Wire) => {
    resolve(error === null ? response : { error: { code: error.code, details: error.details } });
  }) as grpc.ClientUnaryCall;
  return { answer, call };
}

const ask = (client: Client, method: string, request: Wire, metadata?: grpc.Metadata): Promise<Wire> => unary(client, method, request, metadata).answer;

async function until(what: string, condition: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + PATIENCE_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const b = (text: string): Buffer => Buffer.from(text);

/** One side's run: every answer, in order, with the lease ids met on the way. */
class Transcript {
  readonly steps: string[] = [];
  readonly leases: string[] = [];

  lease(id: string): string {
    if (!this.leases.includes(id)) this.leases.push(id);
    return id;
  }

  /** A lease id learned from a recipe key's hex suffix (a lease the server granted itself). */
  leaseOfKey(key: Buffer): string {
    const hex = key.toString().split('/').pop() ?? '';
    return this.lease(BigInt(`0x${hex}`).toString());
  }

  add(label: string, answer: unknown): void {
    this.steps.push(`${label}: ${JSON.stringify(answer, (_k, v: unknown) => readable(v))}`);
  }

  normalized(): string[] {
    return this.steps.map((step) => {
      let out = step.replace(/"raft_term":"\d+"/g, '"raft_term":"T"');
      this.leases.forEach((id, i) => {
        out = out.replaceAll(id, `L${i}`).replaceAll(BigInt(id).toString(16), `L${i}`);
      });
      return out;
    });
  }
}

/** Buffers as text (JSON.stringify hands the replacer their toJSON form). */
function readable(v: unknown): unknown {
  if (typeof v === 'object' && v !== null && (v as { type?: unknown }).type === 'Buffer') {
    return Buffer.from((v as { data: number[] }).data).toString();
  }
  return v;
}

const keyOf = (answer: Wire): Buffer => (answer['key'] as Buffer | undefined) ?? Buffer.alloc(0);

async function keysUnder(c: Clients, prefix: string): Promise<Wire[]> {
  const range = await ask(c.kv, 'Range', { key: b(prefix), range_end: b(prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1)) });
  return (range['kvs'] as Wire[] | undefined) ?? [];
}

/** A lock held, a second Lock waiting behind it until Unlock; a waiter moving up when the holder's lease is revoked or expires; a canceled waiter leaving. */
async function lockScenario(c: Clients, r: Transcript): Promise<void> {
  const grant = async (ttl: number): Promise<string> => {
    const granted = await ask(c.lease, 'LeaseGrant', { TTL: String(ttl) });
    r.add(`grant ${ttl}`, granted);
    return r.lease(String(granted['ID']));
  };
  const [a, bb, cc, d, e] = [await grant(60), await grant(60), await grant(60), await grant(60), await grant(60)];

  const first = await ask(c.lock, 'Lock', { name: b('door'), lease: a });
  r.add('lock door a', first);
  r.add('lock door a again (same lease: one acquisition)', await ask(c.lock, 'Lock', { name: b('door'), lease: a }));
  const second = unary(c.lock, 'Lock', { name: b('door'), lease: bb });
  await until('the second contender queues', async () => (await keysUnder(c, 'door/')).length === 2);
  r.add('unlock door a', await ask(c.lock, 'Unlock', { key: keyOf(first) }));
  r.add('lock door b, after the unlock', await second.answer);

  // A waiter that gives up: its key leaves the queue.
  const quitter = unary(c.lock, 'Lock', { name: b('door'), lease: cc });
  await until('the quitter queues', async () => (await keysUnder(c, 'door/')).length === 2);
  quitter.call.cancel();
  await until('the canceled waiter removed its key', async () => (await keysUnder(c, 'door/')).length === 1);
  r.add('door keys after the cancel', await ask(c.kv, 'Range', { key: b('door/'), range_end: b('door0') }));

  // The holder's lease is revoked: the waiter proceeds.
  r.add('lock gate d', await ask(c.lock, 'Lock', { name: b('gate'), lease: d }));
  const behind = unary(c.lock, 'Lock', { name: b('gate'), lease: e });
  await until('the gate waiter queues', async () => (await keysUnder(c, 'gate/')).length === 2);
  r.add('revoke d', await ask(c.lease, 'LeaseRevoke', { ID: d }));
  r.add('lock gate e, after the revoke', await behind.answer);

  // The holder's lease expires: the waiter proceeds.
  const short = await grant(2);
  r.add('lock hatch short', await ask(c.lock, 'Lock', { name: b('hatch'), lease: short }));
  r.add('lock hatch b, after the expiry', await ask(c.lock, 'Lock', { name: b('hatch'), lease: bb }));

  // Lease 0: the server grants a session lease of 60 s.
  const own = await ask(c.lock, 'Lock', { name: b('own'), lease: '0' });
  const ownLease = r.leaseOfKey(keyOf(own));
  r.add('lock own with lease 0', own);
  const ttl = await ask(c.lease, 'LeaseTimeToLive', { ID: ownLease });
  r.add('the session lease is granted 60 s', ttl['grantedTTL']);

  r.add('unlock a key nobody holds', await ask(c.lock, 'Unlock', { key: b('door/nothing') }));
  r.add('unlock no key', await ask(c.lock, 'Unlock', { key: b('') }));
  r.add('lock with an unknown lease', await ask(c.lock, 'Lock', { name: b('door'), lease: '12345' }));
  r.add('lock with a lease beyond 2^53', await ask(c.lock, 'Lock', { name: b('door'), lease: '9223372036854775807' }));
  r.add('lock with an empty name', await ask(c.lock, 'Lock', { name: b(''), lease: e }));
}

/** Two campaigns (the second waits), Leader, Proclaim, Observe across a Resign, and the refusals. */
async function electionScenario(c: Clients, r: Transcript): Promise<void> {
  const grant = async (): Promise<string> => r.lease(String((await ask(c.lease, 'LeaseGrant', { TTL: '60' }))['ID']));
  const [a, bb] = [await grant(), await grant()];
  r.add('leader before any campaign', await ask(c.election, 'Leader', { name: b('chair') }));

  const won = await ask(c.election, 'Campaign', { name: b('chair'), lease: a, value: b('alice') });
  r.add('campaign a', won);
  const leader = won['leader'] as Wire;
  const challenger = unary(c.election, 'Campaign', { name: b('chair'), lease: bb, value: b('bob') });
  await until('the challenger queues', async () => (await keysUnder(c, 'chair/')).length === 2);
  r.add('leader', await ask(c.election, 'Leader', { name: b('chair') }));

  const fn = c.election['Observe'];
  if (fn === undefined) throw new Error('no Observe');
  const observe = fn.call(c.election, { name: b('chair') }) as grpc.ClientReadableStream<Wire>;
  const seen: Wire[] = [];
  observe.on('data', (w: Wire) => { seen.push(w); });
  observe.on('error', () => undefined); // canceled at the end
  await until('observe reports the leader', () => seen.length >= 1);

  r.add('proclaim alice2', await ask(c.election, 'Proclaim', { leader, value: b('alice2') }));
  await until('observe reports the proclamation', () => seen.length >= 2);
  r.add('proclaim with a stale rev', await ask(c.election, 'Proclaim', { leader: { ...leader, rev: '1' }, value: b('x') }));
  r.add('proclaim without a leader key', await ask(c.election, 'Proclaim', { value: b('x') }));
  r.add('campaign a again, new value (proclaims it)', await ask(c.election, 'Campaign', { name: b('chair'), lease: a, value: b('alice3') }));
  await until('observe reports the campaign\'s proclamation', () => seen.length >= 3);

  r.add('resign a', await ask(c.election, 'Resign', { leader }));
  r.add('campaign b, after the resign', await challenger.answer);
  await until('observe reports the new leader', () => seen.length >= 4);
  r.add('resign a again (no longer leads)', await ask(c.election, 'Resign', { leader }));
  r.add('resign without a leader key', await ask(c.election, 'Resign', {}));
  r.add('leader after the resign', await ask(c.election, 'Leader', { name: b('chair') }));
  observe.cancel();
  r.add('observed', seen);
}

async function runOn(server: Running): Promise<string[]> {
  const c = connect(server.endpoint);
  try {
    const r = new Transcript();
    await lockScenario(c, r);
    await electionScenario(c, r);
    return r.normalized();
  } finally {
    c.close();
  }
}

test.serial('Lock and Election answer as etcd 3.4 does: waits, revisions, keys, leader keys, errors, observe', async (t) => {
  const [etcd, tern] = await startBoth(startEtcd(), startTern());
  t.teardown(async () => { await Promise.all([etcd.stop(), tern.stop()]); });
  const [fromEtcd, fromTern] = await Promise.all([runOn(etcd), runOn(tern)]);
  t.is(fromTern.length, fromEtcd.length);
  fromEtcd.forEach((step, i) => { t.is(fromTern[i], step); });
});

/** Root, and a user `u` who may read and write only under `door/`; auth enabled. */
async function enableAuth(c: Clients): Promise<void> {
  const steps: [string, Wire][] = [
    ['UserAdd', { name: 'root', password: 'rootpw' }], ['RoleAdd', { name: 'root' }], ['UserGrantRole', { user: 'root', role: 'root' }],
    ['UserAdd', { name: 'u', password: 'upw' }], ['RoleAdd', { name: 'doors' }],
    ['RoleGrantPermission', { name: 'doors', perm: { permType: 'READWRITE', key: b('door/'), range_end: b('door0') } }],
    ['UserGrantRole', { user: 'u', role: 'doors' }], ['AuthEnable', {}],
  ];
  for (const [method, request] of steps) {
    const answer = await ask(c.auth, method, request);
    if (answer['error'] !== undefined) throw new Error(`${method}: ${JSON.stringify(answer['error'])}`);
  }
}

async function tokenOf(c: Clients, name: string, password: string): Promise<grpc.Metadata> {
  const answer = await ask(c.auth, 'Authenticate', { name, password });
  const metadata = new grpc.Metadata();
  metadata.set('token', String(answer['token']));
  return metadata;
}

/** The recipes' inner calls carry the caller's token: its permissions hold for the recipe's keys. */
async function authScenario(c: Clients, r: Transcript): Promise<void> {
  const leases: string[] = [];
  for (let i = 0; i < 3; i++) leases.push(r.lease(String((await ask(c.lease, 'LeaseGrant', { TTL: '60' }))['ID'])));
  const [l0, l1, l2] = leases;
  await enableAuth(c);
  const u = await tokenOf(c, 'u', 'upw');
  const root = await tokenOf(c, 'root', 'rootpw');
  const door = await ask(c.lock, 'Lock', { name: b('door'), lease: l0 }, u);
  r.add('u locks door', door);
  r.add('u locks gate', await ask(c.lock, 'Lock', { name: b('gate'), lease: l0 }, u));
  r.add('nobody locks door', await ask(c.lock, 'Lock', { name: b('door'), lease: l1 }));
  r.add('root locks gate', await ask(c.lock, 'Lock', { name: b('gate'), lease: l1 }, root));
  r.add('u unlocks door', await ask(c.lock, 'Unlock', { key: keyOf(door) }, u));
  r.add('u campaigns for door', await ask(c.election, 'Campaign', { name: b('door'), lease: l2, value: b('v') }, u));
  r.add('u asks the gate leader', await ask(c.election, 'Leader', { name: b('gate') }, u));
  r.add('u asks the door leader', await ask(c.election, 'Leader', { name: b('door') }, u));
  r.add('u unlocks the gate lock', await ask(c.lock, 'Unlock', { key: b(`gate/${BigInt(l1 ?? '0').toString(16)}`) }, u));
  const fn = c.election['Observe'];
  if (fn === undefined) throw new Error('no Observe');
  const observe = fn.call(c.election, { name: b('gate') }, u) as grpc.ClientReadableStream<Wire>;
  const ending = await new Promise<string | undefined>((resolve) => {
    observe.on('data', () => undefined);
    // The code only: grpc-go sends OK without a message, grpc-js with "OK"; clients read neither.
    observe.on('status', (st: grpc.StatusObject) => { resolve(grpc.status[st.code]); });
  });
  r.add('u observes the gate: the stream ends', ending);
}

test.serial('with auth on, Lock and Election act with the caller\'s permissions, as on etcd 3.4', async (t) => {
  const [etcd, tern] = await startBoth(startEtcd(), startTern());
  t.teardown(async () => { await Promise.all([etcd.stop(), tern.stop()]); });
  const run = async (server: Running): Promise<string[]> => {
    const c = connect(server.endpoint);
    try {
      const r = new Transcript();
      await authScenario(c, r);
      return r.normalized();
    } finally {
      c.close();
    }
  };
  const [fromEtcd, fromTern] = await Promise.all([run(etcd), run(tern)]);
  t.is(fromTern.length, fromEtcd.length);
  fromEtcd.forEach((step, i) => { t.is(fromTern[i], step); });
});

test.serial('a Tern member that stops ends its waiting Lock with "etcdserver: server stopped"', async (t) => {
  const tern = await startTern();
  t.teardown(async () => { await tern.stop(); });
  const c = connect(tern.endpoint);
  t.teardown(() => { c.close(); });
  const [a, bb] = [String((await ask(c.lease, 'LeaseGrant', { TTL: '60' }))['ID']), String((await ask(c.lease, 'LeaseGrant', { TTL: '60' }))['ID'])];
  await ask(c.lock, 'Lock', { name: b('door'), lease: a });
  const waiter = unary(c.lock, 'Lock', { name: b('door'), lease: bb });
  await until('the waiter queues', async () => (await keysUnder(c, 'door/')).length === 2);
  await tern.stop();
  t.deepEqual(await waiter.answer, { error: { code: grpc.status.UNAVAILABLE, details: 'etcdserver: server stopped' } });
});

test.serial('every member of a three-member Tern cluster serves them: a waiter on one member proceeds when a third unlocks', async (t) => {
  const cluster = await startTernCluster(3);
  t.teardown(() => cluster.stop());
  const [c0, c1, c2] = cluster.members.map((m) => connect(m.endpoint));
  if (c0 === undefined || c1 === undefined || c2 === undefined) throw new Error('three members');
  t.teardown(() => { for (const c of [c0, c1, c2]) c.close(); });
  const a = String((await ask(c0.lease, 'LeaseGrant', { TTL: '60' }))['ID']);
  const bb = String((await ask(c1.lease, 'LeaseGrant', { TTL: '60' }))['ID']);
  const held = await ask(c0.lock, 'Lock', { name: b('door'), lease: a });
  t.is(keyOf(held).toString(), `door/${BigInt(a).toString(16)}`);
  const waiter = unary(c1.lock, 'Lock', { name: b('door'), lease: bb });
  await until('the waiter on member 1 queues, as member 2 reads', async () => (await keysUnder(c2, 'door/')).length === 2);
  t.false(await Promise.race([waiter.answer.then(() => true), Promise.resolve(false)]), 'the waiter is still waiting');
  await ask(c2.lock, 'Unlock', { key: keyOf(held) });
  const got = await waiter.answer;
  t.is(keyOf(got).toString(), `door/${BigInt(bb).toString(16)}`);
  const memberOf = (w: Wire): unknown => (w['header'] as Wire | undefined)?.['member_id'];
  t.not(memberOf(got), memberOf(held), 'each member answers with its own header');

  const won = await ask(c0.election, 'Campaign', { name: b('chair'), lease: a, value: b('alice') });
  const fn = c2.election['Observe'];
  if (fn === undefined) throw new Error('no Observe');
  const observe = fn.call(c2.election, { name: b('chair') }) as grpc.ClientReadableStream<Wire>;
  const seen: string[] = [];
  observe.on('data', (w: Wire) => { seen.push(String((w['kv'] as Wire | undefined)?.['value'])); });
  observe.on('error', () => undefined); // canceled below
  // Reported whenever the observer starts: the leader, then what it proclaims after.
  await until('member 2 observes the campaign on member 0', () => seen.length >= 1);
  await ask(c1.election, 'Proclaim', { leader: won['leader'], value: b('alice2') });
  await until('member 2 observes the proclamation on member 1', () => seen.length >= 2);
  observe.cancel();
  t.deepEqual(seen, ['alice', 'alice2']);
});
