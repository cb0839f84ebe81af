// Three-member clusters of real processes, driven by the real etcdctl: replication
// across members, etcdctl's member list against a real etcd cluster's, leader
// failover after SIGKILL, and a restarted member catching up from its data dir.
import test from 'ava';
import { etcdctl, leaderIndex, startEtcdCluster, startTernCluster, type RunningCluster, startBoth } from './processes.js';

/** etcdctl member list with ids and each member's ports replaced by its name, lines sorted. */
async function maskedMemberList(cluster: RunningCluster): Promise<string> {
  const first = cluster.members[0];
  if (first === undefined) throw new Error('empty cluster');
  const out = await etcdctl(first.endpoint, ['member', 'list']);
  let text = out.stdout.replace(/^[0-9a-f]+,/gm, '<id>,');
  for (const m of cluster.members) {
    text = text.split(m.peerUrl).join(`<peer:${m.name}>`).split(`http://${m.endpoint}`).join(`<client:${m.name}>`);
  }
  return text.trim().split('\n').sort().join('\n');
}

test('a put on one member is read on the others (linearizable and serializable)', async (t) => {
  const cluster = await startTernCluster(3);
  try {
    const [a, b, c] = cluster.members.map((m) => m.endpoint);
    t.is((await etcdctl(a ?? '', ['put', 'foo', 'bar'])).code, 0);
    for (const endpoint of [b, c]) {
      t.is((await etcdctl(endpoint ?? '', ['get', 'foo', '--print-value-only'])).stdout, 'bar\n');
    }
    // A write through a follower is forwarded to the leader (MsgProp).
    const leader = await leaderIndex(cluster);
    const follower = cluster.members[(leader + 1) % 3]?.endpoint ?? '';
    t.is((await etcdctl(follower, ['put', 'via-follower', 'yes'])).code, 0);
    t.is((await etcdctl(a ?? '', ['get', 'via-follower', '--print-value-only'])).stdout, 'yes\n');
    t.is((await etcdctl(follower, ['get', 'via-follower', '--print-value-only', '--consistency=s'])).stdout, 'yes\n');
    // SIGTERM while the others keep their peer streams open: a clean, prompt exit.
    const stoppedAt = Date.now();
    t.is(await cluster.members[(leader + 1) % 3]?.running?.stop(), 0);
    t.true(Date.now() - stoppedAt < 1500, `stopped in ${Date.now() - stoppedAt} ms`);
  } finally {
    await cluster.stop();
  }
});

test('etcdctl member list matches a real 3-member etcd (ids masked)', async (t) => {
  const [tern, etcd] = await startBoth(startTernCluster(3), startEtcdCluster(3));
  try {
    // Names and client URLs arrive with the members' attribute exchange: wait for them.
    let ternList = '';
    for (let i = 0; i < 50 && !/^<id>, started, infra1, <peer:infra1>, <client:infra1>, false\n.*infra2, <peer:infra2>, <client:infra2>.*\n.*<client:infra3>/s.test(ternList); i++) {
      ternList = await maskedMemberList(tern);
      await new Promise((r) => setTimeout(r, 100));
    }
    t.is(ternList, await maskedMemberList(etcd));
    const first = tern.members[0]?.endpoint ?? '';
    const json = JSON.parse((await etcdctl(first, ['member', 'list', '-w', 'json'])).stdout) as { header: Record<string, unknown>; members: unknown[] };
    t.deepEqual(Object.keys(json.header).sort(), ['cluster_id', 'member_id', 'raft_term'], 'no revision in a cluster RPC header');
    t.is(json.members.length, 3);
  } finally {
    await Promise.all([tern.stop(), etcd.stop()]);
  }
});

test('SIGKILL the leader: a new leader is elected, writes continue, the restarted member catches up', async (t) => {
  const cluster = await startTernCluster(3);
  try {
    const first = cluster.members[0]?.endpoint ?? '';
    for (let i = 0; i < 20; i++) t.is((await etcdctl(first, ['put', `k${i}`, `v${i}`])).code, 0);
    const leader = await leaderIndex(cluster);
    t.true(leader >= 0, 'a leader');
    const killedAt = Date.now();
    await cluster.kill(leader);
    const survivor = cluster.members[(leader + 1) % 3]?.endpoint ?? '';
    // A write proposed before the followers notice the loss is forwarded to the dead
    // leader and lost (as in etcd): the client times out and retries, as clients do.
    let put = await etcdctl(survivor, ['put', 'after', 'failover', '--command-timeout=1s']);
    for (let i = 0; i < 15 && put.code !== 0; i++) put = await etcdctl(survivor, ['put', 'after', 'failover', '--command-timeout=1s']);
    const failoverMs = Date.now() - killedAt;
    t.is(put.code, 0, put.stderr);
    t.log(`write accepted ${failoverMs} ms after the leader was killed`);
    const next = await leaderIndex(cluster);
    t.true(next >= 0 && next !== leader, 'a new leader among the survivors');
    for (let i = 0; i < 20; i++) t.is((await etcdctl(survivor, ['put', `later${i}`, `${i}`])).code, 0);

    const restartAt = Date.now();
    await cluster.restart(leader);
    const restarted = cluster.members[leader]?.endpoint ?? '';
    let caughtUp = '';
    for (let i = 0; i < 100 && caughtUp !== '19\n'; i++) {
      caughtUp = (await etcdctl(restarted, ['get', 'later19', '--print-value-only', '--consistency=s'])).stdout;
    }
    t.is(caughtUp, '19\n', 'the restarted member has the writes made while it was down');
    t.log(`restarted member caught up ${Date.now() - restartAt} ms after its restart`);
    const all = await etcdctl(restarted, ['get', '', '--from-key', '--keys-only', '--consistency=s', '-w', 'json']);
    t.is((JSON.parse(all.stdout) as { count: number }).count, 41);
  } finally {
    await cluster.stop();
  }
});
