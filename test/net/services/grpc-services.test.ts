// The gRPC services in-process, through raw grpc-js clients: what etcdctl and etcd3 do
// not exercise — many watchers on one stream, client-chosen and duplicate watch ids,
// cancel and progress requests, a stream's end closing the core stream, keep-alive of
// several leases on one stream, `hasleader` without a leader, gRPC health.
import test, { type ExecutionContext } from 'ava';
import { createServer, type Server as TcpServer } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { MemoryLogStore } from '../../../core/node/memoryLogStore.js';
import { EtcdServer } from '../../../core/server/server.js';
import { loadEtcdServices } from '../../../net/proto/load.js';
import { LeaderMonitor } from '../../../net/services/leaderMonitor.js';
import { etcdServices, singleMemberContext } from '../../../net/services/register.js';
import { addLaterMethods } from '../../../net/services/laterMethods.js';
import { serveDirectly } from '../../../net/grpcDirect/serveDirectly.js';
import { GrpcCallMetrics } from '../../../net/metrics/grpcMetrics.js';
import { MemberMetrics } from '../../../net/metrics/memberMetrics.js';
import type { Wire } from '../../../net/wire/message.js';

type Client = grpc.Client & Record<string, (...args: unknown[]) => unknown>;

/** grpc-js serves every call, or the direct path (net/grpcDirect) serves KV and Watch in front of it, as in a member. */
type Transport = 'grpc-js' | 'direct';

/** The scenario once on each transport. */
function onBothTransports(name: string, run: (t: ExecutionContext, transport: Transport) => Promise<void>): void {
  for (const transport of ['grpc-js', 'direct'] as const) test(`${name} (${transport})`, (t) => run(t, transport));
}

interface Served {
  readonly server: EtcdServer;
  /** Calls the direct path served (0 on grpc-js). */
  readonly directServed: () => number;
  readonly client: (service: keyof ReturnType<typeof loadEtcdServices>) => Client;
  stop(): Promise<void>;
}

const IDS = { memberId: '10276657743932975437', clusterId: '14841639068965178418' };

/** A member on loopback; with `voters` [1, 2] and no peer 2 it never has a leader. */
async function serve(transport: Transport, voters: number[] = [1]): Promise<Served> {
  const started = EtcdServer.start(
    { id: 1, initialVoters: voters, clusterId: 0, tickMs: 10, heartbeatTicks: 1, electionTicks: 10 },
    {
      logStore: new MemoryLogStore(), transport: { send: () => undefined },
      random: { intBelow: (bound) => Math.floor(Math.random() * bound) }, clock: { nowMs: () => Date.now() },
    },
  );
  if ('kind' in started) throw new Error(started.detail);
  const server = started;
  for (let i = 0; i < 9; i++) server.tick();
  const timer = setInterval(() => { server.tick(); }, 10);
  const grpcServer = new grpc.Server();
  const made = etcdServices(singleMemberContext(server, IDS));
  for (const [definition, handlers] of made.services) grpcServer.addService(definition, handlers);
  addLaterMethods(grpcServer);
  let direct: { served: number } | null = null;
  let tcp: TcpServer | null = null;
  const port = transport === 'grpc-js'
    ? await new Promise<number>((resolve, reject) => {
      grpcServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => { if (e === null) resolve(p); else reject(e); });
    })
    : await new Promise<number>((resolve) => {
      const injector = grpcServer.createConnectionInjector(grpc.ServerCredentials.createInsecure());
      direct = serveDirectly({
        server: grpcServer, services: made.services, openWatch: made.openWatch, calls: new GrpcCallMetrics(new MemberMetrics()),
        maxReceiveBytes: 4 * 1024 * 1024, leaveToGrpc: () => false, // grpc-js's default receive limit
      });
      const listening = createServer((socket) => { injector.injectConnection(socket); });
      tcp = listening;
      listening.listen(0, '127.0.0.1', () => { resolve((listening.address() as { port: number }).port); });
    });
  while (voters.length === 1 && server.driver.status().lead === 0) await new Promise((r) => setTimeout(r, 10));
  const services = loadEtcdServices();
  const clients: Client[] = [];
  return {
    server,
    directServed: () => direct?.served ?? 0,
    client: (name) => {
      const Ctor = grpc.makeGenericClientConstructor(services[name], name);
      const c = new Ctor(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as Client;
      clients.push(c);
      return c;
    },
    stop: async () => {
      for (const c of clients) c.close();
      clearInterval(timer);
      server.driver.stop();
      grpcServer.forceShutdown();
      await new Promise<void>((resolve) => { if (tcp === null) resolve(); else tcp.close(() => { resolve(); }); });
    },
  };
}

function unaryCall(client: Client, method: string, request: Wire, metadata = new grpc.Metadata()): Promise<Wire> {
  return new Promise((resolve, reject) => {
    const fn = client[method];
    if (fn === undefined) throw new Error(`no method ${method}`);
    fn.call(client, request, metadata, (error: grpc.ServiceError | null, response: Wire) => {
      if (error !== null) reject(error);
      else resolve(response);
    });
  });
}

/** A bidi stream: responses are collected; `next(n)` waits for the n-th. */
function bidi(client: Client, method: string, metadata = new grpc.Metadata()) {
  const fn = client[method];
  if (fn === undefined) throw new Error(`no method ${method}`);
  const call = fn.call(client, metadata) as grpc.ClientDuplexStream<Wire, Wire>;
  const received: Wire[] = [];
  const waiters: (() => void)[] = [];
  let failure: grpc.ServiceError | null = null;
  call.on('data', (w: Wire) => { received.push(w); for (const f of waiters.splice(0)) f(); });
  call.on('error', (e: grpc.ServiceError) => { failure = e; for (const f of waiters.splice(0)) f(); });
  const next = async (count: number): Promise<Wire[]> => {
    const deadline = Date.now() + 5_000;
    while (received.length < count && failure === null && Date.now() < deadline) {
      await new Promise<void>((resolve) => { waiters.push(resolve); setTimeout(resolve, 100); });
    }
    return received.slice(0, count);
  };
  return { call, received, next, failure: () => failure };
}

const put = (s: Served, key: string, value: string): Promise<Wire> =>
  unaryCall(s.client('kv'), 'Put', { key: Buffer.from(key), value: Buffer.from(value) });

onBothTransports('one watch stream multiplexes watchers: auto and chosen ids, duplicates, negative start, cancel, progress, filters', async (t, transport) => {
  const s = await serve(transport);
  try {
    const w = bidi(s.client('watch'), 'Watch');
    w.call.write({ create_request: { key: Buffer.from('a') } });
    w.call.write({ create_request: { key: Buffer.from('a'), watch_id: '7', filters: ['NOPUT'] } });
    w.call.write({ create_request: { key: Buffer.from('b'), watch_id: '7' } });
    w.call.write({ create_request: { key: Buffer.from('a'), start_revision: '-1' } });
    w.call.write({ create_request: { key: Buffer.from('a'), fragment: true, prev_kv: true } });
    const created = await w.next(5);
    t.deepEqual(created.map((r) => [r['watch_id'], r['created'], r['canceled'], r['cancel_reason']]), [
      ['0', true, false, ''],
      ['7', true, false, ''],
      ['7', true, true, 'mvcc: duplicate watch ID provided on the WatchStream'],
      ['-1', true, true, 'etcdserver: mvcc: required revision has been compacted'],
      ['1', true, false, ''],
    ]);
    await put(s, 'a', '1');
    await unaryCall(s.client('kv'), 'DeleteRange', { key: Buffer.from('a') });
    const events = (await w.next(10)).slice(5);
    const summary = events.map((r) => [r['watch_id'], (r['events'] as Wire[]).map((e) => e['type'])]);
    // Watcher 0 sees both; 7 filters puts; 1 sees both with prev_kv.
    t.deepEqual(summary.filter(([id]) => id === '0').flatMap(([, e]) => e as string[]), ['PUT', 'DELETE']);
    t.deepEqual(summary.filter(([id]) => id === '7').flatMap(([, e]) => e as string[]), ['DELETE']);
    const withPrev = events.filter((r) => r['watch_id'] === '1').flatMap((r) => r['events'] as Wire[]);
    t.is((withPrev[1]?.['prev_kv'] as Wire | undefined)?.['value']?.toString(), '1');

    w.call.write({ cancel_request: { watch_id: '7' } });
    w.call.write({ cancel_request: { watch_id: '99' } }); // unknown: no answer (as etcd)
    w.call.write({ progress_request: {} });
    const [cancel, progress] = (await w.next(12)).slice(10);
    t.is(cancel?.['watch_id'], '7');
    t.true(cancel?.['canceled']);
    t.is(progress?.['watch_id'], '-1');
    t.is((progress?.['header'] as Wire)['revision'], '3');
    t.is(s.server.openWatchStreams, 1);
    w.call.end();
    for (let i = 0; i < 100 && s.server.openWatchStreams > 0; i++) await new Promise((r) => setTimeout(r, 10));
    t.is(s.server.openWatchStreams, 0, "the client's end closes the core watch stream");
    const w2 = bidi(s.client('watch'), 'Watch');
    w2.call.write({ create_request: { key: Buffer.from('a') } });
    await w2.next(1);
    w2.call.cancel();
    for (let i = 0; i < 100 && s.server.openWatchStreams > 0; i++) await new Promise((r) => setTimeout(r, 10));
    t.is(s.server.openWatchStreams, 0, "the client's cancel closes the core watch stream");
    t.is(s.directServed() > 0, transport === 'direct', 'the direct path served the watch stream (and only there)');
  } finally {
    await s.stop();
  }
});

onBothTransports('keep-alive renews several leases on one stream; an unknown lease answers TTL 0', async (t, transport) => {
  const s = await serve(transport);
  try {
    const lease = s.client('lease');
    const a = await unaryCall(lease, 'LeaseGrant', { TTL: '30' });
    const b = await unaryCall(lease, 'LeaseGrant', { TTL: '60', ID: '77' });
    t.is(b['ID'], '77');
    await t.throwsAsync(unaryCall(lease, 'LeaseGrant', { TTL: '60', ID: '77' }), { message: /lease already exists/ });
    const k = bidi(lease, 'LeaseKeepAlive');
    for (const id of [a['ID'], '77', '5']) k.call.write({ ID: id });
    const answers = await k.next(3);
    t.deepEqual(answers.map((r) => [r['ID'], r['TTL']]), [[a['ID'], '30'], ['77', '60'], ['5', '0']]);
    k.call.end();
    const leases = await unaryCall(lease, 'LeaseLeases', {});
    t.deepEqual((leases['leases'] as Wire[]).map((l) => l['ID']).sort(), [a['ID'], '77'].sort());
  } finally {
    await s.stop();
  }
});

onBothTransports('health, status and watch with hasleader, with and without a leader', async (t, transport) => {
  const led = await serve(transport);
  const leaderless = await serve(transport, [1, 2]);
  try {
    t.deepEqual(await unaryCall(led.client('health'), 'Check', { service: '' }), { status: 'SERVING' });
    await t.throwsAsync(unaryCall(led.client('health'), 'Check', { service: 'etcdserverpb.KV' }), { message: /unknown service/ });
    t.deepEqual(await unaryCall(leaderless.client('health'), 'Check', { service: '' }), { status: 'NOT_SERVING' });
    const status = await unaryCall(leaderless.client('maintenance'), 'Status', {});
    t.deepEqual(status['errors'], ['etcdserver: no leader']);
    const metadata = new grpc.Metadata();
    metadata.set('hasleader', 'true');
    const w = bidi(leaderless.client('watch'), 'Watch', metadata);
    w.call.write({ create_request: { key: Buffer.from('a') } });
    await w.next(1);
    t.is(w.failure()?.code, grpc.status.UNAVAILABLE);
    t.is(w.failure()?.details, 'etcdserver: no leader');
    await t.throwsAsync(unaryCall(leaderless.client('maintenance'), 'MoveLeader', { targetID: IDS.memberId }), { message: /not leader/ });
  } finally {
    await Promise.all([led.stop(), leaderless.stop()]);
  }
});

onBothTransports('hash of the whole store, alarms raised and cleared; auth answers while disabled', async (t, transport) => {
  const s = await serve(transport);
  try {
    const m = s.client('maintenance');
    const before = await unaryCall(m, 'Hash', {});
    await put(s, 'x', '1');
    const after = await unaryCall(m, 'Hash', {});
    t.not(before['hash'], after['hash']);
    const raised = await unaryCall(m, 'Alarm', { action: 'ACTIVATE', memberID: IDS.memberId, alarm: 'NOSPACE' });
    t.deepEqual(raised['alarms'], [{ memberID: IDS.memberId, alarm: 'NOSPACE' }]);
    t.is((await unaryCall(m, 'Alarm', { action: 'GET' }))['alarms'] instanceof Array, true);
    t.is(((await unaryCall(m, 'Alarm', { action: 'GET' }))['alarms'] as Wire[]).length, 1);
    await unaryCall(m, 'Alarm', { action: 'DEACTIVATE', memberID: IDS.memberId, alarm: 'NOSPACE' });
    t.deepEqual((await unaryCall(m, 'Alarm', { action: 'GET' }))['alarms'], []);
    await unaryCall(s.client('auth'), 'UserAdd', { name: 'bob', password: 'x' });
    t.deepEqual((await unaryCall(s.client('auth'), 'UserList', {}))['users'], ['bob']);
    await t.throwsAsync(unaryCall(s.client('auth'), 'Authenticate', { name: 'root', password: 'x' }), { message: /authentication is not enabled/ });
  } finally {
    await s.stop();
  }
});

test('streams that require a leader are canceled after 3 election timeouts without one (etcd monitorLeader)', async (t) => {
  const status = { lead: 1 };
  const fake = { driver: { status: () => status } } as unknown as EtcdServer;
  const monitor = new LeaderMonitor(fake, 20);
  let canceled = 0;
  const release = monitor.track(() => { canceled++; });
  await new Promise((r) => setTimeout(r, 100));
  t.is(canceled, 0, 'a leader is known: nothing happens');
  status.lead = 0;
  await new Promise((r) => setTimeout(r, 30));
  t.is(canceled, 0, 'one election timeout without a leader is tolerated');
  for (let i = 0; i < 200 && canceled === 0; i++) await new Promise((r) => setTimeout(r, 10));
  t.true(canceled >= 1);
  release();
});

onBothTransports('a watcher whose client stops reading falls back to history and then delivers every event in order', async (t, transport) => {
  const s = await serve(transport);
  try {
    const w = bidi(s.client('watch'), 'Watch');
    w.call.write({ create_request: { key: Buffer.from('slow/'), range_end: Buffer.from('slow0') } });
    await w.next(1);
    w.call.pause(); // the client reads nothing: HTTP/2 flow control backs up to the server
    const value = 'v'.repeat(2048);
    const total = 1500;
    await Promise.all(Array.from({ length: total }, (_, i) => new Promise<void>((resolve) => {
      s.server.put({ key: Buffer.from(`slow/${String(i).padStart(5, '0')}`), value: Buffer.from(value) }, () => { resolve(); });
    })));
    t.true(s.server.machine.hub.unsyncedCount() > 0, 'the watcher stopped buffering and will catch up from history');
    w.call.resume();
    const deadline = Date.now() + 20_000;
    const keys = (): string[] => w.received.slice(1).flatMap((r) => (r['events'] as Wire[]).map((e) => String((e['kv'] as Wire)['key'])));
    while (keys().length < total && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    t.deepEqual(keys(), Array.from({ length: total }, (_, i) => `slow/${String(i).padStart(5, '0')}`));
    t.is(s.directServed() > 0, transport === 'direct');
  } finally {
    await s.stop();
  }
});

onBothTransports('a watcher that asked for fragments gets a large revision split; others get it whole', async (t, transport) => {
  const s = await serve(transport);
  try {
    const w = bidi(s.client('watch'), 'Watch');
    w.call.write({ create_request: { key: Buffer.from('big/'), range_end: Buffer.from('big0'), prev_kv: true, fragment: true } });
    w.call.write({ create_request: { key: Buffer.from('big/'), range_end: Buffer.from('big0'), prev_kv: true } });
    await w.next(2);
    const value = Buffer.alloc(700 * 1024, 1);
    for (const k of ['big/1', 'big/2', 'big/3']) await put(s, k, value.toString());
    await w.next(8);
    // One revision deleting all three (2.1 MB of prev_kv): split for watcher 0 only.
    await unaryCall(s.client('kv'), 'DeleteRange', { key: Buffer.from('big/'), range_end: Buffer.from('big0') });
    const deadline = Date.now() + 10_000;
    const deletes = (id: string): Wire[] => w.received.filter((r) => r['watch_id'] === id && (r['events'] as Wire[]).some((e) => e['type'] === 'DELETE'));
    while ((deletes('0').length < 2 || deletes('1').length < 1) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    const split = deletes('0');
    t.true(split.length >= 2);
    t.deepEqual(split.map((r) => r['fragment']), [...split.slice(1).map(() => true), false]);
    t.is(split.flatMap((r) => r['events'] as Wire[]).length, 3);
    t.deepEqual(deletes('1').map((r) => [(r['events'] as Wire[]).length, r['fragment']]), [[3, false]]);
  } finally {
    await s.stop();
  }
});
