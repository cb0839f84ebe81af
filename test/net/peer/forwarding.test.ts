// Three Members in one process over real gRPC peer streams: leader-only work reaches
// the leader from a follower (lease keep-alive over the Peer service), and the
// transport's counters see traffic.
import test from 'ava';
import { isEtcdError } from '../../../core/errors.js';
import { message } from '../../../core/raft/types.js';
import { clusterId, memberId } from '../../../net/config/ids.js';
import { Member } from '../../../net/member/member.js';
import { Membership, type MemberRecord } from '../../../core/membership/members.js';
import { PeerSender } from '../../../net/peer/sender.js';
import { freePort } from '../processes.js';

interface Prepared { readonly start: (index: number) => Promise<Member> }

/** n members' records; each member is started on demand (in-memory log stores). */
async function prepare(n: number, snapshotCount?: number): Promise<Prepared> {
  const ports = await Promise.all(Array.from({ length: 2 * n }, () => freePort()));
  const records: MemberRecord[] = Array.from({ length: n }, (_, i) => {
    const peerUrl = `http://127.0.0.1:${ports[2 * i + 1] ?? 0}`;
    return { id: memberId([peerUrl], 'fwd'), name: `m${i + 1}`, peerUrls: [peerUrl], clientUrls: [], isLearner: false };
  });
  const cluster = clusterId(records.map((r) => r.id));
  return {
    start: (i) => {
      const r = records[i];
      if (r === undefined) throw new Error(`no member ${i}`);
      return Member.start({
        membership: new Membership(cluster, r.id, records, null),
        clientAddresses: [{ address: `127.0.0.1:${ports[2 * i] ?? 0}`, secure: false }],
        peerAddresses: [{ address: `127.0.0.1:${ports[2 * i + 1] ?? 0}`, secure: false }],
        name: r.name, advertiseClientUrls: [`http://127.0.0.1:${ports[2 * i] ?? 0}`], clusterToken: 'fwd',
        heartbeatMs: 20, electionMs: 200, ...(snapshotCount === undefined ? {} : { snapshotCount }),
      });
    },
  };
}

async function startInProcess(n: number): Promise<Member[]> {
  const prepared = await prepare(n);
  return Promise.all(Array.from({ length: n }, (_, i) => prepared.start(i)));
}

async function until(condition: () => boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('a follower forwards lease keep-alive and time-to-live to the leader', async (t) => {
  const members = await startInProcess(3);
  try {
    await until(() => members.some((m) => m.isLeader()) && members.every((m) => m.hasLeader()), 5000);
    const leader = members.find((m) => m.isLeader());
    const follower = members.find((m) => !m.isLeader());
    if (leader === undefined || follower === undefined) return t.fail('no leader or no follower');
    const granted = await new Promise<{ id: bigint; ttlSeconds: number }>((resolve, reject) => {
      leader.server.leaseGrant({ ttlSeconds: 60, id: 0n }, (r) => { if (isEtcdError(r)) reject(new Error(r.message)); else resolve(r); });
    });
    // The follower's own server refuses (keep-alive is leader-only) …
    const direct = await new Promise((resolve) => { follower.server.leaseKeepAlive({ id: granted.id }, resolve); });
    t.true(isEtcdError(direct) && direct.name === 'notLeader');
    // … the Member forwards it.
    const forwarded = await new Promise((resolve) => { follower.forwarding.keepAlive({ id: granted.id }, resolve); });
    if (isEtcdError(forwarded)) return t.fail(forwarded.message);
    t.like(forwarded, { id: granted.id, ttlSeconds: 60 });
    t.is((forwarded as { header: { memberId: number } }).header.memberId, follower.membership.selfRaftId, 'the header is the answering member\'s');
    // TimeToLive too: the remaining TTL is the leader's; the keys come as bytes.
    await new Promise<void>((resolve) => {
      leader.server.put({ key: new Uint8Array([0x6b, 0xff]), value: new Uint8Array([1]), lease: granted.id }, () => { resolve(); });
    });
    const ttl = await new Promise((resolve) => { follower.forwarding.timeToLive({ id: granted.id }, resolve); });
    if (isEtcdError(ttl)) return t.fail(ttl.message);
    t.like(ttl, { id: granted.id, grantedTtlSeconds: 60, keys: ['k\u00ff'] });
    const unknown = await new Promise((resolve) => { follower.forwarding.timeToLive({ id: 424242n }, resolve); });
    t.like(unknown, { ttlSeconds: -1 });
    const sent = [...leader.transport.stats().values()].reduce((sum, s) => sum + s.sent, 0);
    t.true(sent > 0, 'the leader sent messages over its peer streams');
  } finally {
    await Promise.all(members.map((m) => m.stop()));
  }
});

test('a member that starts after the log was compacted is sent a snapshot over its peer stream', async (t) => {
  const prepared = await prepare(3, 20);
  const members = [await prepared.start(0), await prepared.start(1)];
  try {
    await until(() => members.some((m) => m.isLeader()), 5000);
    const leader = members.find((m) => m.isLeader());
    if (leader === undefined) return t.fail('no leader');
    // More entries than the leader keeps behind its snapshot (500): the late member's
    // log cannot be caught up entry by entry.
    const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);
    for (let i = 0; i < 600; i++) {
      await new Promise<void>((resolve, reject) => {
        leader.server.put({ key: bytes(`k${i}`), value: bytes(`v${i}`) }, (r) => { if (isEtcdError(r)) reject(new Error(r.message)); else resolve(); });
      });
    }
    const late = await prepared.start(2);
    members.push(late);
    const has = (key: string): boolean => {
      const r = late.server.machine.store.range({ key: bytes(key) });
      return !isEtcdError(r) && r.kvs.length === 1;
    };
    await until(() => has('k599'), 10_000);
    t.true(has('k0'), 'the state came with the snapshot');
    t.true(late.server.driver.status().applied >= 600);
    // The others published their names before the 600 puts, in entries compacted away:
    // the late member knows them from the snapshot image.
    await until(() => late.published, 20_000);
    t.deepEqual(late.membership.list().map((m) => m.name).sort(), ['m1', 'm2', 'm3']);
  } finally {
    await Promise.all(members.map((m) => m.stop()));
  }
});

test('every member learns every member\'s name and client URLs through Raft (etcd\'s publish)', async (t) => {
  const members = await startInProcess(3);
  try {
    await until(() => members.every((m) => m.published), 20_000);
    // Published means applied on the publisher; the others apply it too once committed.
    await until(() => members.every((m) => m.membership.list().every((r) => r.name !== '')), 20_000);
    for (const m of members) {
      t.deepEqual(m.membership.list().map((r) => r.name).sort(), ['m1', 'm2', 'm3']);
      for (const r of m.membership.list()) t.is(r.clientUrls.length, 1, `${r.name}'s client URL is known on ${m.membership.selfId.toString(16)}`);
    }
    const records = members[0]?.server.machine.attributes.all().map((a) => a.name).sort();
    t.deepEqual(records, ['m1', 'm2', 'm3'], 'replicated state, not learned over the Peer service');
  } finally {
    await Promise.all(members.map((m) => m.stop()));
  }
});

test('a peer stream from another cluster is refused (cluster ID mismatch)', async (t) => {
  const prepared = await prepare(3);
  const member = await prepared.start(0);
  const lines: string[] = [];
  const peerUrl = member.membership.get(member.membership.selfId)?.peerUrls[0] ?? '';
  const stranger = new PeerSender({
    address: peerUrl.replace('http://', ''), clusterId: '12345', fromId: '1', queueLimit: 10, backoffMinMs: 10, backoffMaxMs: 10,
    log: (line) => { lines.push(line); },
  });
  try {
    stranger.send(message({ type: 'MsgHeartbeat', from: 1, to: member.membership.selfRaftId, term: 99 }));
    await until(() => lines.length > 0, 5000);
    t.regex(lines[0] ?? '', /cluster ID mismatch/);
    t.is(member.server.driver.status().hardState.term < 99, true, 'the message never reached Raft');
  } finally {
    stranger.close();
    await member.stop();
  }
});
