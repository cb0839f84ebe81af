// gRPC over the TLS acceptor: grpc-js serves a connection the acceptor decrypted (the
// way a member serves its client and peer ports), sees the client's certificate, and
// a client without a trusted certificate gets no answer.

import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { createServer, type Server } from 'node:net';
import { channelCredentials } from '../../net/tls/channelCredentials.js';
import { TlsMaterial } from '../../net/tls/material.js';
import { NO_RULES } from '../../net/tls/peerRules.js';
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

interface Served { readonly address: string; readonly refusals: string[]; close(): Promise<void> }

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
  const tcp: Server = createServer((raw) => { acceptor.accept(raw); });
  await new Promise<void>((resolve) => { tcp.listen(0, '127.0.0.1', resolve); });
  const address = tcp.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  return {
    address: `127.0.0.1:${port}`,
    refusals,
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
