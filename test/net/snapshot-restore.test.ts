// A Tern snapshot big enough for multi-level B+trees and overflow pages in its bbolt
// file: etcdctl checks and reads it, restores it, and real etcd 3.4 boots from the
// restored directory holding exactly Tern's MVCC state (the same HashKV) and leases.
import test from 'ava';
import { Etcd3 } from 'etcd3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { etcdctl, startEtcd, startTern, type Running } from './processes.js';

const hashKv = async (server: Running): Promise<number> => {
  const o = await etcdctl(server.endpoint, ['endpoint', 'hashkv', '-w', 'json']);
  return (JSON.parse(o.stdout) as [{ HashKV: { hash: number } }])[0].HashKV.hash;
};

test('a large Tern snapshot restores into real etcd with the same state', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-snap-'));
  const tern = await startTern();
  try {
    const client = new Etcd3({ hosts: tern.endpoint });
    try {
      const value = 'v'.repeat(1000);
      for (let batch = 0; batch < 20; batch++) {
        await Promise.all(Array.from({ length: 100 }, (_, i) => client.put(`key/${batch}/${i}`).value(`${value}${i}`)));
      }
      await client.put('big').value('b'.repeat(100_000)); // larger than a page: overflow pages
      await client.delete().prefix('key/3/');
      await client.put(Buffer.from([0xff, 0x00, 0x01])).value('binary key');
      const lease = await client.leaseClient.leaseGrant({ TTL: 600 });
      await client.put('leased').value('x').lease(lease.ID);
    } finally {
      client.close();
    }
    t.is((await etcdctl(tern.endpoint, ['compaction', '1500'])).code, 0);
    const file = path.join(dir, 'snap.db');
    const save = await etcdctl(tern.endpoint, ['snapshot', 'save', file]);
    t.is(save.code, 0, save.stderr);
    const status = await etcdctl(tern.endpoint, ['snapshot', 'status', file, '-w', 'json']);
    t.is(status.code, 0, status.stderr);
    t.is((JSON.parse(status.stdout) as { revision: number }).revision, 2005); // 2000 puts, big, the delete, binary, leased
    const restored = path.join(dir, 'restored');
    const restore = await etcdctl(tern.endpoint, ['snapshot', 'restore', file, '--data-dir', restored]);
    t.is(restore.code, 0, restore.stderr);
    const etcd = await startEtcd({ dataDir: restored });
    try {
      t.is(await hashKv(etcd), await hashKv(tern));
      const count = (s: Running): Promise<string> => etcdctl(s.endpoint, ['get', '', '--prefix', '--keys-only', '-w', 'json'])
        .then((o) => String((JSON.parse(o.stdout) as { count: number }).count));
      t.is(await count(etcd), await count(tern));
      const leases = await etcdctl(etcd.endpoint, ['lease', 'list']);
      t.regex(leases.stdout, /found 1 leases/);
    } finally {
      await etcd.stop();
    }
  } finally {
    await tern.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});
