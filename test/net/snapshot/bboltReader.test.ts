// The bbolt reader: it reads back what Tern's writer writes (any contents: multi-level
// trees, overflow pages, inline buckets), reads a snapshot real etcd 3.4 wrote, and on a
// damaged file answers a BboltError, never another exception or a wrong partial answer.
import test from 'ava';
import fc from 'fast-check';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeBbolt, type KeyValues } from '../../../net/snapshot/bbolt.js';
import { BboltError, readBbolt } from '../../../net/snapshot/bboltReader.js';
import { etcdctl, startEtcd } from '../processes.js';

const sorted = (kvs: KeyValues): [string, string][] =>
  kvs.map(([k, v]): [string, string] => [Buffer.from(k).toString('hex'), Buffer.from(v).toString('hex')]).sort((a, b) => (a[0] < b[0] ? -1 : 1));

const bucketsArb = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 12 }),
  fc.uniqueArray(fc.tuple(fc.uint8Array({ minLength: 1, maxLength: 40 }), fc.uint8Array({ maxLength: 300 })), {
    selector: ([k]) => Buffer.from(k).toString('hex'), maxLength: 120,
  }),
  { maxKeys: 6 },
);

test('reads back every bucket the writer wrote', (t) => {
  fc.assert(fc.property(bucketsArb, (dict) => {
    const buckets = new Map<string, KeyValues>(Object.entries(dict));
    const read = readBbolt(writeBbolt(buckets));
    t.deepEqual([...read.keys()].sort(), [...buckets.keys()].sort());
    for (const [name, kvs] of buckets) t.deepEqual(sorted(read.get(name) ?? []), sorted(kvs));
  }), { numRuns: 60 });
});

test('multi-level trees and values larger than a page (overflow pages)', (t) => {
  const many: [Uint8Array, Uint8Array][] = Array.from({ length: 3000 }, (_, i) => [Buffer.from(`key/${String(i).padStart(5, '0')}`), Buffer.alloc(100, i % 251)]);
  const big: [Uint8Array, Uint8Array][] = [[Buffer.from('big'), Buffer.alloc(50_000, 7)]];
  const read = readBbolt(writeBbolt(new Map<string, KeyValues>([['key', many], ['other', big]])));
  t.is(read.get('key')?.length, 3000);
  t.deepEqual(sorted(read.get('other') ?? []), sorted(big));
});

test('a damaged file is a BboltError: truncated, random bytes, flipped bytes anywhere', (t) => {
  const file = writeBbolt(new Map<string, KeyValues>([['key', Array.from({ length: 500 }, (_, i): [Uint8Array, Uint8Array] => [Buffer.from(`k${String(i)}`), Buffer.alloc(64, 1)])]]));
  t.throws(() => readBbolt(file.subarray(0, 100)), { instanceOf: BboltError });
  t.throws(() => readBbolt(Buffer.alloc(8192, 0xab)), { instanceOf: BboltError });
  t.throws(() => readBbolt(file.subarray(0, file.length - 4096)), { instanceOf: BboltError }, 'the last page missing');
  fc.assert(fc.property(fc.array(fc.tuple(fc.nat(file.length - 1), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 8 }), (flips) => {
    const damaged = Buffer.from(file);
    for (const [at, xor] of flips) damaged[at] = (damaged[at] ?? 0) ^ xor;
    try {
      readBbolt(damaged);
    } catch (error) {
      if (!(error instanceof BboltError)) throw error;
    }
  }), { numRuns: 300 });
  t.pass();
});

test('reads a snapshot real etcd 3.4 wrote: its keys, members and meta', async (t) => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tern-bbolt-read-'));
  const etcd = await startEtcd();
  try {
    for (let i = 0; i < 200; i++) t.is((await etcdctl(etcd.endpoint, ['put', `k${String(i)}`, 'v'.repeat(i * 10)])).code, 0);
    const file = path.join(dir, 'snap.db');
    t.is((await etcdctl(etcd.endpoint, ['snapshot', 'save', file])).code, 0);
    const buckets = readBbolt(readFileSync(file));
    t.is(buckets.get('key')?.length, 200, 'one record per revision');
    t.is(buckets.get('members')?.length, 1);
    t.true((buckets.get('meta') ?? []).some(([k]) => Buffer.from(k).toString() === 'consistent_index'));
    t.deepEqual(buckets.get('cluster')?.map(([k, v]) => [Buffer.from(k).toString(), Buffer.from(v).toString()]), [['clusterVersion', '3.4.0']]);
  } finally {
    await etcd.stop();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a page reached twice (a cycle, or a subtree shared to multiply the work) is refused', (t) => {
  const file = writeBbolt(new Map<string, KeyValues>([['key', Array.from({ length: 2000 }, (_, i): [Uint8Array, Uint8Array] => [Buffer.from(`k${String(i).padStart(5, '0')}`), Buffer.alloc(64, 1)])]]));
  // Find a branch page (flags 0x01) and point its second child at its first.
  for (let at = 3 * 4096; at < file.length; at += 4096) {
    if (file.readUInt16LE(at + 8) !== 0x01 || file.readUInt16LE(at + 10) < 2) continue;
    const damaged = Buffer.from(file);
    damaged.writeBigUInt64LE(damaged.readBigUInt64LE(at + 16 + 8), at + 32 + 8);
    t.throws(() => readBbolt(damaged), { instanceOf: BboltError, message: /reached twice/ });
    return;
  }
  t.fail('no branch page in the file');
});
