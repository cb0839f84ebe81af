// The peer proxies of `npm run jepsen`: members advertise their proxy, the proxy finds
// which member dialed each connection (from /proc), and a cut link is a black hole. A
// member cut from the other two cannot commit a write while the other two can; once
// healed, it commits again.

import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bytes, EtcdClient } from '../../jepsen-like/real/client.js';
import { RealCluster } from '../../jepsen-like/real/cluster.js';

/** Puts until one succeeds (true) or `attempts` have failed (false); each put has a 1 s deadline. */
async function putSucceeds(client: EtcdClient, attempts: number): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    try {
      await client.call('kv', 'Put', { key: bytes('x'), value: bytes(`v${i}`) });
      return true;
    } catch {
      // not yet
    }
  }
  return false;
}

test('a member cut from the rest cannot commit; the rest can; healed, it can again', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'jepsen-proxy-'));
  const cluster = await RealCluster.create({ target: 'tern', nodes: 3, dir, log: (line) => { t.log(line); } });
  const [c1, c2] = [new EtcdClient(cluster.endpoints[0] ?? '', 1000), new EtcdClient(cluster.endpoints[1] ?? '', 1000)];
  t.teardown(async () => {
    c1.close();
    c2.close();
    await cluster.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  await cluster.start();
  t.true(await putSucceeds(c1, 60), 'the cluster commits before any cut');

  cluster.cuts.set([['n1', 'n2'], ['n1', 'n3']]);
  t.true(await putSucceeds(c2, 60), 'n2 and n3 still form a majority');
  t.false(await putSucceeds(c1, 3), 'n1 alone has no majority');

  cluster.cuts.set([]);
  t.true(await putSucceeds(c1, 60), 'healed, n1 commits again');
  const stats = cluster.proxyStats();
  t.is(stats.unidentified, 0, 'every peer connection was traced to its dialer');
  t.true(stats.cut > 0, 'the cut closed open connections');
});
