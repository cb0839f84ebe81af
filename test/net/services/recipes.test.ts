// The Lock and Election services' own bounds, in-process over grpc-js: a canceled
// waiter leaves no key and no watch behind, the member's stop ends every waiting call,
// and the member's limit on waiting calls holds. (What they answer is compared with
// etcd's in test/net/lock-election.test.ts.)
import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { MemoryLogStore } from '../../../core/node/memoryLogStore.js';
import { EtcdServer } from '../../../core/server/server.js';
import { loadEtcdServices } from '../../../net/proto/load.js';
import { RecipeCalls } from '../../../net/services/recipeCalls.js';
import { addEtcdServices, singleMemberContext, type EtcdServicesHandle } from '../../../net/services/register.js';
import type { Wire } from '../../../net/wire/message.js';

type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;
type ServiceName = 'lock' | 'election' | 'kv' | 'lease';

interface Served {
  readonly server: EtcdServer;
  readonly services: EtcdServicesHandle;
  readonly client: (service: ServiceName) => Client;
  stop(): Promise<void>;
}

const IDS = { memberId: '10276657743932975437', clusterId: '14841639068965178418' };
const PATIENCE_MS = 30_000;

async function serve(): Promise<Served> {
  const started = EtcdServer.start(
    { id: 1, initialVoters: [1], clusterId: 0, tickMs: 10, heartbeatTicks: 1, electionTicks: 10 },
    {
      logStore: new MemoryLogStore(), transport: { send: () => undefined },
      random: { intBelow: (bound) => Math.floor(Math.random() * bound) }, clock: { nowMs: () => Date.now() },
    },
  );
  if ('kind' in started) throw new Error(started.detail);
  const server = started;
  for (let i = 0; i < 19; i++) server.tick();
  const timer = setInterval(() => { server.tick(); }, 10);
  const grpcServer = new grpc.Server();
  const services = addEtcdServices(grpcServer, singleMemberContext(server, IDS));
  const port = await new Promise<number>((resolve, reject) => {
    grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => { if (e === null) resolve(p); else reject(e); });
  });
  await until('a leader', () => server.driver.status().lead !== 0);
  const definitions = loadEtcdServices();
  const clients: Client[] = [];
  return {
    server,
    services,
    client: (name) => {
      const Ctor = grpc.makeGenericClientConstructor(definitions[name], name);
      const c = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as Client;
      clients.push(c);
      return c;
    },
    stop: async () => {
      for (const c of clients) c.close();
      services.stop();
      clearInterval(timer);
      server.driver.stop();
      grpcServer.forceShutdown();
      await Promise.resolve();
    },
  };
}

async function until(what: string, condition: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + PATIENCE_MS;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`gave up waiting: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function unary(client: Client, method: string, request: Wire): { answer: Promise<Wire | grpc.ServiceError>; call: grpc.ClientUnaryCall } {
  const fn = client[method];
  if (fn === undefined) throw new Error(`no method ${method}`);
  let resolve: (answer: Wire | grpc.ServiceError) => void = () => undefined;
  const answer = new Promise<Wire | grpc.ServiceError>((r) => { resolve = r; }); // the executor runs at once
  const call = fn.call(client, request, (error: grpc.ServiceError | null, response: Wire) => { resolve(error ?? response); }) as grpc.ClientUnaryCall;
  return { answer, call };
}

async function ok(client: Client, method: string, request: Wire): Promise<Wire> {
  const answer = await unary(client, method, request).answer;
  if (answer instanceof Error) throw answer;
  return answer;
}

async function count(s: Served, prefix: string): Promise<number> {
  const end = prefix.slice(0, -1) + String.fromCharCode(prefix.charCodeAt(prefix.length - 1) + 1);
  return Number((await ok(s.client('kv'), 'Range', { key: Buffer.from(prefix), range_end: Buffer.from(end), count_only: true }))['count']);
}

const lease = async (s: Served): Promise<string> => String((await ok(s.client('lease'), 'LeaseGrant', { TTL: '60' }))['ID']);

test('a canceled Lock waiter removes its key and closes its watch; the holder keeps the lock', async (t) => {
  const s = await serve();
  t.teardown(() => s.stop());
  const [a, b] = [await lease(s), await lease(s)];
  await ok(s.client('lock'), 'Lock', { name: Buffer.from('door'), lease: a });
  const waiter = unary(s.client('lock'), 'Lock', { name: Buffer.from('door'), lease: b });
  await until('the waiter watches the holder', async () => (await count(s, 'door/')) === 2 && s.server.openWatchStreams === 1);
  waiter.call.cancel();
  const answer = await waiter.answer;
  t.is(answer instanceof Error ? answer.code : null, grpc.status.CANCELLED);
  await until('the waiter left', async () => (await count(s, 'door/')) === 1 && s.server.openWatchStreams === 0);
  t.pass();
});

test("the member's stop ends waiting Lock, Campaign and Observe calls at once, and refuses new ones", async (t) => {
  const s = await serve();
  t.teardown(() => s.stop());
  const [a, b, c] = [await lease(s), await lease(s), await lease(s)];
  await ok(s.client('lock'), 'Lock', { name: Buffer.from('door'), lease: a });
  await ok(s.client('election'), 'Campaign', { name: Buffer.from('chair'), lease: a, value: Buffer.from('x') });
  const lock = unary(s.client('lock'), 'Lock', { name: Buffer.from('door'), lease: b });
  const campaign = unary(s.client('election'), 'Campaign', { name: Buffer.from('chair'), lease: c, value: Buffer.from('y') });
  const observe = (s.client('election')['Observe'] as (r: Wire) => grpc.ClientReadableStream<Wire>).call(s.client('election'), { name: Buffer.from('chair') });
  const observed: Wire[] = [];
  const observeEnd = new Promise<grpc.ServiceError>((resolve) => { observe.on('error', resolve); });
  observe.on('data', (w: Wire) => { observed.push(w); });
  await until('both waiters and the observer watch', () => s.server.openWatchStreams === 3 && observed.length === 1);

  s.services.stop();
  for (const answer of [await lock.answer, await campaign.answer, await observeEnd]) {
    t.true(answer instanceof Error);
    t.like(answer, { code: grpc.status.UNAVAILABLE, details: 'etcdserver: server stopped' });
  }
  t.like(await unary(s.client('lock'), 'Lock', { name: Buffer.from('x'), lease: a }).answer, { details: 'etcdserver: server stopped' });
  await until('no watch is left', () => s.server.openWatchStreams === 0);
});

test('recipe calls are bounded; a call that leaves frees its place; stopAll aborts all as stopped', (t) => {
  const calls = new RecipeCalls(2);
  const first = calls.enter();
  const second = calls.enter();
  t.is(calls.enter(), 'tooMany');
  if (typeof first === 'string' || typeof second === 'string') throw new Error('refused below the limit');
  calls.leave(first);
  const third = calls.enter();
  t.true(third instanceof AbortController);
  calls.stopAll();
  t.true(second.signal.aborted);
  t.is(second.signal.reason, 'stopped');
  t.false(first.signal.aborted, 'a call that left is not aborted');
  t.is(calls.size, 0);
  t.is(calls.enter(), 'stopped');
  t.throws(() => new RecipeCalls(0), { message: /positive integer/ });
});
