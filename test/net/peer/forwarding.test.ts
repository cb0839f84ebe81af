// Three Members in one process over real gRPC peer streams: leader-only work reaches
// the leader from a follower (lease keep-alive over the Peer service), and the
// transport's counters see traffic.
import test from 'ava';
import { isEtcdError } from '../../../core/errors.js';
import { clusterId, memberId } from '../../../net/ids.js';
import { Member } from '../../../net/member.js';
import { Membership, type MemberRecord } from '../../../net/peer/membership.js';
import { freePort } from '../processes.js';

async function startInProcess(n: number): Promise<Member[]> {
  const ports = await Promise.all(Array.from({ length: 2 * n }, () => freePort()));
  const records: MemberRecord[] = Array.from({ length: n }, (_, i) => {
    const peerUrl = `http://127.0.0.1:${ports[2 * i + 1] ?? 0}`;
    return { id: memberId([peerUrl], 'fwd'), name: `m${i + 1}`, peerUrls: [peerUrl], clientUrls: [], isLearner: false };
  });
  const cluster = clusterId(records.map((r) => r.id));
  return Promise.all(records.map((r, i) => Member.start({
    membership: new Membership(cluster, r.id, records, null),
    clientAddresses: [`127.0.0.1:${ports[2 * i] ?? 0}`],
    peerAddresses: [`127.0.0.1:${ports[2 * i + 1] ?? 0}`],
    name: r.name, advertiseClientUrls: [`http://127.0.0.1:${ports[2 * i] ?? 0}`], clusterToken: 'fwd',
    heartbeatMs: 20, electionMs: 200,
  })));
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a follower forwards a lease keep-alive to the leader; the TTL is the leader\'s', async (t) => {
  const members = await startInProcess(3);
  try {
    await until(() => members.some((m) => m.isLeader()) && members.every((m) => m.hasLeader()), 5000);
    const leader = members.find((m) => m.isLeader());
    const follower = members.find((m) => !m.isLeader());
    if (leader === undefined || follower === undefined) return t.fail('no leader or no follower');
    const granted = await new Promise<{ id: number; ttlSeconds: number }>((resolve, reject) => {
      leader.server.leaseGrant({ ttlSeconds: 60, id: 0 }, (r) => { if (isEtcdError(r)) reject(new Error(r.message)); else resolve(r); });
    });
    // The follower's own server refuses (keep-alive is leader-only) …
    const direct = await new Promise((resolve) => { follower.server.leaseKeepAlive({ id: granted.id }, resolve); });
    t.true(isEtcdError(direct) && direct.name === 'notLeader');
    // … the Member forwards it.
    const forwarded = await new Promise((resolve) => { follower.leaseKeepAlive({ id: granted.id }, resolve); });
    if (isEtcdError(forwarded)) return t.fail(forwarded.message);
    t.like(forwarded, { id: granted.id, ttlSeconds: 60 });
    t.is((forwarded as { header: { memberId: number } }).header.memberId, follower.membership.selfRaftId, 'the header is the answering member\'s');
    const sent = [...leader.transport.stats().values()].reduce((sum, s) => sum + s.sent, 0);
    t.true(sent > 0, 'the leader sent messages over its peer streams');
  } finally {
    await Promise.all(members.map((m) => m.stop()));
  }
});
