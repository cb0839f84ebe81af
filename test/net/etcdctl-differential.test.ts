// Real etcdctl against real etcd 3.4 and against Tern, command by command: the output,
// the error text and the exit code must be the same. Normalized: etcdctl's JSON
// retry-warning log lines (timestamps, random client ids) and raft_term (etcd's
// bootstrap entries put its first leader in term 2; no client depends on the number).
import test from 'ava';
import { compare } from './differential.js';
import { leaderIndex, startEtcd, startEtcdCluster, startTern, startTernCluster, type RunningCluster, startBoth } from './processes.js';

test('etcdctl cannot tell Tern from etcd on the KV API', async (t) => {
  const etcd = await startEtcd();
  const tern = await startTern();
  try {
    await compare(t, etcd.endpoint, tern.endpoint);
  } finally {
    await etcd.stop();
    t.is(await tern.stop(), 0, 'SIGTERM shuts Tern down cleanly (exit 0)');
  }
});

test('etcdctl cannot tell a three-member Tern cluster from a three-member etcd on the KV API', async (t) => {
  const [etcd, tern] = await startBoth(startEtcdCluster(3), startTernCluster(3));
  try {
    // Through a follower on both sides (asked of each cluster): writes and reads forwarded.
    const [etcdFollower, ternFollower] = await Promise.all([follower(etcd), follower(tern)]);
    await compare(t, etcdFollower, ternFollower);
    t.not(await leaderIndex(tern), tern.members.findIndex((m) => m.endpoint === ternFollower), 'still a follower at the end');
  } finally {
    await Promise.all([etcd.stop(), tern.stop()]);
  }
});

/** The endpoint of a member that is not the leader, as the cluster itself reports. */
async function follower(cluster: RunningCluster): Promise<string> {
  const leader = await leaderIndex(cluster);
  if (leader < 0) throw new Error('the cluster reports no leader');
  const other = cluster.members.find((_, i) => i !== leader);
  if (other === undefined) throw new Error('a one-member cluster has no follower');
  return other.endpoint;
}
