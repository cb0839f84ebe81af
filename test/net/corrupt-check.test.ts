// etcd's corruption checks on three Tern processes. One member's MVCC store is made to
// differ while it is stopped (a record's value rewritten in its backend file, etcd's
// member/snap/db, through Tern's own backend so the file stays well formed: the only
// thing wrong is the data; etcd's e2e TestEtcdCorruptHash does the same with Go's bbolt).
//   --experimental-initial-corrupt-check: that member refuses to start, exit 1, with
//     etcd's "<id> found data inconsistency with peers" (etcd's e2e TestEtcdCorruptHash
//     waits for that text).
//   --experimental-corrupt-check-time: the leader raises CORRUPT (member id 0, as etcd
//     3.4.23; etcdctl prints it as "alarm:CORRUPT", the zero id omitted), every member lists it, writes fail with "etcdserver: corrupt cluster",
//     reads go on, endpoint status shows it.
import test from 'ava';
import path from 'node:path';
import { BboltBackend } from '../../storage/bboltBackend.js';
import type { Rev } from '../../core/mvcc/revision.js';
import type { StoredKv } from '../../core/mvcc/backend.js';
import { etcdctl, leaderIndex, startTernCluster, type RunningCluster } from './processes.js';

/** Rewrites the value of the newest record of the member's store (the member must be stopped). */
function corruptStore(dataDir: string): void {
  const backend = BboltBackend.open(path.join(dataDir, 'member', 'snap', 'db'));
  const seen: [Rev, StoredKv][] = [];
  backend.scan(0, Number.MAX_SAFE_INTEGER, (r, kv) => { seen.splice(0, 1, [r, kv]); return true; });
  const found = seen[0];
  if (found === undefined) throw new Error(`no record in ${dataDir}`);
  const [rev, kv] = found;
  backend.write({ puts: [[rev, { ...kv, value: Buffer.from('corrupted') }]], deletes: [], meta: backend.meta() });
  backend.close();
}

async function putKeys(cluster: RunningCluster): Promise<void> {
  for (let i = 0; i < 10; i++) {
    const out = await etcdctl(cluster.endpoints, ['put', `foo${i}`, `v${i}`]);
    if (out.code !== 0) throw new Error(out.stderr);
  }
}

/** Until every running member reports the same revision (bounded: the check then shows what differed). */
async function settle(cluster: RunningCluster): Promise<void> {
  const live = cluster.members.filter((m) => m.running !== null).map((m) => m.endpoint).join(',');
  for (let i = 0; i < 200; i++) {
    const out = await etcdctl(live, ['endpoint', 'status', '-w', 'json']);
    const revs = out.code === 0 ? (JSON.parse(out.stdout) as { Status: { header: { revision: number } } }[]).map((s) => s.Status.header.revision) : [];
    if (revs.length > 0 && revs.every((r) => r === revs[0])) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function stopMember(cluster: RunningCluster, index: number): Promise<void> {
  const m = cluster.members[index];
  if (m?.running === null || m === undefined) return;
  await m.running.stop();
  m.running = null;
}

test.serial('initial check: a member whose store differs refuses to start with etcd\'s line and exit 1', async (t) => {
  const cluster = await startTernCluster(3, ['--experimental-initial-corrupt-check']);
  try {
    await putKeys(cluster);
    await settle(cluster);
    const status = await etcdctl(cluster.members[0]?.endpoint ?? '', ['endpoint', 'status', '-w', 'json']);
    const id = (JSON.parse(status.stdout) as { Status: { header: { member_id: number | bigint } } }[])[0]?.Status.header.member_id;
    t.truthy(id);
    // A clean restart passes the check.
    await stopMember(cluster, 1);
    await cluster.restart(1);
    await stopMember(cluster, 0);
    corruptStore(cluster.members[0]?.dataDir ?? '');
    const refused = await cluster.restart(0).then(() => null, (error: unknown) => (error instanceof Error ? error.message : String(error)));
    t.truthy(refused);
    t.regex(refused ?? '', /exited 1/);
    t.regex(refused ?? '', /etcdmain: [0-9a-f]+ found data inconsistency with peers/);
    t.regex(refused ?? '', /etcdserver: [0-9a-f]+'s hash \d+ != [0-9a-f]+'s hash \d+ \(revision 11, peer revision 11, compact revision -1\)/);
    t.regex(refused ?? '', /starting initial corruption check/);
  } finally {
    await cluster.stop();
  }
});

test.serial('periodic check: the leader raises CORRUPT, every member lists it, writes fail as in etcd', async (t) => {
  const cluster = await startTernCluster(3, ['--experimental-corrupt-check-time', '500ms']);
  try {
    await putKeys(cluster);
    await settle(cluster);
    const leader = await leaderIndex(cluster);
    const follower = leader === 0 ? 1 : 0;
    await stopMember(cluster, follower);
    corruptStore(cluster.members[follower]?.dataDir ?? '');
    await cluster.restart(follower);
    let listed = '';
    for (let i = 0; i < 300 && !listed.includes('CORRUPT'); i++) {
      listed = (await etcdctl(cluster.members[leader]?.endpoint ?? '', ['alarm', 'list'])).stdout;
      if (!listed.includes('CORRUPT')) await new Promise((resolve) => setTimeout(resolve, 100));
    }
    t.is(listed.trim(), 'alarm:CORRUPT');
    for (const m of cluster.members) {
      // Applied everywhere: every member answers the same list (alarm list goes through Raft).
      t.is((await etcdctl(m.endpoint, ['alarm', 'list'])).stdout.trim(), 'alarm:CORRUPT', m.name);
    }
    const put = await etcdctl(cluster.endpoints, ['put', 'after', 'x']);
    t.not(put.code, 0);
    t.regex(put.stderr, /etcdserver: corrupt cluster/);
    const get = await etcdctl(cluster.endpoints, ['get', 'foo1', '--print-value-only']);
    t.is(get.stdout.trim(), 'v1');
    const status = await etcdctl(cluster.members[leader]?.endpoint ?? '', ['endpoint', 'status', '-w', 'json']);
    t.regex(status.stdout, /alarm:CORRUPT/);
    const disarm = await etcdctl(cluster.members[leader]?.endpoint ?? '', ['alarm', 'disarm']);
    t.is(disarm.stdout.trim(), 'alarm:CORRUPT');
  } finally {
    await cluster.stop();
  }
});
