// A member stopping (SIGTERM) while clients are connected, on a plain and on a TLS client
// port: it exits within the same bound on both, closes sockets that are half-way through
// the TLS handshake or the protocol sniff, and gives open gRPC connections the same
// grace on both (they are told GOAWAY before the connection closes, as grpc-js's
// tryShutdown does, instead of being cut).

import test from 'ava';
import { connect as connectHttp2, type ClientHttp2Session } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { makePki, type Pki } from '../tls/pki.js';
import { etcdctl, freePort, spawnEtcdctl, startTernProcess, tempDataDir, removeDataDir } from './processes.js';

let pki: Pki;
test.before(async () => { pki = await makePki(); });
test.after.always(() => { pki.remove(); });

/**
 * The member's client grace is 2 s (member.ts); the handshake and sniff timeouts are 10 s.
 * A stop that waited on a half-open socket would take at least 10 s; a normal one takes
 * the grace and a little. 9 s leaves a loaded machine 7 s of slack below the timeouts.
 */
const EXIT_BOUND_MS = 9_000;

/** The first bytes of a TLS ClientHello (a record header announcing 512 bytes, then a few): a handshake left half done. */
const HALF_CLIENT_HELLO = Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03, 0x00]);
/** Half of the HTTP/2 preface: a sniff left half done. */
const HALF_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n', 'latin1');

/** A Watch call on a raw HTTP/2 session: WatchRequest{create_request{key:"k"}} in a gRPC frame. */
const WATCH_CREATE = Buffer.from([0x00, 0x00, 0x00, 0x00, 0x05, 0x0a, 0x03, 0x0a, 0x01, 0x6b]);

interface SessionEvents { goawayBeforeClose: boolean; closed: boolean }

/** Opens a Watch stream and resolves once the member answered it (the watch exists server-side). */
function openWatch(session: ClientHttp2Session): Promise<SessionEvents> {
  const events: SessionEvents = { goawayBeforeClose: false, closed: false };
  session.on('goaway', () => { if (!events.closed) events.goawayBeforeClose = true; });
  session.on('close', () => { events.closed = true; });
  session.on('error', () => undefined);
  const stream = session.request({ ':method': 'POST', ':path': '/etcdserverpb.Watch/Watch', 'content-type': 'application/grpc', te: 'trailers' }, { endStream: false });
  stream.on('error', () => undefined);
  stream.write(WATCH_CREATE);
  return new Promise((resolve, reject) => {
    stream.once('data', () => { resolve(events); });
    stream.once('close', () => { reject(new Error('the watch stream closed before it was created')); });
  });
}

function rawConnection(port: number, first: Buffer): Promise<{ socket: Socket; closed: () => boolean }> {
  return new Promise((resolve, reject) => {
    let closed = false;
    const socket = connect(port, '127.0.0.1', () => {
      socket.write(first);
      resolve({ socket, closed: () => closed });
    });
    socket.on('close', () => { closed = true; });
    socket.on('error', reject);
  });
}

for (const scheme of ['http', 'https'] as const) {
  test.serial(`SIGTERM with an etcdctl watch, a gRPC watch and a half-${scheme === 'https' ? 'done handshake' : 'sent preface'} open on an ${scheme} port: exit 0 within the bound, GOAWAY first`, async (t) => {
    const [port, peerPort] = [await freePort(), await freePort()];
    const dataDir = tempDataDir();
    const tls = scheme === 'https' ? ['--cert-file', pki.server.cert, '--key-file', pki.server.key] : [];
    const url = `${scheme}://127.0.0.1:${port}`;
    const member = await startTernProcess([
      '--data-dir', dataDir, '--listen-client-urls', url, '--advertise-client-urls', url, '--listen-peer-urls', `http://127.0.0.1:${peerPort}`, ...tls,
    ], `127.0.0.1:${port}`);
    const endpoint = scheme === 'https' ? url : `127.0.0.1:${port}`;
    const clientArgs = scheme === 'https' ? ['--cacert', pki.caFile] : [];
    const watcher = spawnEtcdctl(endpoint, [...clientArgs, 'watch', 'k']);
    const session = connectHttp2(url, scheme === 'https' ? { ca: readFileSync(pki.caFile) } : {});
    const opened: { half?: Socket } = {};
    t.teardown(async () => {
      session.destroy();
      opened.half?.destroy();
      await watcher.stop();
      await member.stop();
      removeDataDir(dataDir);
    });
    // The etcdctl watch is live once it prints an event.
    for (const deadline = Date.now() + 30_000; !watcher.stdout().includes('seen') && Date.now() < deadline;) {
      t.is((await etcdctl(endpoint, [...clientArgs, 'put', 'k', 'seen'])).code, 0);
      await watcher.waitFor((out) => out.includes('seen'), 2_000);
    }
    t.true(watcher.stdout().includes('seen'), `etcdctl watch: ${watcher.stderr()}`);
    const events = await openWatch(session);
    const raw = await rawConnection(port, scheme === 'https' ? HALF_CLIENT_HELLO : HALF_PREFACE);
    opened.half = raw.socket;

    const started = Date.now();
    const code = await member.stop();
    const elapsed = Date.now() - started;
    t.is(code, 0);
    t.true(elapsed < EXIT_BOUND_MS, `the member took ${elapsed} ms to exit`);
    for (const deadline = Date.now() + 10_000; !(raw.closed() && events.closed) && Date.now() < deadline;) await new Promise((resolve) => setTimeout(resolve, 50));
    t.true(raw.closed(), 'the half-open socket is closed');
    t.true(events.closed, 'the gRPC connection is closed');
    t.true(events.goawayBeforeClose, 'the gRPC connection was told GOAWAY before it closed, as in the grace');
  });
}
