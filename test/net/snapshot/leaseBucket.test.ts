// The `lease` bucket of a Tern snapshot is byte for byte the one real etcd 3.4 writes for
// the same leases: keyed by the int64 id's 64 bits big-endian, valued leasepb.Lease with
// the id as an int64 varint — for ids beyond 2^53, at the top of int64, and negative
// (etcd accepts a grant of -5; its 64 bits are a 10-byte varint).
import test from 'ava';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { readBbolt } from '../../../net/snapshot/bboltReader.js';
import { curl } from '../curl.js';
import { etcdctl, startEtcd, startTern, type Running, startBoth } from '../processes.js';

const IDS = ['7', '4503599627370497', '4611686018427400249', '9223372036854775807', '-5', '-9223372036854775808'];

async function leaseBucket(server: Running, file: string): Promise<[string, string][]> {
  for (const ID of IDS) {
    const answer = await curl(server.endpoint, { path: '/v3/lease/grant', body: JSON.stringify({ TTL: '600', ID }) });
    if (answer.status !== 200) throw new Error(`grant ${ID}: ${answer.body}`);
  }
  const save = await etcdctl(server.endpoint, ['snapshot', 'save', file]);
  if (save.code !== 0) throw new Error(save.stderr);
  return (readBbolt(readFileSync(file)).get('lease') ?? [])
    .map(([k, v]): [string, string] => [Buffer.from(k).toString('hex'), Buffer.from(v).toString('hex')]);
}

test('Tern\'s lease bucket equals etcd\'s, byte for byte, for ids across all of int64', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-lease-bucket-'));
  t.teardown(() => { rmSync(dir, { recursive: true, force: true }); });
  const [tern, etcd] = await startBoth(startTern(), startEtcd());
  t.teardown(() => Promise.all([tern.stop(), etcd.stop()]));
  const ours = await leaseBucket(tern, path.join(dir, 'tern.db'));
  const theirs = await leaseBucket(etcd, path.join(dir, 'etcd.db'));
  t.is(ours.length, IDS.length);
  t.deepEqual(ours, theirs);
  t.true(ours.some(([k]) => k === '4000000000003039'), 'keyed by the id\'s 64 bits');
  t.true(ours.some(([k]) => k === 'fffffffffffffffb'), '-5 as its two\'s complement');
});
