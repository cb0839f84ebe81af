// Real etcdctl against real etcd 3.4 and against Tern, command by command: the output,
// the error text and the exit code must be the same. Normalized: etcdctl's JSON
// retry-warning log lines (timestamps, random client ids) and raft_term (etcd's
// bootstrap entries put its first leader in term 2; no client depends on the number).
import test, { type ExecutionContext } from 'ava';
import {
  etcdctl, leaderIndex, startEtcd, startEtcdCluster, startTern, startTernCluster, type Outcome, type RunningCluster,
} from './processes.js';

const SCRIPT: readonly { args: string[]; input?: string }[] = [
  { args: ['put', 'foo', 'bar'] },
  { args: ['get', 'foo'] },
  { args: ['get', 'foo', '-w', 'json'] },
  { args: ['put', 'foo', 'baz', '--prev-kv'] },
  { args: ['get', 'foo', '--rev', '2', '-w', 'json'] },
  { args: ['put', 'fop', '1'] },
  { args: ['put', 'fo', '2'] },
  { args: ['get', 'fo', '--prefix'] },
  { args: ['get', 'fo', '--prefix', '--limit', '2', '-w', 'json'] },
  { args: ['get', 'fo', '--prefix', '--sort-by', 'MODIFY', '--order', 'DESCEND', '--keys-only'] },
  // etcdctl 3.4 has no --count-only (3.5 added it): keys-only exercises the same range.
  { args: ['get', 'fo', '--from-key', '--keys-only', '-w', 'json'] },
  { args: ['put', '', 'x'] },
  { args: ['get', 'foo', '--rev', '100'] },
  { args: ['txn'], input: 'version("foo") = "2"\n\nput foo qux\nget foo\n\nget fo\n\n' },
  { args: ['txn', '-w', 'json'], input: 'value("missing") = ""\n\nput x 1\n\nput y 1\n\n' },
  { args: ['txn'], input: '\nput a 1\nput a 2\n\n\n' },
  { args: ['put', 'k', '--ignore-value'] },
  { args: ['del', 'fo', '--prefix', '--prev-kv'] },
  { args: ['del', 'nothing', '-w', 'json'] },
  { args: ['compaction', '4'] },
  { args: ['get', 'foo', '--rev', '3'] },
  { args: ['compaction', '4'] },
  { args: ['get', 'foo', '--rev', '4', '-w', 'json'] },
  { args: ['endpoint', 'health'] },
];

function normalize(o: Outcome, endpoint: string): string {
  const keep = (text: string): string => text.split('\n')
    .filter((line) => !line.startsWith('{"level":'))
    .join('\n')
    .replaceAll(endpoint, 'ENDPOINT')
    .replace(/"raft_term":\d+/g, '"raft_term":T')
    // Three-member clusters run on free ports, and ids derive from the peer URLs.
    .replace(/"(cluster_id|member_id)":\d+/g, '"$1":ID')
    .replace(/took = [0-9.]+[µm]?s/g, 'took = D');
  return `exit ${o.code}\n${keep(o.stdout)}\n${keep(o.stderr)}`;
}

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
  const [etcd, tern] = await Promise.all([startEtcdCluster(3), startTernCluster(3)]);
  try {
    // Through a follower on both sides (asked of each cluster): writes and reads forwarded.
    const [etcdFollower, ternFollower] = await Promise.all([follower(etcd), follower(tern)]);
    await compare(t, etcdFollower, ternFollower);
    t.not(await leaderIndex(tern), tern.members.findIndex((m) => m.endpoint === ternFollower), 'still a follower at the end');
  } finally {
    await Promise.all([etcd.stop(), tern.stop()]);
  }
});

async function compare(t: ExecutionContext, etcdEndpoint: string, ternEndpoint: string): Promise<void> {
  for (const step of SCRIPT) {
    const fromEtcd = await etcdctl(etcdEndpoint, step.args, step.input);
    const fromTern = await etcdctl(ternEndpoint, step.args, step.input);
    t.is(normalize(fromTern, ternEndpoint), normalize(fromEtcd, etcdEndpoint), `etcdctl ${step.args.join(' ')}`);
    t.false(fromEtcd.stderr.includes('unknown flag'), `etcdctl knows every flag of ${step.args.join(' ')}`);
  }
}

/** The endpoint of a member that is not the leader, as the cluster itself reports. */
async function follower(cluster: RunningCluster): Promise<string> {
  const leader = await leaderIndex(cluster);
  if (leader < 0) throw new Error('the cluster reports no leader');
  const other = cluster.members.find((_, i) => i !== leader);
  if (other === undefined) throw new Error('a one-member cluster has no follower');
  return other.endpoint;
}
