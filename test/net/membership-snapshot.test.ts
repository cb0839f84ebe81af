// Issue #15: membership is part of the snapshot. A member that was down while another
// joined, and whose log the leader has since compacted past that join, catches up by a
// snapshot; the snapshot must tell it who the new member is (its peer URLs), or it could
// neither list the member nor reach it.
import test from 'ava';
import { Etcd3 } from 'etcd3';
import path from 'node:path';
import { etcdctl, freePort, leaderIndex, startTernCluster, startTernProcess, type Running } from './processes.js';

/** More than the entries a leader keeps behind its snapshot (the driver's catchUpEntries, 500). */
const PUTS = 800;

const count = (o: { stdout: string }): number => {
  try {
    return (JSON.parse(o.stdout) as { count?: number }).count ?? 0;
  } catch {
    return -1;
  }
};

async function waitFor(what: () => Promise<boolean>, tries = 100): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (await what()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

test('a member restored from a snapshot knows a member added in entries compacted away', async (t) => {
  const cluster = await startTernCluster(3, ['--snapshot-count', '100']);
  let joined: Running | null = null;
  try {
    // A follower goes down (a leader going down would only make the test wait for an election).
    const leader = await leaderIndex(cluster);
    const down = (leader + 1) % 3;
    const other = 3 - leader - down;
    const first = cluster.members[leader]?.endpoint ?? '';
    await cluster.kill(down);
    const [client, peer] = [await freePort(), await freePort()];
    const peerUrl = `http://127.0.0.1:${peer}`;
    const added = await etcdctl(first, ['member', 'add', 'infra4', `--peer-urls=${peerUrl}`]);
    t.is(added.code, 0, added.stderr);
    const initialCluster = /ETCD_INITIAL_CLUSTER="([^"]+)"/.exec(added.stdout)?.[1] ?? '';
    joined = await startTernProcess([
      '--name', 'infra4', '--data-dir', path.join(path.dirname(cluster.members[0]?.dataDir ?? ''), 'infra4'),
      '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', initialCluster, '--initial-cluster-state', 'existing', '--snapshot-count', '100',
    ], `127.0.0.1:${client}`);
    const etcd3 = new Etcd3({ hosts: first });
    try {
      for (let batch = 0; batch < PUTS / 50; batch++) {
        await Promise.all(Array.from({ length: 50 }, (_, i) => etcd3.put(`k/${batch}/${i}`).value('v')));
      }
    } finally {
      etcd3.close();
    }
    await cluster.restart(down);
    const restarted = cluster.members[down]?.endpoint ?? '';
    t.true(await waitFor(async () => count(await etcdctl(restarted, ['get', 'k/', '--prefix', '--keys-only', '-w', 'json'])) === PUTS),
      'the restarted member caught up');
    let list = '';
    const listed = await waitFor(async () => {
      list = (await etcdctl(restarted, ['member', 'list'])).stdout;
      return list.includes(`started, infra4, ${peerUrl}, http://127.0.0.1:${client}, false`);
    });
    t.true(listed, `the restarted member lists infra4:\n${list}`);
    t.is(list.trim().split('\n').length, 4, list);
    // It reaches infra4 itself: with the old leader down, the other three are the quorum.
    await cluster.kill(leader);
    t.not(other, down);
    t.true(await waitFor(async () => (await etcdctl(restarted, ['put', 'after', 'x'])).code === 0), 'the three left commit a write');
  } finally {
    await joined?.stop();
    await cluster.stop();
  }
});
