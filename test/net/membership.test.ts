// Membership changes through etcdctl on a running 3-member Tern cluster: add a member,
// start it with --initial-cluster-state existing, see it catch up and listed; remove it
// and see it stop; etcd's errors for unknown members.
import test from 'ava';
import path from 'node:path';
import { etcdctl, freePort, startTernCluster, startTernProcess } from './processes.js';

test('member add → the new member joins with --initial-cluster-state existing; member remove → it stops', async (t) => {
  const cluster = await startTernCluster(3);
  try {
    const first = cluster.members[0]?.endpoint ?? '';
    const before = await etcdctl(first, ['put', 'before-join', 'x']);
    t.is(before.code, 0, before.stderr);
    const [client, peer] = [await freePort(), await freePort()];
    const peerUrl = `http://127.0.0.1:${peer}`;
    const added = await etcdctl(first, ['member', 'add', 'infra4', `--peer-urls=${peerUrl}`]);
    t.is(added.code, 0, added.stderr);
    const initialCluster = /ETCD_INITIAL_CLUSTER="([^"]+)"/.exec(added.stdout)?.[1] ?? '';
    t.true(initialCluster.includes(`infra4=${peerUrl}`), added.stdout);
    const unstarted = await etcdctl(first, ['member', 'list']);
    t.regex(unstarted.stdout, new RegExp(`^[0-9a-f]+, unstarted, , ${peerUrl}, , false$`, 'm'));

    const dataDir = path.join(path.dirname(cluster.members[0]?.dataDir ?? ''), 'infra4');
    const joined = await startTernProcess([
      '--name', 'infra4', '--data-dir', dataDir,
      '--listen-client-urls', `http://127.0.0.1:${client}`, '--advertise-client-urls', `http://127.0.0.1:${client}`,
      '--listen-peer-urls', peerUrl, '--initial-advertise-peer-urls', peerUrl,
      '--initial-cluster', initialCluster, '--initial-cluster-state', 'existing',
    ], `127.0.0.1:${client}`);
    const exited = new Promise<number | null>((resolve) => { joined.process.once('exit', resolve); });
    t.is((await etcdctl(joined.endpoint, ['get', 'before-join', '--print-value-only'])).stdout, 'x\n', 'caught up');
    let list = '';
    for (let i = 0; i < 30 && !list.includes(`started, infra4, ${peerUrl}, http://127.0.0.1:${client}, false`); i++) {
      list = (await etcdctl(first, ['member', 'list'])).stdout;
      await new Promise((r) => setTimeout(r, 100));
    }
    t.true(list.includes(`started, infra4, ${peerUrl}, http://127.0.0.1:${client}, false`), list);
    t.is(list.trim().split('\n').length, 4);
    t.is((await etcdctl(joined.endpoint, ['put', 'from-infra4', 'y'])).code, 0, 'the new member serves writes');

    const id = /^([0-9a-f]+), started, infra4/m.exec(list)?.[1] ?? '';
    // --strict-reconfig-check's health rule refuses a removal until enough voters have been
    // connected for 5 s (etcd's HealthInterval; etcd's own e2e turns the check off here).
    let removed = await etcdctl(first, ['member', 'remove', id]);
    for (let i = 0; i < 60 && removed.stderr.includes('unhealthy cluster'); i++) {
      await new Promise((r) => setTimeout(r, 250));
      removed = await etcdctl(first, ['member', 'remove', id]);
    }
    // etcdctl formats the id with %16x: an id with leading zero nibbles is space-padded.
    t.is(removed.stdout.trim().replace(/ +/g, ' '), `Member ${id} removed from cluster ${/cluster +([0-9a-f]+)/.exec(added.stdout)?.[1] ?? '?'}`);
    t.is(await exited, 0, 'a removed member stops, as in etcd');
    t.is((await etcdctl(first, ['member', 'list'])).stdout.trim().split('\n').length, 3);
    t.is((await etcdctl(first, ['put', 'after-remove', 'z'])).code, 0, 'the three keep working');

    const missing = await etcdctl(first, ['member', 'remove', '1234']);
    t.is(missing.code, 1);
    t.true(missing.stderr.includes('Error: etcdserver: member not found'));
    const notLearner = await etcdctl(first, ['member', 'promote', /^([0-9a-f]+), started, infra1,/m.exec(list)?.[1] ?? '']);
    t.true(notLearner.stderr.includes('Error: etcdserver: can only promote a learner member'), notLearner.stderr);

    // --strict-reconfig-check: members added but never started do not count; a sixth
    // voter with only three started is refused (quorum of six is four).
    for (const ghost of ['ghost1', 'ghost2']) {
      t.is((await etcdctl(first, ['member', 'add', ghost, `--peer-urls=http://127.0.0.1:${await freePort()}`])).code, 0);
    }
    const refused = await etcdctl(first, ['member', 'add', 'ghost3', `--peer-urls=http://127.0.0.1:${await freePort()}`]);
    t.true(refused.stderr.includes('Error: etcdserver: re-configuration failed due to not enough started members'), refused.stderr);
  } finally {
    await cluster.stop();
  }
});
