// A Tern snapshot big enough for multi-level B+trees and overflow pages in its bbolt
// file: etcdctl checks and reads it, restores it, and real etcd 3.4 boots from the
// restored directory holding exactly Tern's MVCC state (the same HashKV) and leases.
// And a snapshot holding auth state: etcd restored from it has Tern's users, roles,
// permissions, bcrypt passwords and enabled flag.
import test from 'ava';
import { Etcd3 } from 'etcd3';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AuthStore, type AuthState } from '../../core/auth/authStore.js';
import { EtcdStateMachine } from '../../core/server/stateMachine.js';
import { snapshotImage } from '../../net/snapshot/snapshotImage.js';
import { etcdctl, startEtcd, startTern, type Outcome, type Running } from './processes.js';
import { etcdExampleState } from './snapshot/etcdAuthExample.js';

const hashKv = async (server: Running): Promise<number> => {
  const o = await etcdctl(server.endpoint, ['endpoint', 'hashkv', '-w', 'json']);
  return (JSON.parse(o.stdout) as [{ HashKV: { hash: number } }])[0].HashKV.hash;
};

test('a large Tern snapshot restores into real etcd with the same state', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-snap-'));
  const tern = await startTern();
  const drawn = { leaseId: '' };
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
      drawn.leaseId = lease.ID;
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
      // The id Tern drew (random, 63 bits) is the one etcd read from the bbolt lease bucket.
      t.true(leases.stdout.includes(BigInt(drawn.leaseId).toString(16).padStart(16, '0')), `${drawn.leaseId} in ${leases.stdout}`);
    } finally {
      await etcd.stop();
    }
  } finally {
    await tern.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

/**
 * A Tern snapshot image of a state machine holding `auth` and the keys foo and pre/x,
 * written as `etcdctl snapshot save` would leave it, restored with `etcdctl snapshot
 * restore`, and a real etcd started on it; `check` runs against that etcd.
 */
async function restoreIntoEtcd(auth: AuthState, check: (etcd: Running) => Promise<void>): Promise<void> {
  const machine = new EtcdStateMachine({ minLeaseTtlSeconds: 1, clock: { nowMs: () => 0 }, onResult: () => undefined });
  machine.store.put({ key: Buffer.from('foo'), value: Buffer.from('bar') }, 1);
  machine.store.put({ key: Buffer.from('pre/x'), value: Buffer.from('y') }, 2);
  machine.auth = new AuthStore(auth);
  const image = snapshotImage(machine);
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-snap-auth-'));
  try {
    const file = path.join(dir, 'snap.db');
    writeFileSync(file, Buffer.concat([image.data, image.sha256]));
    const restored = path.join(dir, 'restored');
    const restore = await etcdctl('127.0.0.1:1', ['snapshot', 'restore', file, '--data-dir', restored]);
    if (restore.code !== 0) throw new Error(`snapshot restore failed: ${restore.stderr}`);
    const etcd = await startEtcd({ dataDir: restored });
    try {
      await check(etcd);
    } finally {
      await etcd.stop();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('users, roles, permissions, passwords and the enabled flag of a Tern snapshot restore into real etcd', async (t) => {
  await restoreIntoEtcd(etcdExampleState(), async (etcd) => {
    const as = (user: string, args: readonly string[]): Promise<Outcome> => etcdctl(etcd.endpoint, ['--user', user, ...args]);
    t.is((await as('root:rootpw', ['user', 'list'])).stdout, 'alice\nnopw\nroot\n');
    t.is((await as('root:rootpw', ['role', 'list'])).stdout, 'empty\nreader\nwriter\n');
    t.is((await as('root:rootpw', ['user', 'get', 'alice'])).stdout, 'User: alice\nRoles: reader writer\n');
    t.is((await as('root:rootpw', ['user', 'get', 'nopw'])).stdout, 'User: nopw\nRoles: reader\n');
    t.is((await as('root:rootpw', ['role', 'get', 'reader'])).stdout,
      'Role reader\nKV Read:\n\tfoo\nKV Write:\n\t[a, b) (prefix a)\n');
    t.is((await as('root:rootpw', ['role', 'get', 'writer'])).stdout,
      'Role writer\nKV Read:\n\t[zz, <open ended>\nKV Write:\n\t[pre/, pre0) (prefix pre/)\n');
    // Enabled: no user is refused; the right password works, a wrong one does not, nor one for a no-password user.
    t.regex((await etcdctl(etcd.endpoint, ['get', 'foo'])).stderr, /user name is empty/);
    t.is((await as('root:rootpw', ['get', 'foo', '--print-value-only'])).stdout, 'bar\n');
    t.regex((await as('root:wrong', ['get', 'foo'])).stderr, /authentication failed, invalid user ID or password/);
    t.regex((await as('nopw:anything', ['get', 'foo'])).stderr, /password was given for no password user/, 'options.no_password came along');
    // alice's permissions: write under pre/, read [a, b), foo and from zz on; nothing else.
    t.is((await as('alice:alicepw', ['put', 'pre/y', 'v'])).code, 0);
    t.is((await as('alice:alicepw', ['get', 'foo', '--print-value-only'])).stdout, 'bar\n');
    t.regex((await as('alice:alicepw', ['put', 'foo', 'v'])).stderr, /permission denied/);
    t.regex((await as('alice:alicepw', ['get', 'pre/x'])).stderr, /permission denied/);
  });
});

test('a Tern snapshot with users but auth never enabled restores into an etcd that serves without a user', async (t) => {
  await restoreIntoEtcd({ ...etcdExampleState(), enabled: false }, async (etcd) => {
    t.is((await etcdctl(etcd.endpoint, ['get', 'foo', '--print-value-only'])).stdout, 'bar\n');
    t.is((await etcdctl(etcd.endpoint, ['user', 'list'])).stdout, 'alice\nnopw\nroot\n');
    t.is((await etcdctl(etcd.endpoint, ['auth', 'enable'])).stdout, 'Authentication Enabled\n', 'root and its role came along');
    t.is((await etcdctl(etcd.endpoint, ['--user', 'root:rootpw', 'get', 'foo', '--print-value-only'])).stdout, 'bar\n');
  });
});

test('snapshot status counts the same keys for Tern and etcd holding the same data (the members bucket included)', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-snap-count-'));
  const servers = [await startTern(), await startEtcd()];
  try {
    const totals: number[] = [];
    for (const [i, server] of servers.entries()) {
      for (const key of ['a', 'b', 'c']) t.is((await etcdctl(server.endpoint, ['put', key, 'v'])).code, 0);
      const file = path.join(dir, `snap${String(i)}.db`);
      const save = await etcdctl(server.endpoint, ['snapshot', 'save', file]);
      t.is(save.code, 0, save.stderr);
      const status = await etcdctl(server.endpoint, ['snapshot', 'status', file, '-w', 'json']);
      totals.push((JSON.parse(status.stdout) as { totalKey: number }).totalKey);
    }
    // 3 keys, meta's consistent_index, cluster's clusterVersion, auth's authRevision, one member.
    t.deepEqual(totals, [7, 7]);
  } finally {
    await Promise.all(servers.map((s) => s.stop()));
    rmSync(dir, { recursive: true, force: true });
  }
});
