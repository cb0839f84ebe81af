// TLS with real etcdctl against Tern and real etcd 3.4 side by side: the KV script over
// mutual TLS reads the same, both refuse the same clients, both refuse the same bad
// files at start with the same text, auto-TLS works with --insecure-skip-tls-verify,
// a three-member Tern cluster over peer mTLS replicates and shuts out a stranger, and
// a member presents its peer certificate rotated on disk when it dials its peers again.

import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { execFile } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { Etcd3 } from 'etcd3';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PeerClients } from '../../net/peer/client.js';
import { channelCredentials } from '../../net/tls/channelCredentials.js';
import { makePki, type PemFiles, type Pki } from '../tls/pki.js';
import { compare, normalize } from './differential.js';
import { etcdctl, freePort, runTernToExit, startEtcdCluster, startTernCluster, startTernProcess, type Running, type RunningCluster, startBoth } from './processes.js';

let pki: Pki;
test.before(async () => { pki = await makePki(); });
test.after.always(() => { pki.remove(); });

const HTTPS_CLIENTS = { client: 'https', peer: 'http' } as const;

function serverArgs(extra: readonly string[] = []): string[] {
  return ['--cert-file', pki.server.cert, '--key-file', pki.server.key, '--trusted-ca-file', pki.caFile, '--client-cert-auth', ...extra];
}

function clientArgs(client: PemFiles | null): string[] {
  const identity = client === null ? [] : ['--cert', client.cert, '--key', client.key];
  return ['--cacert', pki.caFile, ...identity];
}

async function both<T>(run: (etcd: RunningCluster, tern: RunningCluster) => Promise<T>, args: readonly string[]): Promise<T> {
  const [etcd, tern] = await startBoth(startEtcdCluster(1, args, HTTPS_CLIENTS), startTernCluster(1, args, HTTPS_CLIENTS));
  try {
    return await run(etcd, tern);
  } finally {
    await Promise.all([etcd.stop(), tern.stop()]);
  }
}

const endpointOf = (cluster: RunningCluster): string => cluster.members[0]?.endpoint ?? '';

test('over mutual TLS, etcdctl cannot tell Tern from etcd on the KV API', async (t) => {
  await both(async (etcd, tern) => {
    await compare(t, endpointOf(etcd), endpointOf(tern), clientArgs(pki.client));
  }, serverArgs());
});

test('both refuse a client with no certificate, a stranger CA\'s, and one the CRL revokes', async (t) => {
  await both(async (etcd, tern) => {
    const quick = ['--dial-timeout', '2s', '--command-timeout', '3s'];
    for (const client of [null, pki.strangerClient, pki.revokedClient]) {
      const args = [...clientArgs(client), ...quick, 'get', 'foo'];
      const [fromEtcd, fromTern] = await Promise.all([etcdctl(endpointOf(etcd), args), etcdctl(endpointOf(tern), args)]);
      const name = client === null ? 'no certificate' : path.basename(client.cert);
      t.not(fromEtcd.code, 0, `etcd refuses ${name}`);
      t.is(fromTern.code, fromEtcd.code, `Tern refuses ${name} as etcd does`);
    }
    const good = await etcdctl(endpointOf(tern), [...clientArgs(pki.client), 'put', 'k', 'v']);
    t.is(good.code, 0, 'the member still serves a good client afterwards');
  }, serverArgs(['--client-crl-file', pki.crlFile]));
});

test('auto-TLS: a self-signed member serves etcdctl with --insecure-skip-tls-verify, as etcd does', async (t) => {
  await both(async (etcd, tern) => {
    for (const cluster of [etcd, tern]) {
      const args = ['--insecure-skip-tls-verify', '--insecure-transport=false'];
      t.is((await etcdctl(endpointOf(cluster), [...args, 'put', 'a', '1'])).code, 0);
      t.is((await etcdctl(endpointOf(cluster), [...args, 'get', 'a', '--print-value-only'])).stdout, '1\n');
      const verifying = await etcdctl(endpointOf(cluster), ['--cacert', pki.caFile, '--dial-timeout', '2s', '--command-timeout', '3s', 'get', 'a']);
      t.not(verifying.code, 0, 'a client that verifies refuses the self-signed certificate');
    }
  }, ['--auto-tls']);
});

/** etcd with these flags, to its exit (it exits at once on each bad file below). */
function runEtcdToExit(args: readonly string[]): Promise<{ code: number; stderr: string }> {
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-etcd-bad-'));
  return new Promise((resolve) => {
    execFile('etcd', ['--data-dir', path.join(dir, 'd'), '--listen-peer-urls', 'http://127.0.0.1:0', ...args], { timeout: 20_000 }, (error, _stdout, stderr) => {
      rmSync(dir, { recursive: true, force: true });
      resolve({ code: error !== null && typeof error.code === 'number' ? error.code : 0, stderr });
    });
  });
}

test('bad TLS files and flags refuse the start with etcd\'s exit code and text', async (t) => {
  const url = ['--listen-client-urls', 'https://127.0.0.1:0', '--advertise-client-urls', 'https://127.0.0.1:2379'];
  const cases: readonly (readonly string[])[] = [
    [...url, '--cert-file', pki.server.cert, '--key-file', path.join(pki.dir, 'missing-key.pem')],
    [...url, '--cert-file', pki.server.cert, '--key-file', pki.client.key],
    [...url],
    [...url, '--cert-file', pki.server.cert, '--key-file', pki.server.key, '--cipher-suites', 'TLS_NOT_A_SUITE'],
  ];
  for (const args of cases) {
    const [etcd, tern] = await Promise.all([runEtcdToExit(args), runTernToExit(['--data-dir', path.join(pki.dir, 'never'), ...args])]);
    const said = /C \| etcdmain: (.*)/.exec(etcd.stderr)?.[1] ?? `etcd said nothing recognizable: ${etcd.stderr}`;
    t.is(etcd.code, 1, args.join(' '));
    t.is(tern.code, etcd.code, args.join(' '));
    t.true(tern.stderr.includes(said), `Tern says "${said}":\n${tern.stderr}`);
  }
});

test('three Tern members over peer mTLS replicate; a stranger\'s certificate gets no peer call through', async (t) => {
  const peerArgs = ['--peer-cert-file', pki.server.cert, '--peer-key-file', pki.server.key, '--peer-trusted-ca-file', pki.caFile, '--peer-client-cert-auth'];
  const cluster = await startTernCluster(3, peerArgs, { client: 'http', peer: 'https' });
  try {
    const [a, b] = cluster.members;
    t.is((await etcdctl(a?.endpoint ?? '', ['put', 'over', 'tls'])).code, 0);
    t.is((await etcdctl(b?.endpoint ?? '', ['get', 'over', '--print-value-only'])).stdout, 'tls\n');
    const peerAddress = new URL(a?.peerUrl ?? '').host;
    const self = { id: 0n, name: 'intruder', peerUrls: ['https://127.0.0.1:1'], clientUrls: [], isLearner: false };
    const stranger = new PeerClients(channelCredentials({ trustedCaFile: pki.caFile, certFile: pki.strangerClient.cert, keyFile: pki.strangerClient.key, skipVerify: false }));
    const plain = new PeerClients(grpc.credentials.createInsecure());
    const trusted = new PeerClients(channelCredentials({ trustedCaFile: pki.caFile, certFile: pki.client.cert, keyFile: pki.client.key, skipVerify: false }));
    try {
      await t.throwsAsync(stranger.members(peerAddress, self, 5000), undefined, 'a certificate from another CA is refused');
      await t.throwsAsync(plain.members(peerAddress, self, 5000), undefined, 'a plain-text peer is refused');
      const view = await trusted.members(peerAddress, self, 5000);
      t.is(view.members.length, 3, 'a peer with a certificate from the trusted CA is answered');
    } finally {
      stranger.close();
      plain.close();
      trusted.close();
    }
  } finally {
    await cluster.stop();
  }
});

test('with --client-cert-auth and auth on, the client certificate\'s CN names the user when no token is sent, as in etcd', async (t) => {
  await both(async (etcd, tern) => {
    const mine = clientArgs(pki.client); // CN=client
    const intruder = clientArgs(pki.otherNameClient); // CN=intruder: no such user
    const steps: (readonly string[])[] = [
      [...mine, 'user', 'add', 'root:rootpw'], [...mine, 'user', 'grant-role', 'root', 'root'],
      [...mine, 'user', 'add', 'client:unused'], [...mine, 'role', 'add', 'ab'],
      [...mine, 'role', 'grant-permission', 'ab', 'readwrite', 'a', 'c'], [...mine, 'user', 'grant-role', 'client', 'ab'],
      [...mine, 'auth', 'enable'],
      [...mine, 'put', 'b', '1'], [...mine, 'get', 'b'], [...mine, 'put', 'z', '1'], [...mine, 'user', 'list'],
      [...intruder, 'put', 'b', '2'], [...intruder, 'get', 'b'],
      [...mine, '--user', 'root:rootpw', 'put', 'z', '1'], [...intruder, '--user', 'root:rootpw', 'user', 'list'],
      [...mine, 'endpoint', 'hashkv'],
    ];
    for (const args of steps) {
      const [fromEtcd, fromTern] = await Promise.all([etcdctl(endpointOf(etcd), args), etcdctl(endpointOf(tern), args)]);
      t.is(normalize(fromTern, endpointOf(tern)), normalize(fromEtcd, endpointOf(etcd)), `etcdctl ${args.slice(4).join(' ')}`);
    }
  }, serverArgs());
});

test('the npm etcd3 client over mutual TLS (credentials: rootCertificate, privateKey, certChain) works alike on both', async (t) => {
  await both(async (etcd, tern) => {
    const answers: string[][] = [];
    for (const cluster of [etcd, tern]) {
      const client = new Etcd3({
        hosts: `https://${endpointOf(cluster)}`,
        credentials: { rootCertificate: readFileSync(pki.caFile), privateKey: readFileSync(pki.client.key), certChain: readFileSync(pki.client.cert) },
      });
      try {
        await client.put('tls/a').value('1');
        await client.put('tls/b').value('2');
        const all = await client.getAll().prefix('tls/').strings();
        const deleted = await client.delete().key('tls/a').exec();
        answers.push([JSON.stringify(all), deleted.deleted]);
      } finally {
        client.close();
      }
    }
    t.deepEqual(answers[1], answers[0]);
    t.deepEqual(answers[0], ['{"tls/a":"1","tls/b":"2"}', '1']);
  }, serverArgs());
});

/** Retries `etcdctl args` until it succeeds (a cluster electing a leader after a restart); the last outcome. */
async function untilOk(endpoint: string, args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let outcome = await etcdctl(endpoint, args);
  for (const deadline = Date.now() + 60_000; outcome.code !== 0 && Date.now() < deadline;) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    outcome = await etcdctl(endpoint, args);
  }
  return outcome;
}

test('a member dials its peers with its peer certificate as rotated on disk, without a restart of its own', async (t) => {
  // Two members over peer mTLS, each with its own peer certificate. Member a's files are
  // replaced by a new pair from the same CA (another CN); then b restarts, now admitting
  // only that CN. A 2-member cluster commits only if a's calls reach b, so it works again
  // only if a presents the new certificate when it dials b anew.
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-peer-rotate-'));
  const aCert = path.join(dir, 'a.pem');
  const aKey = path.join(dir, 'a-key.pem');
  const [before, after, bFiles] = [await pki.issue('member-a', {}), await pki.issue('member-a-rotated', {}), await pki.issue('member-b', {})];
  copyFileSync(before.cert, aCert);
  copyFileSync(before.key, aKey);
  const ports = { aClient: await freePort(), aPeer: await freePort(), bClient: await freePort(), bPeer: await freePort() };
  const [aPeerUrl, bPeerUrl] = [`https://127.0.0.1:${ports.aPeer}`, `https://127.0.0.1:${ports.bPeer}`];
  const common = ['--initial-cluster', `a=${aPeerUrl},b=${bPeerUrl}`, '--initial-cluster-token', 'rotate', '--peer-trusted-ca-file', pki.caFile, '--peer-client-cert-auth'];
  const member = (name: string, client: number, peerUrl: string, cert: string, key: string, extra: readonly string[] = []): string[] => [
    '--name', name, '--data-dir', path.join(dir, name), '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
    '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl, '--peer-cert-file', cert, '--peer-key-file', key, ...common, ...extra,
  ];
  const [aEndpoint, bEndpoint] = [`127.0.0.1:${ports.aClient}`, `127.0.0.1:${ports.bClient}`];
  const running: Running[] = [];
  t.teardown(async () => {
    await Promise.all(running.map((r) => r.stop()));
    rmSync(dir, { recursive: true, force: true });
  });
  const [a, b] = await Promise.all([
    startTernProcess(member('a', ports.aClient, aPeerUrl, aCert, aKey), aEndpoint),
    startTernProcess(member('b', ports.bClient, bPeerUrl, bFiles.cert, bFiles.key), bEndpoint),
  ]);
  running.push(a, b);
  t.is((await untilOk(aEndpoint, ['put', 'before', 'rotation'])).code, 0);

  copyFileSync(after.cert, aCert);
  copyFileSync(after.key, aKey);
  await b.stop();
  running.splice(running.indexOf(b), 1);
  const b2 = await startTernProcess(member('b', ports.bClient, bPeerUrl, bFiles.cert, bFiles.key, ['--peer-cert-allowed-cn', 'member-a-rotated']), bEndpoint);
  running.push(b2);

  // b's rule is in force: the old certificate gets no peer call through, the new one does.
  const self = { id: 0n, name: 'probe', peerUrls: ['https://127.0.0.1:1'], clientUrls: [], isLearner: false };
  const dialWith = (files: PemFiles): PeerClients => new PeerClients(channelCredentials({ trustedCaFile: pki.caFile, certFile: files.cert, keyFile: files.key, skipVerify: false }));
  const [old, rotated] = [dialWith(before), dialWith(after)];
  try {
    await t.throwsAsync(old.members(`127.0.0.1:${ports.bPeer}`, self, 5000), undefined, 'b refuses a\'s old certificate');
    t.is((await rotated.members(`127.0.0.1:${ports.bPeer}`, self, 5000)).members.length, 2, 'b answers a\'s new certificate');
  } finally {
    old.close();
    rotated.close();
  }
  // And the cluster commits again: a reached b with the new certificate.
  t.is((await untilOk(bEndpoint, ['put', 'after', 'rotation'])).code, 0, 'a write through b commits');
  t.is((await untilOk(aEndpoint, ['get', 'after', '--print-value-only'])).stdout, 'rotation\n', 'a linearizable read through a sees it');
  t.is((await etcdctl(`${aEndpoint},${bEndpoint}`, ['endpoint', 'health'])).code, 0);
});
