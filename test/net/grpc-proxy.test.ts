// `grpc-proxy start`: Tern's gRPC proxy beside etcd's own, both in front of the same
// Tern member, with a dead endpoint listed first. etcdctl through either must see the
// same answers (values, errors and their codes, watch events, leases, auth), and the
// proxy must refuse a client certificate with a Common Name, as etcd's does.
import test from 'ava';
import { readFileSync } from 'node:fs';
import { parseGrpcProxyCommand, type GrpcProxyCommand } from '../../net/grpc-proxy/proxyCommand.js';
import { commonNameOf } from '../../net/grpc-proxy/clientTls.js';
import { makePki } from '../tls/pki.js';
import { etcdctl, freePort, runTernToExit, spawnEtcdctl, startGrpcProxyProcess, startTern, startTernProcess, tempDataDir, removeDataDir, type Running } from './processes.js';

const outcome = async (endpoint: string, args: readonly string[], input?: string): Promise<string> => {
  const o = await etcdctl(endpoint, args, input);
  // etcdctl's retry interceptor logs a JSON line with a client id and times: keep only its error.
  const stderr = o.stderr.split('\n').filter((l) => l.startsWith('Error:')).join('\n');
  return `${String(o.code)} ${o.stdout.trim()} ${stderr}`.replace(/[0-9a-f]{16}/g, 'ID').trim();
};

async function session(kind: 'tern' | 'etcd', member: Running, extra: readonly string[] = []): Promise<string[]> {
  const [dead, listen] = [await freePort(), await freePort()];
  const proxy = await startGrpcProxyProcess(kind, [
    '--endpoints', `127.0.0.1:${String(dead)},${member.endpoint.replace('http://', '')}`, '--listen-addr', `127.0.0.1:${String(listen)}`, ...extra,
  ], `127.0.0.1:${String(listen)}`);
  try {
    const at = proxy.endpoint;
    const key = `via-${kind}`;
    const seen: string[] = [];
    // From the next revision on, however late the watch is set up: the comparison must not
    // depend on how quickly etcdctl got its stream open.
    const revision = /"revision":(\d+)/.exec((await etcdctl(at, ['get', key, '-w', 'json'])).stdout)?.[1] ?? 'none';
    const watcher = spawnEtcdctl(at, ['watch', key, '--rev', String(Number(revision) + 1)]);
    for (const args of [
      ['put', key, 'v1'], ['put', key, 'v2', '--prev-kv'], ['get', key, '--print-value-only'],
      ['get', key, '--rev', '1000000'], ['txn'], ['lease', 'grant', '60'], ['del', key],
    ]) {
      seen.push(await outcome(at, args, args[0] === 'txn' ? `value("${key}") = "gone"\n\nput never x\n\n` : undefined));
    }
    await watcher.waitFor((out) => out.split('DELETE').length > 1, 10_000);
    await watcher.stop();
    seen.push(`watch: ${watcher.stdout().trim()}`);
    return seen.map((s) => s.replaceAll(key, 'KEY'));
  } finally {
    await proxy.stop();
  }
}

test('Tern\'s grpc-proxy answers as etcd\'s does, skipping a member that is down', async (t) => {
  const member = await startTern();
  try {
    const ours = await session('tern', member);
    const theirs = await session('etcd', member);
    t.deepEqual(ours, theirs);
    t.true(theirs.includes('1  Error: etcdserver: mvcc: required revision is a future revision'), theirs.join('\n'));
    t.regex(theirs.join('\n'), /watch: PUT\nKEY\nv1\nPUT\nKEY\nv2\nDELETE\nKEY/);
  } finally {
    await member.stop();
  }
});

test('the auth token passes through the proxy: a user\'s rights are the member\'s to check', async (t) => {
  const member = await startTern();
  const [listen] = [await freePort()];
  let proxy: Running | undefined;
  try {
    for (const args of [['user', 'add', 'root:rootpw'], ['user', 'add', 'reader:pw'], ['role', 'add', 'ro'], ['role', 'grant-permission', 'ro', 'read', 'k'], ['user', 'grant-role', 'reader', 'ro'], ['auth', 'enable']]) {
      t.is((await etcdctl(member.endpoint, args)).code, 0, args.join(' '));
    }
    proxy = await startGrpcProxyProcess('tern', ['--endpoints', member.endpoint, '--listen-addr', `127.0.0.1:${String(listen)}`], `127.0.0.1:${String(listen)}`);
    t.is(await outcome(proxy.endpoint, ['--user', 'root:rootpw', 'put', 'k', 'v']), '0 OK');
    t.is(await outcome(proxy.endpoint, ['--user', 'reader:pw', 'get', 'k', '--print-value-only']), '0 v');
    t.is(await outcome(proxy.endpoint, ['--user', 'reader:pw', 'put', 'k', 'w']), '1  Error: etcdserver: permission denied');
    const wrong = ['--user', 'reader:wrong', 'get', 'k'];
    t.is(await outcome(proxy.endpoint, wrong), await outcome(member.endpoint, wrong));
    t.regex(await outcome(proxy.endpoint, wrong), /authentication failed, invalid user ID or password/);
  } finally {
    await proxy?.stop();
    await member.stop();
  }
});

test('over TLS both ways; a proxy certificate with a Common Name is refused at start', async (t) => {
  const pki = await makePki();
  const dir = tempDataDir();
  const [client, peer, listen] = [await freePort(), await freePort(), await freePort()];
  let member: Running | undefined;
  let proxy: Running | undefined;
  try {
    const url = `https://127.0.0.1:${String(client)}`;
    member = await startTernProcess([
      '--data-dir', dir, '--listen-client-urls', url, '--advertise-client-urls', url,
      '--listen-peer-urls', `http://127.0.0.1:${String(peer)}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${String(peer)}`,
      '--initial-cluster', `default=http://127.0.0.1:${String(peer)}`,
      '--cert-file', pki.server.cert, '--key-file', pki.server.key, '--trusted-ca-file', pki.caFile, '--client-cert-auth',
    ], url);
    const noCn = await pki.issue('nocn', { commonName: '' });
    t.is(commonNameOf(readFileSync(noCn.cert)), '');
    t.is(commonNameOf(readFileSync(pki.client.cert)), 'client');
    const refused = await runTernToExit(['grpc-proxy', 'start', '--endpoints', url, '--cert', pki.client.cert, '--key', pki.client.key, '--cacert', pki.caFile, '--listen-addr', `127.0.0.1:${String(listen)}`]);
    t.is(refused.code, 1);
    t.regex(refused.stderr, /cert has non empty Common Name \(client\)/);
    proxy = await startGrpcProxyProcess('tern', [
      '--endpoints', url, '--cert', noCn.cert, '--key', noCn.key, '--cacert', pki.caFile, '--listen-addr', `127.0.0.1:${String(listen)}`,
      '--cert-file', pki.server.cert, '--key-file', pki.server.key, '--trusted-ca-file', pki.caFile,
    ], `https://127.0.0.1:${String(listen)}`);
    const tlsArgs = ['--cacert', pki.caFile, '--cert', pki.client.cert, '--key', pki.client.key];
    t.is(await outcome(proxy.endpoint, [...tlsArgs, 'put', 'secure', 'yes']), '0 OK');
    t.is(await outcome(member.endpoint, [...tlsArgs, 'get', 'secure', '--print-value-only']), '0 yes');
    const stranger = await outcome(proxy.endpoint, ['--cacert', pki.caFile, '--cert', pki.strangerClient.cert, '--key', pki.strangerClient.key, '--dial-timeout', '2s', 'get', 'secure']);
    t.regex(stranger, /^1 /, 'a client certificate the proxy\'s CA did not sign gets no answer');
  } finally {
    await proxy?.stop();
    await member?.stop();
    removeDataDir(dir);
    pki.remove();
  }
});

const parsed = (argv: readonly string[]): GrpcProxyCommand => {
  const command = parseGrpcProxyCommand(argv);
  if (typeof command === 'string') throw new Error(command);
  return command;
};
const refusal = (argv: readonly string[]): string => {
  const command = parseGrpcProxyCommand(argv);
  return typeof command === 'string' ? command : '';
};

test('grpc-proxy command lines: etcd\'s defaults and checks; what Tern\'s proxy lacks is refused, not ignored', (t) => {
  t.like(parsed(['start']), {
    endpoints: ['127.0.0.1:2379'], listenHost: '127.0.0.1', listenPort: 23790, clientTls: null, dataDir: 'default.proxy',
    maxSendBytes: 1.5 * 1024 * 1024, maxRecvBytes: 2 ** 31 - 1, maxConcurrentStreams: 2 ** 32 - 1, metricsAddr: null,
  });
  t.like(parsed(['--endpoints=https://a:1,b:2', 'start', '--metrics-addr', 'http://127.0.0.1:9', '--enable-pprof']), {
    endpoints: ['a:1', 'b:2'], clientTls: { certFile: '', keyFile: '', caFile: '', skipVerify: false }, metricsAddr: { host: '127.0.0.1', port: 9 }, accepted: ['enable-pprof'],
  });
  t.like(parsed(['start', '--listen-cipher-suites', '']).servingTls, { ciphers: undefined });
  t.is(parsed(['start', '--listen-cipher-suites', 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256']).servingTls.ciphers, 'ECDHE-RSA-AES128-GCM-SHA256');
  t.is(refusal(['start', '--listen-cipher-suites', 'TLS_NOPE']), 'unexpected TLS cipher suite "TLS_NOPE"');
  t.is(refusal(['start', '--bogus']), 'Error: unknown flag: --bogus');
  t.is(refusal(['start', '--endpoints']), 'Error: flag needs an argument: --endpoints');
  t.regex(refusal(['stop']), /unknown command "stop"/);
  t.is(refusal(['start', '--resolver-ttl', '5']), 'invalid resolver-prefix ""');
  t.is(refusal(['start', '--resolver-prefix', 'p']), 'invalid resolver-ttl 0');
  t.regex(refusal(['start', '--resolver-prefix', 'p', '--resolver-ttl', '5']), /does not register itself/);
  t.regex(refusal(['start', '--namespace', 'ns/']), /does not prefix keys/);
  t.regex(refusal(['start', '--discovery-srv', 'example.com']), /DNS discovery/);
  t.regex(refusal(['start', '--experimental-serializable-ordering']), /ordering/);
  t.regex(refusal(['start', '--auto-tls=maybe']), /invalid argument "maybe"/);
  t.regex(refusal(['start', '--listen-addr', 'nowhere']), /missing port/);
  t.regex(refusal(['start', '--metrics-addr', 'https://127.0.0.1:9']), /http:\/\/ only/);
});
