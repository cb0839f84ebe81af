// --strict-reconfig-check's health rule (etcd's mayRemoveMember), Tern beside etcd 3.4:
// with one of three members down, removing a live one would leave a single connected
// voter, so it is refused with "etcdserver: unhealthy cluster"; removing the dead one is
// how it gets replaced, and is allowed. With the check off, nothing is refused.
import test from 'ava';
import { etcdctl, leaderIndex, startEtcdCluster, startTernCluster, type RunningCluster } from './processes.js';

async function idOf(endpoint: string, name: string): Promise<string> {
  const list = await etcdctl(endpoint, ['member', 'list']);
  return new RegExp(`^([0-9a-f]+), started, ${name},`, 'm').exec(list.stdout)?.[1] ?? `no ${name} in ${list.stdout}`;
}

async function scenario(start: () => Promise<RunningCluster>): Promise<string[]> {
  const cluster = await start();
  try {
    // The leader stays up: the test is about the check, not about an election's time.
    const leader = await leaderIndex(cluster);
    const [live, dead] = [0, 1, 2].filter((i) => i !== leader);
    const at = cluster.members[leader]?.endpoint ?? '';
    const ids = [await idOf(at, cluster.members[live ?? 0]?.name ?? ''), await idOf(at, cluster.members[dead ?? 0]?.name ?? '')];
    await cluster.kill(dead ?? 0);
    const seen: string[] = [];
    for (const id of ids) {
      const o = await etcdctl(at, ['member', 'remove', id]);
      seen.push(`${String(o.code)} ${(o.stdout + o.stderr.split('\n').filter((l) => l.startsWith('Error:')).join('')).trim()}`.replaceAll(id, 'ID')
        // etcdctl prints the member and cluster ids as %16x: a leading zero becomes a space.
        .replace(/Member +ID/, 'Member ID')
        .replace(/removed from cluster +[0-9a-f]{1,16}/, 'removed from cluster CLUSTER'));
    }
    return seen;
  } finally {
    await cluster.stop();
  }
}

test('a removal that would leave too few connected voters is refused as etcd refuses it', async (t) => {
  const ours = await scenario(() => startTernCluster(3));
  const theirs = await scenario(() => startEtcdCluster(3));
  t.deepEqual(ours, theirs);
  t.deepEqual(theirs, [
    '1 Error: etcdserver: unhealthy cluster',
    '0 Member ID removed from cluster CLUSTER',
  ]);
});
