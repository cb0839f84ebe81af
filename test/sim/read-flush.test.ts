// The simulated members run production's batched read path: as the gRPC host flushes
// waiting linearizable reads once per event-loop turn (net/member/member.ts), a simulated
// member flushes once at the end of the event that brought them (sim/cluster.ts,
// Scheduler.atEndOfEvent). So the reads of one event share one ReadIndex round, and the
// checker judges the rounds production asks.
import test from 'ava';
import type { RangeResponse } from '../../core/mvcc/types.js';
import type { EtcdError } from '../../core/errors.js';
import type { EtcdServer } from '../../core/server/server.js';
import { buildWorld } from '../../sim/world.js';

type RangeResult = ({ readonly header: unknown } & RangeResponse) | EtcdError;

test('two linearizable reads in one event on a leader of three: asked at the end of the event, one round for both', (t) => {
  const world = buildWorld({ seed: 7, nodes: 3, timeMs: 10_000, faults: 'none', workload: 'kv' });
  const { scheduler, cluster, network } = world;
  cluster.start();
  let leader: EtcdServer | null = null;
  scheduler.run(Number.MAX_SAFE_INTEGER, () => {
    for (const id of [1, 2, 3]) {
      const server = cluster.member(id).server;
      if (server !== null && server.driver.status().role === 'leader') leader = server;
    }
    return leader !== null;
  });
  const onLeader = leader as EtcdServer | null;
  if (onLeader === null) {
    t.fail('no leader');
    return;
  }
  // Until the leader's first entry of its term commits, Raft holds ReadIndex requests back.
  scheduler.run(scheduler.nowUs + 500_000);
  t.is(onLeader.driver.status().role, 'leader', 'no faults: the leader stays');
  const results: RangeResult[] = [];
  let sentInEvent = -1;
  let sentAfterEvent = -1;
  let sentBefore = 0;
  scheduler.after(0, {
    kind: 'other', node: 0, run: () => {
      sentBefore = network.stats.sent;
      onLeader.range({ key: new TextEncoder().encode('k') }, (r) => { results.push(r); });
      onLeader.range({ key: new TextEncoder().encode('k') }, (r) => { results.push(r); });
      sentInEvent = network.stats.sent - sentBefore;
    },
  });
  let ranMine = false;
  scheduler.after(0, { kind: 'other', node: 0, run: () => { ranMine = true; sentAfterEvent = network.stats.sent - sentBefore; } });
  scheduler.run(Number.MAX_SAFE_INTEGER, () => ranMine);
  t.is(sentInEvent, 0, 'nothing is asked while the event runs');
  t.is(sentAfterEvent, 2, 'at its end: one heartbeat to each follower for both reads');
  scheduler.run(scheduler.nowUs + 100_000, () => results.length === 2);
  t.is(results.length, 2);
  for (const r of results) t.false('code' in r, 'both reads are served');
});
