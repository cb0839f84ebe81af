// unix:// and unixs:// client URLs: the member listens on a socket file beside its TCP
// port, serves gRPC (and HTTP) there, TLS on unixs://, and removes the file when it stops.
// The URLs are etcd's form, unix://localhost:N: a file "localhost:N" in the working
// directory of the member and of etcdctl. An absolute path, unix:///x.sock, is served
// too; etcdctl then sends the path (or the URL) as the HTTP/2 :authority, which Node's
// HTTP/2 refuses, so the client listener rewrites it (issue #15).
import test from 'ava';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makePki } from '../tls/pki.js';
import { etcdctl, freePort, runTernToExit, startTernProcess, tempDataDir } from './processes.js';

test('a unix:// client URL serves etcdctl beside the TCP port; the socket file goes when the member stops', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-unix-'));
  const [port, peer, name] = [await freePort(), await freePort(), await freePort()];
  const socket = path.join(dir, `localhost:${name}`);
  const tern = await startTernProcess([
    '--data-dir', tempDataDir(), '--listen-client-urls', `http://127.0.0.1:${port},unix://localhost:${name}`,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`,
  ], `127.0.0.1:${port}`, dir);
  try {
    t.true(existsSync(socket));
    t.is((await etcdctl(`unix://localhost:${name}`, ['put', 'k', 'over-unix'], undefined, dir)).code, 0);
    t.is((await etcdctl(tern.endpoint, ['get', 'k', '--print-value-only'])).stdout, 'over-unix\n');
  } finally {
    t.is(await tern.stop(), 0);
    t.false(existsSync(socket), 'the socket file is removed on stop');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a unix:///absolute/path client URL serves etcdctl, the path as :authority notwithstanding (issue #15)', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-unix-abs-'));
  const [port, peer] = [await freePort(), await freePort()];
  const url = `unix://${path.join(dir, 'tern.sock')}`;
  const tern = await startTernProcess([
    '--data-dir', tempDataDir(), '--listen-client-urls', `http://127.0.0.1:${port},${url}`, '--listen-peer-urls', `http://127.0.0.1:${peer}`,
  ], `127.0.0.1:${port}`, dir);
  try {
    const put = await etcdctl(url, ['put', 'k', 'over-an-absolute-path']);
    t.is(put.code, 0, put.stderr);
    t.is((await etcdctl(tern.endpoint, ['get', 'k', '--print-value-only'])).stdout, 'over-an-absolute-path\n');
    const status = await etcdctl(url, ['endpoint', 'status']);
    t.is(status.code, 0, status.stderr);
  } finally {
    t.is(await tern.stop(), 0);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a unixs:// client URL serves TLS with the client certificate files', async (t) => {
  const pki = await makePki();
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-unixs-'));
  const [port, peer, name] = [await freePort(), await freePort(), await freePort()];
  const tern = await startTernProcess([
    '--data-dir', tempDataDir(), '--listen-client-urls', `http://127.0.0.1:${port},unixs://localhost:${name}`,
    '--listen-peer-urls', `http://127.0.0.1:${peer}`, '--cert-file', pki.server.cert, '--key-file', pki.server.key,
  ], `127.0.0.1:${port}`, dir);
  try {
    const secure = ['--insecure-skip-tls-verify', '--insecure-transport=false'];
    t.is((await etcdctl(`unixs://localhost:${name}`, [...secure, 'put', 'k', 'over-unixs'], undefined, dir)).code, 0);
    t.not((await etcdctl(`unix://localhost:${name}`, ['--dial-timeout', '2s', '--command-timeout', '3s', 'get', 'k'], undefined, dir)).code, 0,
      'a plain client on the TLS socket gets nothing');
    t.is((await etcdctl(tern.endpoint, ['get', 'k', '--print-value-only'])).stdout, 'over-unixs\n');
  } finally {
    await tern.stop();
    pki.remove();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a unixs:// peer URL is refused with a clear message, as is a unix URL without a socket file', async (t) => {
  const peer = await runTernToExit(['--data-dir', tempDataDir(), '--listen-peer-urls', 'unixs://localhost:2380']);
  t.is(peer.code, 2);
  t.regex(peer.stderr, /Tern serves unixs:\/\/ on --listen-client-urls only/);
  const empty = await runTernToExit(['--data-dir', tempDataDir(), '--listen-client-urls', 'unix://']);
  t.regex(empty.stderr, /names no socket file/);
});

test('three members whose peers listen on unix:// sockets form a cluster and replicate (e2e TestEtcdUnixPeers, beyond one member)', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-unix-peers-'));
  const names = ['u1', 'u2', 'u3'];
  const peerUrl = (name: string): string => `unix://${path.join(dir, `${name}.peer`)}`;
  const cluster = names.map((n) => `${n}=${peerUrl(n)}`).join(',');
  const ports = [await freePort(), await freePort(), await freePort()];
  const started = await Promise.allSettled(names.map((name, i) => startTernProcess([
    '--name', name, '--data-dir', path.join(dir, name), '--listen-client-urls', `http://127.0.0.1:${ports[i] ?? 0}`,
    '--advertise-client-urls', `http://127.0.0.1:${ports[i] ?? 0}`, '--listen-peer-urls', peerUrl(name),
    '--initial-advertise-peer-urls', peerUrl(name), '--initial-cluster', cluster, '--initial-cluster-state', 'new',
  ], `127.0.0.1:${ports[i] ?? 0}`, dir)));
  const members = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  try {
    t.is(members.length, 3, 'every member became ready');
    const [first, , last] = members;
    if (first === undefined || last === undefined) return;
    t.is((await etcdctl(first.endpoint, ['put', 'k', 'over-unix-peers'])).code, 0);
    const list = await etcdctl(last.endpoint, ['member', 'list']);
    t.is(list.stdout.split('\n').filter((l) => l.includes('unix://')).length, 3, list.stdout);
    t.is((await etcdctl(last.endpoint, ['get', 'k', '--print-value-only', '--consistency', 'l'])).stdout, 'over-unix-peers\n');
  } finally {
    await Promise.all(members.map((m) => m.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
});
