import test from 'ava';
import { message } from '../../core/raft/types.js';
import type { Message } from '../../core/raft/types.js';
import { CALM_NETWORK, messageOf, SimNetwork } from '../../sim/network.js';
import type { NetworkFaults } from '../../sim/network.js';
import { SimRandom } from '../../sim/prng.js';
import { Scheduler } from '../../sim/scheduler.js';

function world(faults: Partial<NetworkFaults> = {}): { scheduler: Scheduler; network: SimNetwork; arrived: [number, Message][] } {
  const scheduler = new Scheduler();
  const arrived: [number, Message][] = [];
  const network = new SimNetwork({
    scheduler, random: new SimRandom(1), nodeIds: [1, 2, 3], faults: { ...CALM_NETWORK, ...faults }, linkLatencySpread: 1,
    deliver: (m) => { arrived.push([scheduler.nowUs, m]); },
  });
  return { scheduler, network, arrived };
}

const heartbeat = (from: number, to: number, index = 0): Message => message({ type: 'MsgHeartbeat', from, to, term: 1, index });

test('messages arrive after at least the minimum latency', (t) => {
  const { scheduler, network, arrived } = world({ latencyMsMin: 2, latencyMsMean: 3 });
  for (let i = 0; i < 100; i++) network.send(heartbeat(1, 2, i));
  scheduler.run(10_000_000);
  t.is(arrived.length, 100);
  for (const [timeUs] of arrived) t.true(timeUs >= 2000);
  t.is(network.stats.delivered, 100);
});

test('FIFO links keep order; reordering links do not', (t) => {
  const fifo = world({ latencyMsMean: 5, reorder: false });
  for (let i = 0; i < 200; i++) fifo.network.send(heartbeat(1, 2, i));
  fifo.scheduler.run(10_000_000);
  t.deepEqual(fifo.arrived.map(([, m]) => m.index), Array.from({ length: 200 }, (_, i) => i));
  const loose = world({ latencyMsMean: 5, reorder: true });
  for (let i = 0; i < 200; i++) loose.network.send(heartbeat(1, 2, i));
  loose.scheduler.run(10_000_000);
  t.notDeepEqual(loose.arrived.map(([, m]) => m.index), Array.from({ length: 200 }, (_, i) => i));
});

test('loss 1 drops everything; duplication 1 doubles everything', (t) => {
  const lossy = world({ lossProbability: 1 });
  for (let i = 0; i < 50; i++) lossy.network.send(heartbeat(1, 2, i));
  lossy.scheduler.run(10_000_000);
  t.is(lossy.arrived.length, 0);
  t.is(lossy.network.stats.dropped, 50);
  const echo = world({ duplicateProbability: 1 });
  for (let i = 0; i < 50; i++) echo.network.send(heartbeat(1, 2, i));
  echo.scheduler.run(10_000_000);
  t.is(echo.arrived.length, 100);
  t.is(echo.network.stats.duplicated, 50);
});

test('partitions: symmetric, one-direction, and healing', (t) => {
  const { scheduler, network, arrived } = world();
  network.partition([1], [2, 3]);
  network.send(heartbeat(1, 2));
  network.send(heartbeat(3, 1));
  network.send(heartbeat(2, 3));
  scheduler.run(1_000_000);
  t.deepEqual(arrived.map(([, m]) => [m.from, m.to]), [[2, 3]]);
  network.heal();
  network.block([1], [2]); // 1 cannot reach 2, 2 still reaches 1
  t.true(network.isBlocked(1, 2));
  t.false(network.isBlocked(2, 1));
  network.send(heartbeat(1, 2));
  network.send(heartbeat(2, 1));
  scheduler.run(2_000_000);
  t.deepEqual(arrived.slice(1).map(([, m]) => [m.from, m.to]), [[2, 1]]);
  network.heal();
  network.send(heartbeat(1, 2));
  scheduler.run(3_000_000);
  t.is(arrived.length, 3);
});

test('a power loss drops what the member sent in that same instant, not what it sent before', (t) => {
  const { scheduler, network, arrived } = world({ latencyMsMin: 1 });
  network.send(heartbeat(1, 2, 1));
  scheduler.after(500, { kind: 'crash', node: 1, run: () => {
    network.send(heartbeat(1, 2, 2));
    network.send(heartbeat(1, 3, 3));
    network.send(heartbeat(2, 3, 4)); // another member's, same instant
    network.powerLoss(1);
  } });
  scheduler.after(600, { kind: 'crash', node: 1, run: () => { network.send(heartbeat(1, 3, 5)); } });
  scheduler.run(10_000_000);
  t.deepEqual(arrived.map(([, m]) => m.index).sort((a, b) => a - b), [1, 4, 5]);
  t.is(network.stats.dropped, 2);
});

test('a clogged link holds messages until the clog ends', (t) => {
  const { scheduler, network, arrived } = world();
  network.clog({ from: 1, to: 2, untilUs: 500_000 });
  network.send(heartbeat(1, 2));
  network.send(heartbeat(1, 3));
  scheduler.run(10_000_000);
  const to2 = arrived.find(([, m]) => m.to === 2);
  const to3 = arrived.find(([, m]) => m.to === 3);
  t.true(to2 !== undefined && to2[0] >= 500_000);
  t.true(to3 !== undefined && to3[0] < 500_000);
});

test('a member cannot send as another or to itself', (t) => {
  const { network } = world();
  t.throws(() => { network.transportFor(1).send(heartbeat(2, 3)); });
  t.throws(() => { network.send(heartbeat(2, 2)); });
});

test('healLink ends a partition of one link, both directions, and leaves the others cut', (t) => {
  const { scheduler, network, arrived } = world();
  network.partition([1], [2, 3]);
  network.healLink(2, 1);
  t.false(network.isBlocked(1, 2));
  t.false(network.isBlocked(2, 1));
  t.true(network.isBlocked(1, 3) && network.isBlocked(3, 1), 'the other link stays cut');
  network.send(heartbeat(1, 2));
  network.send(heartbeat(1, 3));
  scheduler.run(10_000_000);
  t.deepEqual(arrived.map(([, m]) => m.to), [2]);
});

test('messages in flight are visible to the viewer as pending deliveries', (t) => {
  const { scheduler, network } = world({ latencyMsMin: 1 });
  network.send(heartbeat(1, 2, 7));
  network.send(heartbeat(3, 1, 8));
  const seen: number[] = [];
  scheduler.forEachPending((_timeUs, spec) => {
    const m = messageOf(spec);
    if (m !== null) seen.push(m.index);
  });
  t.deepEqual(seen.sort((a, b) => a - b), [7, 8]);
  scheduler.run(10_000_000);
  let left = 0;
  scheduler.forEachPending(() => { left++; });
  t.is(left, 0, 'delivered messages are no longer pending');
});
