// Issue #15: etcdctl 3.4 dials some endpoints as given, so `--endpoints http://host:port`
// sends the HTTP/2 pseudo-header `:authority: http://host:port`. nghttp2 (under node's
// http2 server, under grpc-js) checks a server's received :authority against the
// authority grammar (RFC 3986: no '/'), and on failure resets the stream with
// PROTOCOL_ERROR; node exposes no option that turns that check off
// (nghttp2_option_set_no_http_messaging is not reachable). Real etcd (Go's http2)
// accepts it.
//
// Tern's client listener rewrites such an :authority to host:port before nghttp2 sees it
// (net/http2/openingInspector.ts, net/http2/authorityRewriter.ts); these tests drive it
// with real etcdctl.
import test from 'ava';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { makePki } from '../tls/pki.js';
import { etcdctl, startEtcdCluster, startTern, startTernCluster, type Running, startBoth } from './processes.js';

/** The RST_STREAM code a plain node:http2 server answers a request with this :authority. */
async function resetCodeFor(authority: string): Promise<number> {
  const server = http2.createServer((_req, res) => { res.end('ok'); });
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve); });
  const session = http2.connect(`http://127.0.0.1:${String((server.address() as AddressInfo).port)}`);
  try {
    return await new Promise<number>((resolve) => {
      const request = session.request({ ':path': '/', ':authority': authority });
      request.on('error', () => undefined); // the reset also surfaces as an error; its code is what we want
      request.on('close', () => { resolve(request.rstCode); });
      request.resume();
      request.end();
    });
  } finally {
    session.destroy();
    await new Promise<void>((resolve) => { server.close(() => { resolve(); }); });
  }
}

test('the cause: node:http2 servers reset a stream whose :authority holds a URL', async (t) => {
  t.is(await resetCodeFor('127.0.0.1:2379'), http2.constants.NGHTTP2_NO_ERROR);
  t.is(await resetCodeFor('http://127.0.0.1:2379'), http2.constants.NGHTTP2_PROTOCOL_ERROR);
});

let member: Running | undefined;
const url = (): string => `http://${member?.endpoint ?? ''}`;

test.before(async () => { member = await startTern(); });
test.after.always(async () => { await member?.stop(); });

// These go through clientv3's balancer, which strips the scheme before dialing.
test.serial('put, get and endpoint health with an http:// endpoint', async (t) => {
  t.is((await etcdctl(url(), ['put', 'authority', 'yes'])).code, 0);
  t.is((await etcdctl(url(), ['get', 'authority', '--print-value-only'])).stdout, 'yes\n');
  const health = await etcdctl(url(), ['endpoint', 'health']);
  t.is(health.code, 0, health.stderr);
});

// These dial `passthrough:///http://host:port`, so the URL becomes the :authority.
for (const command of [['endpoint', 'status'], ['endpoint', 'hashkv']]) {
  test(`etcdctl ${command.join(' ')} with an http:// endpoint (issue #15)`, async (t) => {
    const out = await etcdctl(url(), command);
    t.is(out.code, 0, out.stderr);
    t.notRegex(out.stderr, /PROTOCOL_ERROR/);
  });
}

test('etcdctl endpoint status --cluster on 3 members dials their advertised URLs (issue #15)', async (t) => {
  const cluster = await startTernCluster(3);
  try {
    const first = cluster.members[0]?.endpoint ?? '';
    const out = await etcdctl(first, ['endpoint', 'status', '--cluster']);
    t.is(out.code, 0, out.stderr);
    t.is(out.stdout.trim().split('\n').length, 3, out.stdout);
  } finally {
    await cluster.stop();
  }
});

// Over TLS, grpc-go sends the TLS server name (the bare host) as :authority, so these
// connections need no rewrite; the test pins that they work on Tern as on etcd. The
// rewriter over TLS is covered in test/net/member/clientListener.test.ts.
test('etcdctl endpoint status and hashkv with an https:// endpoint, on Tern as on etcd (issue #15)', async (t) => {
  const pki = await makePki();
  const tls = { client: 'https', peer: 'http' } as const;
  const serverArgs = ['--cert-file', pki.server.cert, '--key-file', pki.server.key, '--trusted-ca-file', pki.caFile, '--client-cert-auth'];
  const clientArgs = ['--cacert', pki.caFile, '--cert', pki.client.cert, '--key', pki.client.key];
  const [etcd, tern] = await startBoth(startEtcdCluster(1, serverArgs, tls), startTernCluster(1, serverArgs, tls));
  try {
    for (const command of [['endpoint', 'status'], ['endpoint', 'hashkv'], ['endpoint', 'status', '--cluster']]) {
      const [fromEtcd, fromTern] = await Promise.all([etcd, tern].map((cluster) => etcdctl(`https://${cluster.members[0]?.endpoint ?? ''}`, [...clientArgs, ...command])));
      t.is(fromEtcd?.code, 0, `etcd: ${command.join(' ')}: ${fromEtcd?.stderr ?? ''}`);
      t.is(fromTern?.code, 0, `Tern: ${command.join(' ')}: ${fromTern?.stderr ?? ''}`);
      t.is(fromTern?.stdout.trim().split('\n').length, fromEtcd?.stdout.trim().split('\n').length, command.join(' '));
    }
  } finally {
    await Promise.all([etcd.stop(), tern.stop()]);
    pki.remove();
  }
});
