// Learners as etcd 3.4 has them (issue #15), Tern beside real etcd: a learner serves
// only endpoint status and serializable reads, refusing everything else with "rpc not
// supported for learner"; promoting a learner that has not caught up is refused with
// "can only promote a learner member which is in sync with leader"; one learner at a
// time; once started and in sync, it is promoted and serves writes.
import test from 'ava';
import path from 'node:path';
import {
  etcdctl, freePort, startEtcdCluster, startEtcdProcess, startTernCluster, startTernProcess, type Outcome, type Running,
} from './processes.js';

/** etcdctl's last line on stderr (its error), or stdout's first line with volatile fields left out. */
const gist = (o: Outcome): string => {
  if (o.code !== 0) return `exit ${String(o.code)}: ${o.stderr.trim().split('\n').pop() ?? ''}`;
  return o.stdout.trim().split('\n')[0]?.replace(/[0-9a-f]{12,16}/g, 'ID').replace(/ +/g, ' ') ?? '';
};

async function until(what: () => Promise<boolean>): Promise<boolean> {
  for (let i = 0; i < 100; i++) {
    if (await what()) return true;
    await new Promise((r) => setTimeout(r, 200));
  }
  return false;
}

async function learnerStory(kind: 'tern' | 'etcd'): Promise<string[]> {
  const cluster = await (kind === 'tern' ? startTernCluster(1) : startEtcdCluster(1));
  let learner: Running | null = null;
  const story: string[] = [];
  try {
    const voter = cluster.members[0]?.endpoint ?? '';
    story.push(gist(await etcdctl(voter, ['put', 'k', 'v'])));
    const [client, peer] = [await freePort(), await freePort()];
    const peerUrl = `http://127.0.0.1:${peer}`;
    const added = await etcdctl(voter, ['member', 'add', 'learner1', '--learner', `--peer-urls=${peerUrl}`]);
    story.push(added.stdout.split('\n')[0]?.replace(/[0-9a-f]{12,16}/g, 'ID').replace(/ +/g, ' ') ?? '');
    const id = /Member +([0-9a-f]+) added/.exec(added.stdout)?.[1] ?? '';
    story.push(`promote before start: ${gist(await etcdctl(voter, ['member', 'promote', id]))}`);
    story.push(`second learner: ${gist(await etcdctl(voter, ['member', 'add', 'learner2', '--learner', `--peer-urls=http://127.0.0.1:${await freePort()}`]))}`);
    const initialCluster = /ETCD_INITIAL_CLUSTER="([^"]+)"/.exec(added.stdout)?.[1] ?? '';
    const args = [
      '--name', 'learner1', '--data-dir', path.join(path.dirname(cluster.members[0]?.dataDir ?? ''), 'learner1'),
      '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', initialCluster, '--initial-cluster-state', 'existing',
    ];
    const endpoint = `127.0.0.1:${client}`;
    learner = await (kind === 'tern' ? startTernProcess(args, endpoint) : startEtcdProcess(args, endpoint));
    const at = learner.endpoint;
    // Caught up: its serializable read sees the put.
    story.push(`caught up: ${String(await until(async () => (await etcdctl(at, ['get', 'k', '--consistency=s', '--print-value-only'])).stdout === 'v\n'))}`);
    for (const command of [
      ['put', 'k', 'w'], ['get', 'k'], ['del', 'k'], ['lease', 'grant', '10'], ['compaction', '1'], ['member', 'list'],
      ['alarm', 'list'], ['user', 'list'], ['endpoint', 'hashkv'], ['member', 'promote', id],
    ]) {
      story.push(`${command.join(' ').replace(id, 'ID')}: ${gist(await etcdctl(at, ['--command-timeout=2s', ...command]))}`);
    }
    // endpoint, id, version, db size, is leader, is learner (term and index differ: etcd's log has more entries).
    const status = (await etcdctl(at, ['endpoint', 'status'])).stdout.split(', ');
    story.push(`status: leader ${status[4] ?? '?'}, learner ${status[5] ?? '?'}`);
    let promoted: Outcome = { stdout: '', stderr: '', code: 1 };
    await until(async () => {
      promoted = await etcdctl(voter, ['member', 'promote', id]);
      return promoted.code === 0;
    });
    story.push(`promote: ${gist(promoted)}`);
    story.push(`put on the promoted member: ${gist(await etcdctl(at, ['put', 'k', 'x']))}`);
    return story;
  } finally {
    await learner?.stop();
    await cluster.stop();
  }
}

test('a learner refuses what etcd\'s refuses, and is promoted once in sync, as etcd', async (t) => {
  const [tern, etcd] = [await learnerStory('tern'), await learnerStory('etcd')];
  t.deepEqual(tern, etcd);
  t.true(etcd.includes('put k w: exit 1: Error: etcdserver: rpc not supported for learner'), etcd.join('\n'));
  t.true(etcd.some((line) => line.startsWith('promote before start: exit 1: Error: etcdserver: can only promote a learner member which is in sync with leader')), etcd.join('\n'));
});
