// The direct path (net/grpcDirect) against grpc-js, on the wire: two single members
// with the same identity, one serving KV and Watch calls directly and one leaving them
// to grpc-js, get the same raw HTTP/2 requests — well-formed calls and every malformed
// shape grpc-js answers itself — and must answer with the same response headers,
// message bytes and trailers, and count the same metrics.
import test from 'ava';
import http2 from 'node:http2';
import { clusterId, memberId } from '../../../net/config/ids.js';
import { Member } from '../../../net/member/member.js';
import { MemberMetrics } from '../../../net/metrics/memberMetrics.js';
import { Membership, type MemberRecord } from '../../../core/membership/members.js';
import { loadEtcdServices } from '../../../net/proto/load.js';
import { freePort } from '../processes.js';

const KV = loadEtcdServices().kv;
const WATCH = loadEtcdServices().watch;
const MAX_REQUEST_BYTES = 1024;

function encode(method: string, request: Record<string, unknown>): Buffer {
  const definition = KV[method];
  if (definition === undefined) throw new Error(`no KV method ${method}`);
  return definition.requestSerialize(request);
}

/** One gRPC message: the flag byte, the length, the bytes. */
function frame(message: Buffer, flag = 0): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt8(flag, 0);
  head.writeUInt32BE(message.length, 1);
  return Buffer.concat([head, message]);
}

interface RawCall {
  readonly name: string;
  readonly path: string;
  readonly body: Buffer;
  readonly headers?: http2.OutgoingHttpHeaders;
}

interface RawAnswer {
  readonly headers: Record<string, unknown>;
  readonly data: string;
  readonly trailers: Record<string, unknown> | null;
}

const put = (key: string, value: string): Buffer => encode('Put', { key: Buffer.from(key), value: Buffer.from(value) });

/** Bytes of a varint. */
function varint(value: number): number[] {
  const out: number[] = [];
  let v = value;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** A TxnRequest whose success branch holds a Txn, `depth` deep (written by hand: encoders recurse). */
function nestedTxn(depth: number): Buffer {
  let txn = Buffer.alloc(0);
  for (let i = 0; i < depth; i++) {
    const op = Buffer.concat([Buffer.from([0x22, ...varint(txn.length)]), txn]); // RequestOp.request_txn = 4
    txn = Buffer.concat([Buffer.from([0x12, ...varint(op.length)]), op]); // TxnRequest.success = 2
  }
  return txn;
}

const CALLS: readonly RawCall[] = [
  { name: 'put', path: '/etcdserverpb.KV/Put', body: frame(put('a', '1')) },
  { name: 'put with a deadline', path: '/etcdserverpb.KV/Put', body: frame(put('b', '2')), headers: { 'grpc-timeout': '5S' } },
  { name: 'range', path: '/etcdserverpb.KV/Range', body: frame(encode('Range', { key: Buffer.from('a'), range_end: Buffer.from('z') })) },
  { name: 'serializable range, metadata', path: '/etcdserverpb.KV/Range', body: frame(encode('Range', { key: Buffer.from('a'), serializable: true })), headers: { 'client-api-version': '3.4', token: 'no-such-token' } },
  { name: 'txn', path: '/etcdserverpb.KV/Txn', body: frame(encode('Txn', {
    compare: [{ key: Buffer.from('a'), target: 'VALUE', result: 'EQUAL', value: Buffer.from('1') }],
    success: [{ request_put: { key: Buffer.from('c'), value: Buffer.from('3') } }],
    failure: [{ request_range: { key: Buffer.from('a') } }],
  })) },
  { name: 'delete range', path: '/etcdserverpb.KV/DeleteRange', body: frame(encode('DeleteRange', { key: Buffer.from('b'), prev_kv: true })) },
  { name: 'an empty key (etcd refuses it)', path: '/etcdserverpb.KV/Put', body: frame(put('', 'x')) },
  { name: 'the compressed flag under identity', path: '/etcdserverpb.KV/Put', body: frame(put('d', '4'), 1) },
  { name: 'a message in several pieces', path: '/etcdserverpb.KV/Put', body: frame(put('e', 'x'.repeat(900))) },
  { name: 'above --max-request-bytes', path: '/etcdserverpb.KV/Put', body: frame(put('f', 'x'.repeat(MAX_REQUEST_BYTES + 10))) },
  { name: 'above the receive limit', path: '/etcdserverpb.KV/Put', body: frame(Buffer.alloc(MAX_REQUEST_BYTES + 512 * 1024 + 1)) },
  { name: 'undecodable', path: '/etcdserverpb.KV/Put', body: frame(Buffer.from([0x0a, 0x7f, 0x01])) },
  { name: 'a Txn nested 20,000 deep', path: '/etcdserverpb.KV/Txn', body: frame(nestedTxn(20_000)) },
  { name: 'no message', path: '/etcdserverpb.KV/Range', body: Buffer.alloc(0) },
  { name: 'a message, then one too large', path: '/etcdserverpb.KV/Range', body: Buffer.concat([frame(encode('Range', { key: Buffer.from('a') })), Buffer.from([0, 0x7f, 0, 0, 0])]) },
  { name: 'half a message', path: '/etcdserverpb.KV/Range', body: frame(encode('Range', { key: Buffer.from('a') })).subarray(0, 4) },
  { name: 'two messages', path: '/etcdserverpb.KV/Range', body: Buffer.concat([frame(encode('Range', { key: Buffer.from('a') })), frame(encode('Range', { key: Buffer.from('a') }))]) },
  { name: 'a message and a cut-off one', path: '/etcdserverpb.KV/Range', body: Buffer.concat([frame(encode('Range', { key: Buffer.from('a') })), Buffer.from([0, 0, 0])]) },
  { name: 'not gRPC', path: '/etcdserverpb.KV/Put', body: frame(put('g', '5')), headers: { 'content-type': 'text/plain' } },
  { name: 'gzip', path: '/etcdserverpb.KV/Put', body: frame(put('h', '6')), headers: { 'grpc-encoding': 'gzip' } },
  { name: 'an unreadable deadline', path: '/etcdserverpb.KV/Put', body: frame(put('i', '7')), headers: { 'grpc-timeout': 'soon' } },
  { name: 'a method the direct path leaves alone', path: '/etcdserverpb.KV/Compact', body: frame(encode('Compact', { revision: 1 })) },
];

/** Sends one raw request and collects everything that came back (the date header dropped). */
function send(session: http2.ClientHttp2Session, call: RawCall): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const stream = session.request({
      ':method': 'POST', ':path': call.path, 'content-type': 'application/grpc', te: 'trailers', ...call.headers,
    });
    let headers: Record<string, unknown> = {};
    let trailers: Record<string, unknown> | null = null;
    const chunks: Buffer[] = [];
    stream.on('response', (h: http2.IncomingHttpHeaders) => { headers = withoutDate(h); });
    stream.on('trailers', (h: http2.IncomingHttpHeaders) => { trailers = withoutDate(h); });
    stream.on('data', (chunk: Buffer) => { chunks.push(chunk); });
    stream.on('error', reject);
    stream.on('close', () => { resolve({ headers, data: Buffer.concat(chunks).toString('hex'), trailers }); });
    // Written in two pieces, so that a message also arrives split across data frames.
    const half = Math.floor(call.body.length / 2);
    stream.write(call.body.subarray(0, half));
    stream.end(call.body.subarray(half));
  });
}

function withoutDate(headers: http2.IncomingHttpHeaders): Record<string, unknown> {
  const { date: _date, ...rest } = headers;
  return rest;
}

interface Pair {
  readonly direct: Member;
  readonly grpcJs: Member;
  readonly ports: readonly [number, number];
  readonly metrics: readonly [MemberMetrics, MemberMetrics];
}

/** Two members of the same one-member cluster (same ids, so the same response headers), on ports of their own. */
async function startPair(voters: number): Promise<Pair> {
  const records: MemberRecord[] = Array.from({ length: voters }, (_, i) => {
    const peerUrl = `http://127.0.0.1:${2380 + i}`; // never dialled with one voter; a quorum never forms with more
    return { id: memberId([peerUrl], 'direct'), name: `m${i + 1}`, peerUrls: [peerUrl], clientUrls: [], isLearner: false };
  });
  const cluster = clusterId(records.map((r) => r.id));
  const self = records[0];
  if (self === undefined) throw new Error('no member');
  const start = async (directCalls: boolean, metrics: MemberMetrics): Promise<[Member, number]> => {
    const [client, peer] = [await freePort(), await freePort()];
    const member = await Member.start({
      membership: new Membership(cluster, self.id, records, null),
      clientAddresses: [{ address: `127.0.0.1:${client}`, secure: false }],
      peerAddresses: [{ address: `127.0.0.1:${peer}`, secure: false }],
      name: self.name, advertiseClientUrls: [`http://127.0.0.1:${client}`], clusterToken: 'direct',
      heartbeatMs: 20, electionMs: 200, maxRequestBytes: MAX_REQUEST_BYTES, metrics, directCalls,
    });
    return [member, client];
  };
  const metrics: [MemberMetrics, MemberMetrics] = [new MemberMetrics(), new MemberMetrics()];
  const [direct, directPort] = await start(true, metrics[0]);
  const [grpcJs, grpcJsPort] = await start(false, metrics[1]).catch(async (error: unknown) => { await direct.stop(); throw error; });
  return { direct, grpcJs, ports: [directPort, grpcJsPort], metrics };
}

async function untilLeader(member: Member): Promise<void> {
  for (let i = 0; i < 500 && member.server.driver.status().lead === 0; i++) await new Promise((r) => setTimeout(r, 10));
}

/** The metric lines both paths count: gRPC calls, messages, bytes and client requests. */
async function callMetrics(metrics: MemberMetrics): Promise<string[]> {
  const { body } = await metrics.exposition();
  return body.split('\n').filter((line) => /^(grpc_server_|etcd_network_client_grpc_|etcd_server_client_requests_total|etcd_server_proposals_failed_total)/.test(line));
}

test('the direct path answers every call as grpc-js does, on the wire and in the metrics', async (t) => {
  const pair = await startPair(1);
  const sessions = pair.ports.map((port) => http2.connect(`http://127.0.0.1:${port}`));
  try {
    await Promise.all([untilLeader(pair.direct), untilLeader(pair.grpcJs)]);
    const answers = new Map<string, RawAnswer>();
    for (const call of CALLS) {
      const [direct, grpcJs] = await Promise.all(sessions.map((session) => send(session, call)));
      t.deepEqual(direct, grpcJs, call.name);
      if (grpcJs !== undefined) answers.set(call.name, grpcJs);
    }
    // The cases are what they claim: spot checks of what grpc-js answered.
    const statusOf = (name: string): string => {
      const answer = answers.get(name);
      return `${String(answer?.trailers?.['grpc-status'] ?? answer?.headers['grpc-status'])} ${String(answer?.trailers?.['grpc-message'] ?? answer?.headers['grpc-message'])}`;
    };
    t.is(statusOf('put'), '0 OK');
    t.is(statusOf('above the receive limit'), `8 Received%20message%20larger%20than%20max%20(${MAX_REQUEST_BYTES + 512 * 1024 + 1}%20vs%20${MAX_REQUEST_BYTES + 512 * 1024})`);
    t.is(statusOf('above --max-request-bytes'), '3 etcdserver:%20request%20is%20too%20large');
    t.is(statusOf('two messages'), '12 Received%20a%20second%20request%20message%20for%20server%20streaming%20method%20/etcdserverpb.KV/Range');
    t.is(statusOf('undecodable'), '13 Error%20deserializing%20request');
    t.is(statusOf('a Txn nested 20,000 deep'), '13 Error%20deserializing%20request');
    // The metrics agree but for the statuses grpc-js's call layer sends itself (too
    // large, undecodable): its interceptor never sees those and counts them Canceled.
    // The direct path counts the code it sent, as etcd's go-grpc-prometheus does.
    const direct = await callMetrics(pair.metrics[0]);
    const grpcJs = await callMetrics(pair.metrics[1]);
    const putHandled = (code: string, count: number): string =>
      `grpc_server_handled_total{grpc_code="${code}",grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary"} ${count}`;
    const countedApart = (line: string): boolean => line.startsWith('grpc_server_handled_total') && /grpc_code="(Canceled|ResourceExhausted|Internal)"/.test(line);
    t.deepEqual(direct.filter((line) => !countedApart(line)), grpcJs.filter((line) => !countedApart(line)));
    t.true(grpcJs.includes(putHandled('Canceled', 3)));
    const txnInternal = 'grpc_server_handled_total{grpc_code="Internal",grpc_method="Txn",grpc_service="etcdserverpb.KV",grpc_type="unary"} 1';
    for (const line of [putHandled('ResourceExhausted', 1), putHandled('Internal', 1), putHandled('Canceled', 1), putHandled('OK', 5), putHandled('InvalidArgument', 2), txnInternal]) {
      t.true(direct.includes(line), line);
    }
    // Every well-formed KV call of the list went the direct way; the others went to grpc-js.
    t.is(pair.direct.directCallsServed, 18);
    t.is(pair.grpcJs.directCallsServed, 0);
  } finally {
    for (const session of sessions) session.close();
    await Promise.all([pair.direct.stop(), pair.grpcJs.stop()]);
  }
});

test('a call that outlives its deadline ends with DEADLINE_EXCEEDED on both paths; a cancelled one counts as Canceled', async (t) => {
  // One member of three, the others never started: no leader, so a put waits.
  const pair = await startPair(3);
  const sessions = pair.ports.map((port) => http2.connect(`http://127.0.0.1:${port}`));
  try {
    const late: RawCall = { name: 'late', path: '/etcdserverpb.KV/Put', body: frame(put('a', '1')), headers: { 'grpc-timeout': '200m' } };
    const [direct, grpcJs] = await Promise.all(sessions.map((session) => send(session, late)));
    t.deepEqual(direct, grpcJs);
    t.is(direct?.headers['grpc-status'], '4');
    t.is(direct?.headers['grpc-message'], 'Deadline%20exceeded');
    // A client that resets its stream before the answer.
    const cancelled = async (metrics: MemberMetrics): Promise<string[]> =>
      (await callMetrics(metrics)).filter((line) => line.startsWith('grpc_server_handled_total') && line.includes('"Put"'));
    const stream = (sessions[0] as http2.ClientHttp2Session).request({ ':method': 'POST', ':path': '/etcdserverpb.KV/Put', 'content-type': 'application/grpc' });
    stream.on('error', () => undefined);
    stream.write(frame(put('b', '2')));
    stream.end();
    const closed = new Promise<void>((resolve) => { stream.on('close', () => { resolve(); }); });
    // Reset once the member took the call (whether or not its handler started, the call ends Canceled).
    for (let i = 0; i < 500 && pair.direct.directCallsServed < 2; i++) await new Promise((r) => setTimeout(r, 10));
    stream.close(http2.constants.NGHTTP2_CANCEL);
    await closed;
    for (let i = 0; i < 500 && !(await cancelled(pair.metrics[0])).some((line) => line.includes('"Canceled"')); i++) await new Promise((r) => setTimeout(r, 10));
    t.deepEqual(await cancelled(pair.metrics[0]), [
      'grpc_server_handled_total{grpc_code="DeadlineExceeded",grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary"} 1',
      'grpc_server_handled_total{grpc_code="Canceled",grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary"} 1',
    ]);
    t.is(pair.direct.directCallsServed, 2);
  } finally {
    for (const session of sessions) session.close();
    await Promise.all([pair.direct.stop(), pair.grpcJs.stop()]);
  }
});

/** A raw Watch stream: requests written one at a time, response messages collected as hex. */
class RawWatch {
  readonly messages: string[] = [];
  headers: Record<string, unknown> = {};
  trailers: Record<string, unknown> | null = null;
  readonly closed: Promise<void>;
  private pending = Buffer.alloc(0);
  private readonly stream: http2.ClientHttp2Stream;

  constructor(session: http2.ClientHttp2Session) {
    this.stream = session.request({ ':method': 'POST', ':path': '/etcdserverpb.Watch/Watch', 'content-type': 'application/grpc', te: 'trailers' });
    this.stream.on('response', (h: http2.IncomingHttpHeaders) => { this.headers = withoutDate(h); });
    this.stream.on('trailers', (h: http2.IncomingHttpHeaders) => { this.trailers = withoutDate(h); });
    this.stream.on('data', (chunk: Buffer) => {
      this.pending = Buffer.concat([this.pending, chunk]);
      while (this.pending.length >= 5 && this.pending.length >= 5 + this.pending.readUInt32BE(1)) {
        const length = this.pending.readUInt32BE(1);
        this.messages.push(this.pending.subarray(5, 5 + length).toString('hex'));
        this.pending = this.pending.subarray(5 + length);
      }
    });
    this.closed = new Promise((resolve) => { this.stream.on('close', () => { resolve(); }); });
  }

  write(bytes: Buffer): void {
    this.stream.write(bytes);
  }

  request(request: Record<string, unknown>): void {
    const definition = WATCH['Watch'];
    if (definition === undefined) throw new Error('no Watch method');
    this.write(frame(definition.requestSerialize(request)));
  }

  end(): void {
    this.stream.end();
  }

  async until(count: number): Promise<void> {
    for (let i = 0; i < 1000 && this.messages.length < count; i++) await new Promise((r) => setTimeout(r, 5));
  }

  decoded(): unknown[] {
    const definition = WATCH['Watch'];
    if (definition === undefined) throw new Error('no Watch method');
    return this.messages.map((hex): unknown => definition.responseDeserialize(Buffer.from(hex, 'hex')));
  }
}

test('a Watch stream goes the same on both paths: create, events, progress, cancel, half-close, and bad requests', async (t) => {
  const pair = await startPair(1);
  const sessions = pair.ports.map((port) => http2.connect(`http://127.0.0.1:${port}`));
  try {
    await Promise.all([untilLeader(pair.direct), untilLeader(pair.grpcJs)]);
    const sides = sessions.map((session) => ({ session, watch: new RawWatch(session) }));
    const step = async (act: (side: { session: http2.ClientHttp2Session; watch: RawWatch }) => unknown, messages: number): Promise<void> => {
      await Promise.all(sides.map(async (side) => { await act(side); await side.watch.until(messages); }));
    };
    await step(({ watch }) => { watch.request({ create_request: { key: Buffer.from('w'), range_end: Buffer.from('x'), prev_kv: true } }); }, 1);
    await step(({ session }) => send(session, { name: 'put', path: '/etcdserverpb.KV/Put', body: frame(put('w1', 'v')) }), 2);
    // Two watchers on one revision: both events in one delivery (written at once on the direct path).
    await step(({ watch }) => { watch.request({ create_request: { key: Buffer.from('w1') } }); }, 3);
    await step(({ session }) => send(session, { name: 'put', path: '/etcdserverpb.KV/Put', body: frame(put('w1', 'u')) }), 5);
    await step(({ watch }) => { watch.request({ progress_request: {} }); }, 6);
    await step(({ watch }) => { watch.request({ cancel_request: { watch_id: '0' } }); }, 7);
    await Promise.all(sides.map(async ({ watch }) => { watch.end(); await watch.closed; }));
    const [direct, grpcJs] = sides.map(({ watch }) => ({ headers: watch.headers, messages: watch.messages, trailers: watch.trailers }));
    t.deepEqual(direct, grpcJs);
    t.is(direct?.messages.length, 7);
    t.deepEqual([direct?.trailers?.['grpc-status'], direct?.trailers?.['grpc-message']], ['0', 'OK']);
    const events = (sides[0]?.watch.decoded() ?? []) as { watch_id: string; events: unknown[] }[];
    t.deepEqual(events.map((r) => [r.watch_id, r.events.length]), [['0', 0], ['0', 1], ['1', 0], ['0', 1], ['1', 1], ['-1', 0], ['0', 0]]);

    for (const bad of [Buffer.from([0, 0, 0, 0, 3, 0x0a, 0x7f, 0x01]), frame(Buffer.alloc(MAX_REQUEST_BYTES + 512 * 1024 + 1))]) {
      const answers = await Promise.all(sessions.map(async (session) => {
        const watch = new RawWatch(session);
        watch.write(bad);
        watch.end();
        await watch.closed;
        return { headers: watch.headers, messages: watch.messages, trailers: watch.trailers };
      }));
      t.deepEqual(answers[0], answers[1]);
    }
    t.is(pair.direct.directCallsServed, 2 + 3);
  } finally {
    for (const session of sessions) session.close();
    await Promise.all([pair.direct.stop(), pair.grpcJs.stop()]);
  }
});
