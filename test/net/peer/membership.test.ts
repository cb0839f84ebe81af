// Member ids as etcd computes them, the Raft ids derived from them, and the membership
// record following applied conf changes.
import test from 'ava';
import { clusterId, memberId } from '../../../net/config/ids.js';
import { decodeContext, encodeContext, Membership, raftIdOf, type MemberRecord } from '../../../core/membership/members.js';

test('member and cluster ids equal a real etcd 3.4 cluster\'s (infra1..3 on 127.0.0.1:12480/22480/32480)', (t) => {
  // Observed with `etcdctl member list -w json` on etcd 3.4.23, token etcd-cluster-1.
  const ids = [12480, 22480, 32480].map((port) => memberId([`http://127.0.0.1:${port}`], 'etcd-cluster-1'));
  t.deepEqual(ids.map(String), ['17913900252358047427', '6591458297550044832', '6341155612629325155']);
  t.is(clusterId(ids).toString(), '13813609107900044496');
});

test('Raft ids are safe integers derived from etcd ids, distinct, never 0', (t) => {
  const ids = [0n, 1n, 2n ** 64n - 1n, 17913900252358047427n, 6591458297550044832n];
  for (const id of ids) t.true(Number.isSafeInteger(raftIdOf(id)) && raftIdOf(id) > 0);
  t.is(new Set(ids.slice(2).map(raftIdOf)).size, 3);
});

test('applied conf changes add, update, promote and remove members', (t) => {
  // Realistic ids: small ones would share their top 53 bits.
  const [A, B] = [0x8e9e05c52164694dn, 0x5b79906609457ea0n];
  const member = (id: bigint, name: string): MemberRecord => ({ id, name, peerUrls: [`http://h${name}:2380`], clientUrls: [], isLearner: false });
  const m = new Membership(7n, A, [member(A, 'a')], null);
  const via = (op: 'add' | 'remove' | 'update' | 'promote', record: MemberRecord): void => {
    const context = decodeContext({ type: 'addVoter', nodeId: raftIdOf(record.id), context: encodeContext({ op, member: record, nonce: 'n' }) });
    if (context === null) throw new Error('undecodable');
    m.apply(context);
  };
  via('add', { ...member(B, ''), isLearner: true });
  t.deepEqual(m.learners(), [raftIdOf(B)]);
  via('promote', member(B, ''));
  t.deepEqual(m.voters(), [raftIdOf(B), raftIdOf(A)]); // in etcd id order, as listed
  via('update', { ...member(B, ''), peerUrls: ['http://new:2380'] });
  t.deepEqual(m.get(B)?.peerUrls, ['http://new:2380']);
  m.learnAttributes(B, 'b', ['http://new:2379']);
  t.is(m.byRaftId(raftIdOf(B))?.name, 'b');
  via('remove', member(B, ''));
  t.deepEqual(m.list().map((r) => r.id), [A]);
  t.is(m.etcdIdOf(raftIdOf(B)), 0n);
});
