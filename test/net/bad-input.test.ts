// Bad input never crashes a member or touches its data: every method of every service
// in Tern's .proto files gets undecodable bytes (and the read-only ones get random
// bytes too); each call ends with a gRPC status or a valid answer, and afterwards the
// member still serves and a key written before is unchanged.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import test from 'ava';
import fc from 'fast-check';
import path from 'node:path';
import { etcdctl, startTern } from './processes.js';

interface Method {
  readonly path: string;
  readonly requestStream: boolean;
  readonly responseStream: boolean;
}

/** Every RPC in net/proto/rpc.proto, v3lock.proto and v3election.proto, as grpc paths. */
function methods(): Method[] {
  const definition = protoLoader.loadSync(['rpc.proto', 'v3lock.proto', 'v3election.proto'], { includeDirs: [path.join(process.cwd(), 'net/proto')] });
  const out: Method[] = [];
  for (const value of Object.values(definition)) {
    if (typeof value !== 'object' || 'format' in value) continue; // a message or enum type
    for (const m of Object.values(value)) {
      out.push({ path: m.path, requestStream: m.requestStream, responseStream: m.responseStream });
    }
  }
  return out;
}

/** Methods that change nothing whatever they are asked (safe to feed random requests). */
const READ_ONLY = new Set([
  '/etcdserverpb.KV/Range', '/etcdserverpb.Maintenance/Status', '/etcdserverpb.Maintenance/Hash',
  '/etcdserverpb.Maintenance/HashKV', '/etcdserverpb.Lease/LeaseTimeToLive', '/etcdserverpb.Lease/LeaseLeases',
  '/etcdserverpb.Cluster/MemberList', '/etcdserverpb.Watch/Watch', '/v3electionpb.Election/Leader',
]);

/** Field 1, length-delimited, claiming 127 bytes with 1 present: no protobuf decoder accepts it. */
const UNDECODABLE = Buffer.from([0x0a, 0x7f, 0x01]);

type Answer = { readonly code: grpc.status | 'ok' };

const identity = (b: Buffer): Buffer => b;

/** Sends one request on any kind of method; resolves with the status it ended with. */
function send(client: grpc.Client, method: Method, body: Buffer): Promise<Answer> {
  const deadline = Date.now() + 5_000;
  return new Promise((resolve) => {
    const finish = (error: grpc.ServiceError | null): void => { resolve({ code: error === null ? 'ok' : error.code }); };
    if (!method.requestStream && !method.responseStream) {
      client.makeUnaryRequest(method.path, identity, identity, body, { deadline }, finish);
      return;
    }
    if (!method.requestStream) {
      const call = client.makeServerStreamRequest(method.path, identity, identity, body, { deadline });
      call.on('data', () => undefined);
      call.on('error', finish);
      call.on('end', () => { finish(null); });
      return;
    }
    const call = method.responseStream
      ? client.makeBidiStreamRequest(method.path, identity, identity, { deadline })
      : client.makeClientStreamRequest(method.path, identity, identity, { deadline }, finish);
    let settled = false;
    call.on('data', () => {
      // A streaming method that answered has survived the input: end it.
      if (!settled) {
        settled = true;
        resolve({ code: 'ok' });
        call.cancel();
      }
    });
    call.on('error', (e: grpc.ServiceError) => { if (!settled) { settled = true; finish(e); } });
    call.on('status', (status: grpc.StatusObject) => {
      if (settled || status.code !== grpc.status.OK) return; // errors arrive as 'error'
      settled = true;
      resolve({ code: 'ok' });
    });
    call.write(body);
    // Let the server answer a good request before the client half-closes.
    setTimeout(() => { call.end(); }, 200);
  });
}

test('undecodable and random requests to every method get a status, and the member and its data survive', async (t) => {
  const tern = await startTern();
  const client = new grpc.Client(tern.endpoint, grpc.credentials.createInsecure());
  try {
    t.is((await etcdctl(tern.endpoint, ['put', 'sentinel', 'kept'])).code, 0);
    const all = methods();
    t.true(all.length >= 6, `found ${all.length} methods`);
    for (const method of all) {
      const answer = await send(client, method, UNDECODABLE);
      if (method.requestStream) t.not(answer.code, grpc.status.DEADLINE_EXCEEDED, `${method.path} hung`);
      else t.not(answer.code, 'ok', `${method.path} accepted undecodable bytes`);
    }
    const readOnly = all.filter((m) => READ_ONLY.has(m.path));
    const samples = fc.sample(fc.uint8Array({ maxLength: 64 }), { numRuns: 40, seed: 7 });
    for (const method of readOnly) {
      for (const bytes of samples) {
        const answer = await send(client, method, Buffer.from(bytes));
        t.not(answer.code, grpc.status.UNAVAILABLE, `${method.path} made the member unavailable`);
      }
    }
    const got = await etcdctl(tern.endpoint, ['get', 'sentinel', '--print-value-only']);
    t.is(got.stdout.trim(), 'kept', 'the data is intact');
    t.is((await etcdctl(tern.endpoint, ['endpoint', 'health'])).code, 0, 'the member still serves');
    t.is(tern.process.exitCode, null, 'the member is still running');
  } finally {
    client.close();
    await tern.stop();
  }
});
