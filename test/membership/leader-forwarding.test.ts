// Leader-only lease work from any member, in the core: the leader answers itself; a
// follower asks the leader through the LeaderLink port and answers under its own
// header; a call the leader never answers is cancelled and answered "leader changed"
// at the first expire() after its deadline; no known leader is "no leader".
import test from 'ava';
import { etcdError, type EtcdError } from '../../core/errors.js';
import type { LeaseId } from '../../core/lease/leaseId.js';
import { LeaderForwarding, UNREACHABLE, type LeaderLink, type Unreachable } from '../../core/membership/leaderForwarding.js';
import { Membership, raftIdOf, type MemberRecord } from '../../core/membership/members.js';
import type { EtcdServer } from '../../core/server/server.js';

const [A, B] = [0x8e9e05c52164694dn, 0x5b79906609457ea0n];
const record = (id: bigint): MemberRecord => ({ id, name: id.toString(16), peerUrls: [`http://h${id.toString(16)}:2380`], clientUrls: [], isLearner: false });

type KeepAliveDone = (result: { ttlSeconds: number } | EtcdError | Unreachable) => void;

interface Harness {
  readonly forwarding: LeaderForwarding;
  /** Keep-alives sent to the leader, with their answer callbacks and whether they were cancelled. */
  readonly sent: { leader: number; id: LeaseId; done: KeepAliveDone; cancelled: boolean }[];
  readonly local: LeaseId[];
  advance(ms: number): void;
  be(status: { role: 'leader' | 'follower'; lead: number }): void;
}

function harness(): Harness {
  let now = 0;
  let status = { role: 'follower' as 'leader' | 'follower', lead: raftIdOf(B) };
  const local: LeaseId[] = [];
  const server = {
    driver: { status: () => status },
    header: () => ({ memberId: raftIdOf(A) }),
    leaseKeepAlive: (request: { id: LeaseId }, reply: (r: object) => void) => { local.push(request.id); reply({ header: {}, id: request.id, ttlSeconds: 9 }); },
  } as unknown as EtcdServer;
  const sent: Harness['sent'] = [];
  const link: LeaderLink = {
    keepAlive: (leader, id, done) => {
      const call = { leader, id, done, cancelled: false };
      sent.push(call);
      return () => { call.cancelled = true; };
    },
    timeToLive: () => () => undefined,
    learnerReady: () => () => undefined,
  };
  const forwarding = new LeaderForwarding({
    server, membership: new Membership(7n, A, [record(A), record(B)], null), link, clock: { nowMs: () => now }, timeoutMs: 5000,
  });
  return { forwarding, sent, local, advance: (ms) => { now += ms; }, be: (s) => { status = s; } };
}

test('the leader answers a keep-alive itself', (t) => {
  const h = harness();
  h.be({ role: 'leader', lead: raftIdOf(A) });
  const replies: object[] = [];
  h.forwarding.keepAlive({ id: 5n }, (r) => { replies.push(r); });
  t.deepEqual(h.local, [5n]);
  t.is(h.sent.length, 0);
  t.like(replies[0], { id: 5n, ttlSeconds: 9 });
});

test('a follower forwards to the leader and answers with its own header', (t) => {
  const h = harness();
  const replies: object[] = [];
  h.forwarding.keepAlive({ id: 5n }, (r) => { replies.push(r); });
  t.is(h.sent.length, 1);
  t.is(h.sent[0]?.leader, raftIdOf(B));
  h.sent[0]?.done({ ttlSeconds: 60 });
  t.deepEqual(replies, [{ header: { memberId: raftIdOf(A) }, id: 5n, ttlSeconds: 60 }]);
  t.is(h.forwarding.inFlightCount, 0);
});

test('the leader\'s refusal passes through; an unreachable leader is "leader changed"', (t) => {
  const h = harness();
  const replies: object[] = [];
  h.forwarding.keepAlive({ id: 5n }, (r) => { replies.push(r); });
  h.forwarding.keepAlive({ id: 6n }, (r) => { replies.push(r); });
  h.sent[0]?.done(etcdError('leaseNotFound'));
  h.sent[1]?.done(UNREACHABLE);
  t.deepEqual(replies, [etcdError('leaseNotFound'), etcdError('leaderChanged')]);
});

test('a call the leader never answers is cancelled and answered "leader changed" after its deadline, once', (t) => {
  const h = harness();
  const replies: object[] = [];
  h.forwarding.keepAlive({ id: 5n }, (r) => { replies.push(r); });
  h.advance(4999);
  h.forwarding.expire();
  t.is(replies.length, 0);
  t.false(h.sent[0]?.cancelled);
  h.advance(1);
  h.forwarding.expire();
  t.true(h.sent[0]?.cancelled);
  t.deepEqual(replies, [etcdError('leaderChanged')]);
  h.sent[0]?.done({ ttlSeconds: 60 }); // a late answer is ignored
  t.is(replies.length, 1);
});

test('no known leader: "no leader", nothing sent', (t) => {
  const h = harness();
  h.be({ role: 'follower', lead: 0 });
  const replies: object[] = [];
  h.forwarding.keepAlive({ id: 5n }, (r) => { replies.push(r); });
  t.deepEqual(replies, [etcdError('noLeader')]);
  t.is(h.sent.length, 0);
});
