// The npm `etcd3` client (1.1.2), the project's named client, against Tern — and the
// same test against real etcd 3.4, so a failure shows whether the client or Tern is
// at odds with etcd. Each test works under its own key prefix (ava runs them at once).
import type { ExecutionContext } from 'ava';
import { Etcd3, EtcdLockFailedError } from 'etcd3';
import { sideBySideTest, type SideBySide } from './processes.js';

const test = sideBySideTest();

type Body = (t: ExecutionContext<SideBySide>, client: Etcd3, prefix: string) => Promise<void>;

/** Runs `body` against Tern and against real etcd, each with a fresh client. */
function both(title: string, body: Body): void {
  for (const target of ['tern', 'etcd'] as const) {
    test(`${title} (${target})`, async (t) => {
      const client = new Etcd3({ hosts: t.context[target].endpoint });
      try {
        await body(t, client, `${title.replace(/\W+/g, '-')}/`);
      } finally {
        client.close();
      }
    });
  }
}

function once<T extends unknown[]>(subscribe: (handler: (...args: T) => void) => void, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error('timed out waiting for an event')); }, timeoutMs);
    subscribe((...args) => {
      clearTimeout(timer);
      resolve(args);
    });
  });
}

both('kv', async (t, client, p) => {
  await client.put(`${p}a`).value('1');
  await client.put(`${p}b`).value('2');
  await client.put(`${p}c`).value('3');
  t.is(await client.get(`${p}a`).string(), '1');
  t.deepEqual(await client.getAll().prefix(p).strings(), { [`${p}a`]: '1', [`${p}b`]: '2', [`${p}c`]: '3' });
  t.is(await client.getAll().prefix(p).count(), 3);
  t.deepEqual(await client.getAll().prefix(p).sort('Key', 'Descend').limit(2).keys(), [`${p}c`, `${p}b`]);
  const deleted = await client.delete().key(`${p}b`).getPrevious();
  t.is(deleted[0]?.value.toString(), '2');
  t.is(await client.get(`${p}b`).string(), null);
  const put = await client.put(`${p}a`).value('4').getPrevious();
  t.is(put.value.toString(), '1');
});

both('txn builder', async (t, client, p) => {
  await client.put(`${p}k`).value('v1');
  const hit = await client.if(`${p}k`, 'Value', '==', 'v1').then(client.put(`${p}k`).value('v2')).else(client.put(`${p}k`).value('no')).commit();
  t.true(hit.succeeded);
  const miss = await client.if(`${p}k`, 'Value', '==', 'v1').then(client.put(`${p}k`).value('v3')).else(client.get(`${p}k`)).commit();
  t.false(miss.succeeded);
  t.is(miss.responses[0]?.response_range.kvs[0]?.value.toString(), 'v2');
  const created = await client.if(`${p}new`, 'Create', '==', 0).then(client.put(`${p}new`).value('x')).commit();
  t.true(created.succeeded);
});

both('watch with prev_kv', async (t, client, p) => {
  const watcher = await client.watch().key(`${p}w`).withPreviousKV().create();
  const puts: [string, string | undefined][] = [];
  const twoPuts = new Promise<void>((resolve) => {
    watcher.on('put', (kv, previous) => {
      puts.push([kv.value.toString(), previous?.value.toString()]);
      if (puts.length === 2) resolve();
    });
  });
  const deleted = once<[{ key: Buffer }, { value: Buffer } | undefined]>((h) => watcher.on('delete', h));
  await client.put(`${p}w`).value('1');
  await client.put(`${p}w`).value('2');
  await twoPuts;
  await client.delete().key(`${p}w`);
  const [kv, previous] = await deleted;
  t.deepEqual(puts, [['1', undefined], ['2', '1']]);
  t.is(kv.key.toString(), `${p}w`);
  t.is(previous?.value.toString(), '2');
  await watcher.cancel();
});

both('watch from a past revision, prefix, filtered to deletes', async (t, client, p) => {
  const first = await client.put(`${p}x`).value('1');
  await client.put(`${p}y`).value('2');
  const deleted = await client.delete().key(`${p}x`);
  const start = Number(first.header.revision);
  const watcher = await client.watch().prefix(p).startRevision(String(start)).only('delete').create();
  const [kv] = await once<[{ key: Buffer; mod_revision: string }]>((h) => watcher.on('delete', h));
  t.is(kv.key.toString(), `${p}x`);
  t.is(kv.mod_revision, deleted.header.revision);
  await watcher.cancel();
});

both('lease keep-alive, then loss on revoke', async (t, client, p) => {
  const lease = client.lease(2);
  const id = await lease.grant();
  await lease.put(`${p}leased`).value('x');
  await once((h) => lease.on('keepaliveSucceeded', h));
  const ttl = await client.leaseClient.leaseTimeToLive({ ID: id, keys: true });
  t.deepEqual(ttl.keys.map((k) => k.toString()), [`${p}leased`]);
  t.is(ttl.grantedTTL, '2');
  const lost = once<[Error]>((h) => lease.on('lost', h));
  // Revoked behind the lease's back: the next keep-alive answers TTL 0 → 'lost'.
  await client.leaseClient.leaseRevoke({ ID: id });
  const [error] = await lost;
  t.truthy(error);
  t.is(await client.get(`${p}leased`).string(), null);
  const leases = await client.leaseClient.leaseLeases();
  t.false(leases.leases.some((l) => l.ID === id));
});

both('lock', async (t, client, p) => {
  const lock = client.lock(`${p}lock`).ttl(5);
  await lock.acquire();
  await t.throwsAsync(client.lock(`${p}lock`).ttl(5).acquire(), { instanceOf: EtcdLockFailedError });
  await lock.release();
  const again = await client.lock(`${p}lock`).ttl(5).acquire();
  await again.release();
});

both('election', async (t, client, p) => {
  const election = client.election(`${p}election`, 5);
  const campaign = election.campaign('candidate-a');
  await once((h) => campaign.on('elected', h));
  t.is(await election.leader(), 'candidate-a');
  const observer = await election.observe();
  t.is(observer.leader(), 'candidate-a');
  const changed = once<[string | undefined]>((h) => observer.on('change', h));
  await campaign.proclaim('candidate-a2');
  t.is((await changed)[0], 'candidate-a2');
  await observer.cancel();
  await campaign.resign();
  t.is(await election.leader(), undefined);
});

// The default isolation: SerializableSnapshot (read set and write conflicts checked).
both('stm increments do not lose updates', async (t, client, p) => {
  await client.put(`${p}counter`).value('0');
  const increment = (): Promise<void> => client.stm({ retries: 20 }).transact(async (tx) => {
    const value = Number(await tx.get(`${p}counter`).string());
    await tx.put(`${p}counter`).value(String(value + 1));
  });
  await Promise.all(Array.from({ length: 5 }, increment));
  t.is(await client.get(`${p}counter`).string(), '5');
});

both('errors carry etcd texts', async (t, client, p) => {
  await t.throwsAsync(client.leaseClient.leaseRevoke({ ID: '1234' }), { message: /requested lease not found/ });
  await t.throwsAsync(client.put(`${p}k`).value('v').lease('1234').exec(), { message: /requested lease not found/ });
  const ttl = await client.leaseClient.leaseTimeToLive({ ID: '1234' });
  t.is(ttl.TTL, '-1');
});
