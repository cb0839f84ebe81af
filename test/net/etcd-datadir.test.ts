// Tern boots from a data dir real etcd 3.4 wrote (issue #15, recovery): etcd writes it,
// answers HashKV and the listings, stops; Tern boots on a copy and must answer the same.
// Also a data dir made by `etcdctl snapshot restore`, a 3-member cluster's three dirs, an
// etcd killed (SIGKILL) under writes (the WAL entries its backend had not saved yet are
// replayed), and damaged or newer dirs, which must stop Tern with exit 1 and leave no
// Tern environment behind. Serial: each test runs etcd then Tern on a loaded 2-core box.
import anyTest, { type ExecutionContext, type TestFn } from 'ava';
import { Etcd3 } from 'etcd3';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { writeBbolt, type KeyValues } from '../../net/snapshot/bbolt.js';
import { readBbolt } from '../../net/snapshot/bboltReader.js';
import {
  etcdctl, freePort, runTernToExit, startEtcdCluster, startEtcdProcess, startTernProcess, type Running,
} from './processes.js';

interface Context {
  readonly root: string;
  /** A stopped single etcd's data dir with keys, deletes, a compaction, a lease, users and roles, auth on. */
  readonly reference: string;
  /** What etcd answered before it stopped. */
  readonly before: Observed;
}

const test = anyTest as TestFn<Context>;
const ROOT_USER = ['--user', 'root:rootpw'];

interface Observed {
  readonly revision: number;
  readonly hash: number;
  readonly compactRevision: number;
  readonly kvs: string;
  readonly leases: string;
  readonly users: string;
  readonly roles: string;
  readonly members: string;
  readonly clusterId: string;
}

async function ok(endpoint: string, args: readonly string[]): Promise<string> {
  const out = await etcdctl(endpoint, args);
  if (out.code !== 0) throw new Error(`etcdctl ${args.join(' ')}: ${out.stderr}`);
  return out.stdout;
}

/** HashKV at `revision` (0: now) and the revision it was taken at. */
async function hashKv(endpoint: string, auth: readonly string[], revision = 0): Promise<{ hash: number; compactRevision: number; revision: number }> {
  const [entry] = JSON.parse(await ok(endpoint, [...auth, 'endpoint', 'hashkv', '--rev', String(revision), '-w', 'json'])) as
    { HashKV: { hash: number; compact_revision: number; header: { revision: number } } }[];
  if (entry === undefined) throw new Error('no hashkv answer');
  return { hash: entry.HashKV.hash, compactRevision: entry.HashKV.compact_revision, revision: entry.HashKV.header.revision };
}

/** Everything compared between etcd before it stopped and Tern after it booted (ids as etcdctl prints them). */
async function observe(endpoint: string, auth: readonly string[], atRevision = 0): Promise<Observed> {
  const status = JSON.parse(await ok(endpoint, [...auth, 'endpoint', 'status', '-w', 'json'])) as { Status: { header: { revision: number } } }[];
  const revision = atRevision === 0 ? status[0]?.Status.header.revision ?? 0 : atRevision;
  const { hash, compactRevision } = await hashKv(endpoint, auth, revision);
  const get = JSON.parse(await ok(endpoint, [...auth, 'get', '', '--from-key', '--rev', String(revision), '-w', 'json'])) as { kvs?: unknown[]; count?: number };
  const members = JSON.parse(await ok(endpoint, [...auth, 'member', 'list', '-w', 'json'])) as
    { header: { cluster_id: number }; members: { ID: number; name: string; peerURLs: string[] }[] };
  const leaseList = (await ok(endpoint, [...auth, 'lease', 'list'])).split('\n').slice(1).filter((l) => l !== '').sort().join(',');
  return {
    revision, hash, compactRevision, kvs: JSON.stringify({ kvs: get.kvs ?? [], count: get.count ?? 0 }), leases: leaseList,
    users: await ok(endpoint, [...auth, 'user', 'list']), roles: await ok(endpoint, [...auth, 'role', 'list']),
    members: JSON.stringify(members.members.map((m) => [m.ID, m.name, m.peerURLs]).sort()),
    clusterId: String(members.header.cluster_id),
  };
}

interface Ports {
  readonly client: number;
  readonly peer: number;
}

async function ports(): Promise<Ports> {
  return { client: await freePort(), peer: await freePort() };
}

function singleArgs(dataDir: string, p: Ports, name = 'solo'): string[] {
  return [
    '--name', name, '--data-dir', dataDir, '--listen-client-urls', `http://127.0.0.1:${p.client}`, '--advertise-client-urls', `http://127.0.0.1:${p.client}`,
    '--listen-peer-urls', `http://127.0.0.1:${p.peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${p.peer}`,
    '--initial-cluster', `${name}=http://127.0.0.1:${p.peer}`,
  ];
}

let logs = 0;

/** A Tern member with the flags etcd had; its zap log also written to a file (the import line comes before ready). */
async function startTernOn(args: readonly string[], endpoint: string): Promise<{ running: Running; log: () => string }> {
  const file = path.join(tmpdir(), `tern-etcd-datadir-${process.pid}-${++logs}.log`);
  const running = await startTernProcess([...args, '--logger', 'zap', '--log-outputs', `stderr,${file}`], endpoint);
  return {
    running,
    log: () => {
      const text = existsSync(file) ? readFileSync(file, 'utf8') : '';
      rmSync(file, { force: true });
      return text;
    },
  };
}

function copyDir(from: string, to: string): string {
  cpSync(from, to, { recursive: true });
  return to;
}

test.before(async (t) => {
  const root = mkdtempSync(path.join(tmpdir(), 'tern-etcd-datadir-'));
  const reference = path.join(root, 'etcd');
  const p = await ports();
  const endpoint = `127.0.0.1:${p.client}`;
  const etcd = await startEtcdProcess(singleArgs(reference, p), endpoint);
  try {
    for (let i = 1; i <= 5; i++) await ok(endpoint, ['put', `k${i}`, `v${i}`]);
    await ok(endpoint, ['put', 'k1', 'v1-again']);
    await ok(endpoint, ['del', 'k2']);
    await ok(endpoint, ['compact', '4']);
    const lease = /lease ([0-9a-f]+) granted/.exec(await ok(endpoint, ['lease', 'grant', '600']))?.[1] ?? '';
    await ok(endpoint, ['put', 'leased', 'x', '--lease', lease]);
    await ok(endpoint, ['user', 'add', 'root:rootpw']);
    await ok(endpoint, ['role', 'add', 'reader']);
    await ok(endpoint, ['role', 'grant-permission', 'reader', 'read', '/app/', '--prefix']);
    await ok(endpoint, ['user', 'add', 'alice:alicepw']);
    await ok(endpoint, ['user', 'grant-role', 'alice', 'reader']);
    await ok(endpoint, ['auth', 'enable']);
    await ok(endpoint, [...ROOT_USER, 'put', '/app/config', 'on']);
    await ok(endpoint, [...ROOT_USER, 'del', 'k3']);
    const before = await observe(endpoint, ROOT_USER);
    t.context = { root, reference, before };
  } finally {
    await etcd.stop();
  }
});

test.after.always((t) => {
  rmSync(t.context.root, { recursive: true, force: true });
});

test.serial('a stopped etcd\'s data dir boots in Tern with the same HashKV, keys, leases, users, roles, members and cluster id', async (t) => {
  const dir = copyDir(t.context.reference, path.join(t.context.root, 'tern-1'));
  const p = await ports();
  const endpoint = `127.0.0.1:${p.client}`;
  const tern = await startTernOn(singleArgs(dir, p), endpoint);
  try {
    const after = await observe(endpoint, ROOT_USER, t.context.before.revision);
    t.deepEqual(after, t.context.before);
    t.log(`HashKV at revision ${after.revision}: etcd ${t.context.before.hash}, Tern ${after.hash}; compacted at ${after.compactRevision}`);
    // Auth stayed enabled: no user, no answer.
    const anonymous = await etcdctl(endpoint, ['get', 'k1']);
    t.regex(anonymous.stderr, /user name is empty/);
    // alice's role still limits her.
    t.is((await etcdctl(endpoint, ['--user', 'alice:alicepw', 'get', '/app/config', '--print-value-only'])).stdout.trim(), 'on');
    t.regex((await etcdctl(endpoint, ['--user', 'alice:alicepw', 'get', 'k1'])).stderr, /permission denied/);
    // Etcd's files are left as they were; Tern's environment is beside them.
    t.true(existsSync(path.join(dir, 'member', 'wal', 'data.mdb')));
    t.deepEqual(readFileSync(path.join(dir, 'member', 'snap', 'db')), readFileSync(path.join(t.context.reference, 'member', 'snap', 'db')));
  } finally {
    await tern.running.stop();
  }
  t.regex(tern.log(), /"msg":"imported etcd data dir".*"keys":\d+/);
  // A restart boots from Tern's own environment: no second import, the same state.
  const again = await startTernOn(singleArgs(dir, p), endpoint);
  try {
    t.deepEqual((await hashKv(endpoint, ROOT_USER, t.context.before.revision)).hash, t.context.before.hash);
    await ok(endpoint, [...ROOT_USER, 'put', 'k9', 'new']);
  } finally {
    await again.running.stop();
  }
  t.notRegex(again.log(), /imported etcd data dir/);
});

test.serial('a data dir made by etcdctl snapshot restore boots with the snapshot\'s HashKV', async (t) => {
  const p = await ports();
  const endpoint = `127.0.0.1:${p.client}`;
  const source = path.join(t.context.root, 'snapshot-source');
  const file = path.join(t.context.root, 'snapshot.db');
  const etcd = await startEtcdProcess(singleArgs(copyDir(t.context.reference, source), p), endpoint);
  let before: Observed;
  try {
    await ok(endpoint, [...ROOT_USER, 'put', 'after-restart', 'yes']);
    before = await observe(endpoint, ROOT_USER);
    await ok(endpoint, [...ROOT_USER, 'snapshot', 'save', file]);
  } finally {
    await etcd.stop();
  }
  const restored = path.join(t.context.root, 'restored');
  const q = await ports();
  const out = await etcdctl('', ['snapshot', 'restore', file, '--data-dir', restored, '--name', 'solo',
    '--initial-cluster', `solo=http://127.0.0.1:${q.peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${q.peer}`]);
  t.is(out.code, 0, out.stderr);
  const tern = await startTernOn(singleArgs(restored, q), `127.0.0.1:${q.client}`);
  try {
    const after = await observe(`127.0.0.1:${q.client}`, ROOT_USER, before.revision);
    // The restore makes a new member and cluster (ids from the new peer URL): those differ by design.
    t.deepEqual({ ...after, members: '', clusterId: '' }, { ...before, members: '', clusterId: '' });
    t.log(`snapshot restore: HashKV at revision ${after.revision}: etcd ${before.hash}, Tern ${after.hash}`);
  } finally {
    await tern.running.stop();
  }
});

test.serial('a restored data dir boots, a member joins it and catches up from a snapshot (etcd TestIssue6361)', async (t) => {
  // The imported snapshot (at the restore's index) predates the new member, so the
  // leader must send one built now: a follower refuses a snapshot whose configuration
  // lacks it, and the new member used to stay at index 0 for good.
  const p = await ports();
  const endpoint = `127.0.0.1:${p.client}`;
  const file = path.join(t.context.root, 'issue6361.db');
  const etcd = await startEtcdProcess(singleArgs(path.join(t.context.root, 'issue6361-source'), p, 'a'), endpoint);
  try {
    for (let i = 1; i <= 3; i++) await ok(endpoint, ['put', `foo${i}`, `val${i}`]);
    await ok(endpoint, ['snapshot', 'save', file]);
  } finally {
    await etcd.stop();
  }
  const restored = path.join(t.context.root, 'issue6361-restored');
  const a = await ports();
  const aEndpoint = `127.0.0.1:${a.client}`;
  const out = await etcdctl('', ['snapshot', 'restore', file, '--data-dir', restored, '--name', 'a',
    '--initial-cluster', `a=http://127.0.0.1:${a.peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${a.peer}`]);
  t.is(out.code, 0, out.stderr);
  const first = await startTernOn(singleArgs(restored, a, 'a'), aEndpoint);
  let second: { running: Running; log: () => string } | undefined;
  try {
    t.regex(await ok(aEndpoint, ['get', 'foo1']), /val1/);
    const b = await ports();
    const bEndpoint = `127.0.0.1:${b.client}`;
    await ok(aEndpoint, ['member', 'add', 'b', `--peer-urls=http://127.0.0.1:${b.peer}`]);
    second = await startTernOn([
      '--name', 'b', '--data-dir', path.join(t.context.root, 'issue6361-b'),
      '--listen-client-urls', `http://${bEndpoint}`, '--advertise-client-urls', `http://${bEndpoint}`,
      '--listen-peer-urls', `http://127.0.0.1:${b.peer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${b.peer}`,
      '--initial-cluster', `a=http://127.0.0.1:${a.peer},b=http://127.0.0.1:${b.peer}`, '--initial-cluster-state', 'existing',
    ], bEndpoint);
    // A linearizable read on the new member answers only once it holds the keys; each
    // attempt is bounded by etcdctl's timeout, and a loaded box may need a few.
    let got: Awaited<ReturnType<typeof etcdctl>> | undefined;
    for (let attempt = 0; attempt < 12; attempt++) {
      got = await etcdctl(bEndpoint, ['--command-timeout', '5s', 'get', 'foo', '--prefix']);
      if (got.code === 0) break;
    }
    t.is(got?.code, 0, got?.stderr);
    t.is(got?.stdout, 'foo1\nval1\nfoo2\nval2\nfoo3\nval3\n');
  } finally {
    await second?.running.stop();
    second?.log();
    await first.running.stop();
    first.log();
  }
});

test.serial('an etcd killed under writes: Tern replays the WAL entries its backend had not saved and agrees with etcd restarted on the same files', async (t) => {
  const p = await ports();
  const endpoint = `127.0.0.1:${p.client}`;
  const dir = path.join(t.context.root, 'killed');
  const etcd = await startEtcdProcess(singleArgs(dir, p), endpoint);
  const client = new Etcd3({ hosts: endpoint });
  const acked: string[] = [];
  try {
    // 16 writers, each putting its next key once its last is acknowledged; killed mid-stream.
    let stop = false;
    const writers = Array.from({ length: 16 }, async (_, w) => {
      for (let i = 0; !stop; i++) {
        try {
          await client.put(`w${w}/${i}`).value(String(i));
          acked.push(`w${w}/${i}`);
        } catch {
          return;
        }
      }
    });
    while (acked.length < 1500) await new Promise((resolve) => setTimeout(resolve, 20));
    etcd.process.kill('SIGKILL');
    stop = true;
    await Promise.all(writers);
  } finally {
    client.close();
    await etcd.stop();
  }
  const forEtcd = copyDir(dir, path.join(t.context.root, 'killed-etcd'));
  const forTern = copyDir(dir, path.join(t.context.root, 'killed-tern'));
  const etcdAgain = await startEtcdProcess(singleArgs(forEtcd, p), endpoint);
  let reference: Observed;
  try {
    reference = await observe(endpoint, []);
  } finally {
    await etcdAgain.stop();
  }
  const tern = await startTernOn(singleArgs(forTern, p), endpoint);
  try {
    const after = await observe(endpoint, [], reference.revision);
    t.deepEqual(after, reference);
    const count = JSON.parse(await ok(endpoint, ['get', 'w', '--prefix', '--keys-only', '-w', 'json'])) as { count: number };
    t.true(count.count >= acked.length, `${count.count} keys, ${acked.length} acknowledged`);
  } finally {
    await tern.running.stop();
  }
  const replayed = /"wal-requests-replayed":(\d+)/.exec(tern.log())?.[1];
  t.log(`killed after ${acked.length} acknowledged puts; revision ${reference.revision}; WAL requests replayed by Tern: ${replayed ?? '?'}`);
});

test.serial('lease and auth entries after the backend\'s last key write are replayed: Tern agrees with etcd restarted on the same files', async (t) => {
  const p = await ports();
  const endpoint = `127.0.0.1:${p.client}`;
  const dir = path.join(t.context.root, 'lease-auth');
  const etcd = await startEtcdProcess(singleArgs(dir, p), endpoint);
  try {
    await ok(endpoint, ['put', 'a', '1']);
    // None of these writes a key, so etcd 3.4 saves no consistent_index for them.
    await ok(endpoint, ['lease', 'grant', '900']);
    await ok(endpoint, ['user', 'add', 'bob:bobpw']);
    await ok(endpoint, ['role', 'add', 'writer']);
    await ok(endpoint, ['role', 'grant-permission', 'writer', 'readwrite', 'b', 'c']);
    await ok(endpoint, ['user', 'grant-role', 'bob', 'writer']);
    etcd.process.kill('SIGKILL');
  } finally {
    await etcd.stop();
  }
  const listings = async (): Promise<string[]> => [
    await ok(endpoint, ['lease', 'list']), await ok(endpoint, ['user', 'get', 'bob']), await ok(endpoint, ['role', 'get', 'writer']),
    String((await hashKv(endpoint, [])).hash),
  ];
  const etcdAgain = await startEtcdProcess(singleArgs(copyDir(dir, path.join(t.context.root, 'lease-auth-etcd')), p), endpoint);
  let reference: string[];
  try {
    reference = await listings();
  } finally {
    await etcdAgain.stop();
  }
  const tern = await startTernOn(singleArgs(copyDir(dir, path.join(t.context.root, 'lease-auth-tern')), p), endpoint);
  try {
    t.deepEqual(await listings(), reference);
  } finally {
    await tern.running.stop();
  }
  // How many of the five the backend lacked depends on when etcd's batch last committed.
  t.log(`WAL requests replayed by Tern: ${/"wal-requests-replayed":(\d+)/.exec(tern.log())?.[1] ?? '?'}`);
});

test.serial('a 3-member etcd cluster\'s data dirs boot as a 3-member Tern cluster with the same ids and HashKV', async (t) => {
  const cluster = await startEtcdCluster(3);
  let before: Observed;
  const dirs: string[] = [];
  try {
    const endpoint = cluster.members[0]?.endpoint ?? '';
    for (let i = 0; i < 20; i++) await ok(endpoint, ['put', `c${i % 7}`, `v${i}`]);
    await ok(endpoint, ['del', 'c3']);
    const lease = /lease ([0-9a-f]+) granted/.exec(await ok(endpoint, ['lease', 'grant', '900']))?.[1] ?? '';
    await ok(endpoint, ['put', 'leased', 'x', '--lease', lease]);
    await ok(endpoint, ['user', 'add', 'root:rootpw']);
    await ok(endpoint, ['auth', 'enable']);
    await ok(endpoint, [...ROOT_USER, 'put', 'last', 'one']);
    before = await observe(endpoint, ROOT_USER);
    // Every member has applied it all before it stops.
    for (const m of cluster.members) t.is((await hashKv(m.endpoint, ROOT_USER, before.revision)).hash, before.hash);
    for (const m of cluster.members) await m.running?.stop();
    for (const m of cluster.members) dirs.push(copyDir(m.dataDir, path.join(t.context.root, `cluster-${m.name}`)));
  } finally {
    await cluster.stop();
  }
  const initialCluster = cluster.members.map((m) => `${m.name}=${m.peerUrl}`).join(',');
  const started = await Promise.allSettled(cluster.members.map((m, i) => startTernOn([
    '--name', m.name, '--data-dir', dirs[i] ?? '', '--listen-client-urls', `http://${m.endpoint}`, '--advertise-client-urls', `http://${m.endpoint}`,
    '--listen-peer-urls', m.peerUrl, '--initial-advertise-peer-urls', m.peerUrl, '--initial-cluster-token', 'etcd-cluster-1',
    '--initial-cluster', initialCluster, '--initial-cluster-state', 'new',
  ], m.endpoint)));
  try {
    for (const s of started) if (s.status === 'rejected') throw s.reason;
    for (const m of cluster.members) {
      const after = await observe(m.endpoint, ROOT_USER, before.revision);
      t.deepEqual(after, before, m.name);
    }
    // The Tern cluster works: a write on one is read on another.
    await ok(cluster.members[1]?.endpoint ?? '', [...ROOT_USER, 'put', 'tern', 'yes']);
    t.is((await ok(cluster.members[2]?.endpoint ?? '', [...ROOT_USER, 'get', 'tern', '--print-value-only'])).trim(), 'yes');
  } finally {
    await Promise.all(started.map((s) => (s.status === 'fulfilled' ? s.value.running.stop() : Promise.resolve(null))));
  }
});

/** Tern on a damaged copy of the reference dir: exit 1, the reason on stderr, no Tern environment made. */
async function refused(t: ExecutionContext<Context>, name: string, damage: (dir: string) => void, reason: RegExp): Promise<void> {
  const dir = copyDir(t.context.reference, path.join(t.context.root, `bad-${name}`));
  damage(dir);
  const p = await ports();
  const out = await runTernToExit(singleArgs(dir, p));
  t.is(out.code, 1, out.stderr);
  t.regex(out.stderr, /cannot boot from the etcd data dir/);
  t.regex(out.stderr, reason);
  t.false(existsSync(path.join(dir, 'member', 'wal', 'data.mdb')));
}

function walFile(dir: string): string {
  const wal = path.join(dir, 'member', 'wal');
  const name = readdirSync(wal).find((n) => n.endsWith('.wal'));
  if (name === undefined) throw new Error('no WAL segment');
  return path.join(wal, name);
}

test.serial('a torn bbolt file is refused', async (t) => {
  await refused(t, 'torn-db', (dir) => { truncateSync(path.join(dir, 'member', 'snap', 'db'), 12288); }, /snap\/db: .*cut short/);
});

test.serial('a WAL with a bad CRC before its tail is refused', async (t) => {
  await refused(t, 'wal-crc', (dir) => {
    const file = walFile(dir);
    const bytes = readFileSync(file);
    // The put of k4 is followed by many records: not the torn tail.
    const at = bytes.indexOf(Buffer.from('v4'));
    bytes[at] = 0x56;
    writeFileSync(file, bytes);
  }, /CRC mismatch/);
});

test.serial('a data dir from a newer etcd (cluster version 3.5) is refused', async (t) => {
  await refused(t, 'newer', (dir) => {
    const file = path.join(dir, 'member', 'snap', 'db');
    const buckets = readBbolt(readFileSync(file));
    const cluster: KeyValues = [[Buffer.from('clusterVersion'), Buffer.from('3.5.0')]];
    writeFileSync(file, writeBbolt(new Map([...buckets, ['cluster', cluster]])));
  }, /cluster version is 3\.5\.0/);
});

test.serial('a backend without its WAL is refused, not started as a new cluster', async (t) => {
  await refused(t, 'no-wal', (dir) => { rmSync(walFile(dir)); }, /no WAL/);
});
