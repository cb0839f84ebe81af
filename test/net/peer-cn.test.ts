// --peer-cert-allowed-cn as etcd's e2e TestEtcdPeerCNAuth checks it: of three members,
// two carry the allowed CN and form the cluster; the third carries another CN, and the
// other two refuse its certificate, which it reports as Go's TLS alert text ("remote
// error: tls: bad certificate"). Real etcd 3.4 first, then Tern with the same flags.

import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { makePki, type PemFiles, type Pki } from '../tls/pki.js';
import { etcdctl, freePort, startMemberUntil, type Running } from './processes.js';

let pki: Pki;
test.before(async () => { pki = await makePki(); });
test.after.always(() => { pki.remove(); });

const REFUSED = 'remote error: tls: bad certificate';

for (const kind of ['etcd', 'tern'] as const) {
  test.serial(`${kind}: members refuse a peer certificate without the allowed CN, and the refused member says "${REFUSED}"`, async (t) => {
    const dir = mkdtempSync(path.join(tmpdir(), `tern-peer-cn-${kind}-`));
    const running: Running[] = [];
    t.teardown(async () => {
      await Promise.all(running.map((r) => r.stop()));
      rmSync(dir, { recursive: true, force: true });
    });
    const [good, other] = [await pki.issue('example.com', {}), await pki.issue('example2.com', {})];
    const names = ['e0', 'e1', 'e2'];
    const ports = await Promise.all(names.map(async () => ({ client: await freePort(), peer: await freePort() })));
    const cluster = names.map((name, i) => `${name}=https://127.0.0.1:${ports[i]?.peer ?? 0}`).join(',');
    const member = (i: number, files: PemFiles, allowedCn: string): string[] => {
      const port = ports[i] ?? { client: 0, peer: 0 };
      return [
        '--name', names[i] ?? '', '--data-dir', path.join(dir, names[i] ?? ''),
        '--listen-client-urls', `http://127.0.0.1:${port.client}`, '--advertise-client-urls', `http://127.0.0.1:${port.client}`,
        '--listen-peer-urls', `https://127.0.0.1:${port.peer}`, '--initial-advertise-peer-urls', `https://127.0.0.1:${port.peer}`,
        '--initial-cluster', cluster, '--initial-cluster-token', `peer-cn-${kind}`,
        '--peer-cert-file', files.cert, '--peer-key-file', files.key, '--peer-trusted-ca-file', pki.caFile,
        '--peer-client-cert-auth', '--peer-cert-allowed-cn', allowedCn,
      ];
    };
    const endpoint = (i: number): string => `127.0.0.1:${ports[i]?.client ?? 0}`;
    const started = await Promise.allSettled([
      startMemberUntil(kind, member(0, good, 'example.com'), endpoint(0), 'ready to serve client requests'),
      startMemberUntil(kind, member(1, good, 'example.com'), endpoint(1), 'ready to serve client requests'),
      startMemberUntil(kind, member(2, other, 'example2.com'), endpoint(2), REFUSED),
    ]);
    for (const s of started) if (s.status === 'fulfilled') running.push(s.value);
    for (const s of started) if (s.status === 'rejected') t.fail(String(s.reason));
    t.is(running.length, 3, 'e0 and e1 serve; e2 reports the refusal of its certificate');

    // e0 and e1 are a quorum of three: they commit without e2.
    t.is((await etcdctl(endpoint(0), ['put', 'cn', 'ok'])).code, 0);
    t.is((await etcdctl(endpoint(1), ['get', 'cn', '--print-value-only'])).stdout, 'ok\n');
  });
}
