// Under the gRPC host, the linearizable reads that arrive within one event-loop turn
// share one ReadIndex round (ServerPorts.readsWaiting, core/server/readRounds.ts): on a
// leader of three that is one heartbeat broadcast for the batch, not one per read. (That
// a read never joins a round asked before it arrived is read-rounds.test.ts's.)
import test from 'ava';
import type { RangeResponse } from '../../core/mvcc/types.js';
import type { EtcdError } from '../../core/errors.js';
import { call, dec, enc, ok, ServerCluster } from './cluster.js';

type RangeResult = ({ readonly header: unknown } & RangeResponse) | EtcdError;

/** Heartbeats that carry a ReadIndex context (the leader's round of confirmations). */
function readHeartbeats(c: ServerCluster): number {
  return c.sent.filter((m) => m.type === 'MsgHeartbeat' && m.context !== '').length;
}

test('ten reads in one turn on the leader: one flush asked, one round of heartbeats, ten answers', (t) => {
  const c = new ServerCluster([1, 2, 3], {}, true);
  const leader = c.elect();
  ok(call(c, leader.put.bind(leader), { key: enc('k'), value: enc('v1') }));
  c.run(5);
  c.flushesAsked.length = 0;
  c.recordSent = true;
  const results: RangeResult[] = [];
  for (let i = 0; i < 10; i++) leader.range({ key: enc('k') }, (r) => { results.push(r); });
  t.deepEqual(c.flushesAsked, [leader.memberId], 'the first waiting read asks the host for a flush, the others do not');
  t.is(readHeartbeats(c), 0, 'nothing is asked before the flush');
  leader.flushReads();
  c.deliver();
  t.is(readHeartbeats(c), 2, 'one heartbeat to each follower for the whole batch');
  t.is(results.length, 10);
  for (const r of results) t.is(dec(ok(r).kvs[0]?.value ?? enc('')), 'v1');
});

test('without the host port every read is asked at once: one round per read', (t) => {
  const c = new ServerCluster([1, 2, 3]);
  const leader = c.elect();
  ok(call(c, leader.put.bind(leader), { key: enc('k'), value: enc('v1') }));
  c.run(5);
  c.recordSent = true;
  let answered = 0;
  for (let i = 0; i < 10; i++) leader.range({ key: enc('k') }, () => { answered++; });
  c.deliver();
  t.is(readHeartbeats(c), 20);
  t.is(answered, 10);
});
