// gRPC over the TLS acceptor: grpc-js serves a connection the acceptor decrypted (the
// way a member serves its client and peer ports), sees the client's certificate, and
// a client without a trusted certificate gets no answer. A member's peer credentials
// (rereadingCredentials.ts) present a certificate rotated on disk from the next
// connection on.

import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { channelCredentials } from '../../net/tls/channelCredentials.js';
import { TlsMaterial } from '../../net/tls/material.js';
import { NO_RULES } from '../../net/tls/peerRules.js';
import { RereadingCredentials } from '../../net/tls/rereadingCredentials.js';
import { TlsAcceptor } from '../../net/tls/tlsAcceptor.js';
import { makePki, type Pki } from './pki.js';

let pki: Pki;
test.before(async () => { pki = await makePki(); });
test.after.always(() => { pki.remove(); });

const identity = (b: Buffer): Buffer => b;
const ECHO = {
  whoAmI: { path: '/tern.test.Echo/WhoAmI', requestStream: false, responseStream: false,
    requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity },
} satisfies grpc.ServiceDefinition;

interface Served {
  readonly address: string;
  readonly refusals: string[];
  /** Cuts every TCP connection: a client must dial again. */
  dropConnections(): void;
  close(): Promise<void>;
}

async function serveEcho(): Promise<Served> {
  const server = new grpc.Server();
  server.addService(ECHO, {
    whoAmI: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      callback(null, Buffer.from(String(call.getAuthContext().sslPeerCertificate?.subject.CN ?? 'nobody')));
    },
  });
  const injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
  const refusals: string[] = [];
  const acceptor = new TlsAcceptor({
    material: new TlsMaterial({ certFile: pki.server.cert, keyFile: pki.server.key, trustedCaFile: pki.caFile, clientCertAuth: true, crlFile: '', ciphers: undefined }),
    rules: NO_RULES,
    onSecure: (socket) => { injector.injectConnection(socket); },
    onRefused: (_remote, reason) => { refusals.push(reason); },
  });
  const sockets = new Set<Socket>();
  const tcp: Server = createServer((raw) => {
    sockets.add(raw);
    raw.once('close', () => { sockets.delete(raw); });
    acceptor.accept(raw);
  });
  await new Promise<void>((resolve) => { tcp.listen(0, '127.0.0.1', resolve); });
  const address = tcp.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    address: `127.0.0.1:${port}`,
    refusals,
    dropConnections: () => { for (const socket of sockets) socket.destroy(); },
    close: async () => {
      server.forceShutdown();
      await new Promise<void>((resolve) => { tcp.close(() => { resolve(); }); });
    },
  };
}

function whoAmI(address: string, credentials: grpc.ChannelCredentials): Promise<string> {
  const client = new grpc.Client(address, credentials);
  return new Promise((resolve) => {
    client.makeUnaryRequest(ECHO.whoAmI.path, identity, identity, Buffer.alloc(0), { deadline: Date.now() + 20_000 }, (error, reply) => {
      client.close();
      resolve(error === null ? (reply ?? Buffer.alloc(0)).toString() : `error ${grpc.status[error.code]}`);
    });
  });
}

test('a gRPC call over the acceptor sees the client certificate\'s CN', async (t) => {
  const served = await serveEcho();
  try {
    t.is(await whoAmI(served.address, channelCredentials({ trustedCaFile: pki.caFile, certFile: pki.client.cert, keyFile: pki.client.key, skipVerify: false })), 'client');
  } finally { await served.close(); }
});

test('a client with a stranger CA\'s certificate, or none, gets Unavailable and is logged', async (t) => {
  const served = await serveEcho();
  try {
    const stranger = channelCredentials({ trustedCaFile: pki.caFile, certFile: pki.strangerClient.cert, keyFile: pki.strangerClient.key, skipVerify: false });
    t.is(await whoAmI(served.address, stranger), 'error UNAVAILABLE');
    t.is(await whoAmI(served.address, channelCredentials({ trustedCaFile: pki.caFile, certFile: '', keyFile: '', skipVerify: false })), 'error UNAVAILABLE');
    t.true(served.refusals.length >= 2, served.refusals.join('\n'));
  } finally { await served.close(); }
});

test('a client that does not trust the server\'s CA refuses it, unless told to skip verification', async (t) => {
  const served = await serveEcho();
  try {
    const distrustful = { trustedCaFile: pki.otherCaFile, certFile: pki.client.cert, keyFile: pki.client.key };
    t.is(await whoAmI(served.address, channelCredentials({ ...distrustful, skipVerify: false })), 'error UNAVAILABLE');
    t.is(await whoAmI(served.address, channelCredentials({ ...distrustful, skipVerify: true })), 'client');
  } finally { await served.close(); }
});

/** One call on a channel that stays open (unlike whoAmI): the CN the server saw, or the error. */
function callOn(client: grpc.Client): Promise<string> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(ECHO.whoAmI.path, identity, identity, Buffer.alloc(0), { deadline: Date.now() + 5_000 }, (error, reply) => {
      resolve(error === null ? (reply ?? Buffer.alloc(0)).toString() : `error ${grpc.status[error.code]}`);
    });
  });
}

/** Calls until the answer is `wanted` (a dropped connection takes a redial); the last answer. */
async function callUntil(client: grpc.Client, wanted: string): Promise<string> {
  let answer = '';
  for (const deadline = Date.now() + 30_000; Date.now() < deadline && answer !== wanted;) {
    answer = await callOn(client);
    if (answer !== wanted) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return answer;
}

test('peer credentials present a certificate rotated on disk from the next connection on; open ones keep theirs', async (t) => {
  const served = await serveEcho();
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-rotate-'));
  const [cert, key] = [path.join(dir, 'peer.pem'), path.join(dir, 'peer-key.pem')];
  const install = (files: { cert: string; key: string }): void => { copyFileSync(files.cert, cert); copyFileSync(files.key, key); };
  install(pki.client);
  const client = new grpc.Client(served.address, new RereadingCredentials({ trustedCaFile: pki.caFile, certFile: cert, keyFile: key, skipVerify: false }));
  try {
    t.is(await callOn(client), 'client');
    install(pki.otherNameClient); // CN=intruder, signed by the same CA
    t.is(await callOn(client), 'client', 'the open connection keeps the certificate it was made with');
    served.dropConnections();
    t.is(await callUntil(client, 'intruder'), 'intruder', 'the next connection presents the new certificate');
    // A half-done rotation (the new certificate, the old key) fails the dial, not the member; fixed files work again.
    copyFileSync(pki.client.cert, cert);
    served.dropConnections();
    t.regex(await callOn(client), /^error /);
    install(pki.client);
    t.is(await callUntil(client, 'client'), 'client');
  } finally {
    client.close();
    await served.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
