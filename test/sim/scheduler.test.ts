import test from 'ava';
import { Scheduler } from '../../sim/scheduler.js';
import type { TraceRecord } from '../../sim/scheduler.js';

test('events run in (time, sequence) order and time jumps to each', (t) => {
  const scheduler = new Scheduler();
  const order: string[] = [];
  const at = (label: string, timeUs: number): void => {
    scheduler.at(timeUs, { kind: 'other', node: 0, run: () => { order.push(`${label}@${scheduler.nowUs}`); } });
  };
  at('c', 30);
  at('a', 10);
  at('b1', 20);
  at('b2', 20);
  at('b3', 20);
  scheduler.run(1_000);
  t.deepEqual(order, ['a@10', 'b1@20', 'b2@20', 'b3@20', 'c@30']);
  t.is(scheduler.events, 5);
  t.is(scheduler.nowUs, 1_000, 'time ends at the bound when the queue ran dry before it');
});

test('a heap of many events pops in order (ties by sequence)', (t) => {
  const scheduler = new Scheduler();
  const seen: [number, number][] = [];
  let seq = 0;
  for (let i = 0; i < 2000; i++) {
    const timeUs = (i * 7919) % 101;
    const mine = seq++;
    scheduler.at(timeUs, { kind: 'other', node: 0, run: () => { seen.push([scheduler.nowUs, mine]); } });
  }
  scheduler.run(Number.MAX_SAFE_INTEGER);
  for (let i = 1; i < seen.length; i++) {
    const [t0, s0] = seen[i - 1] ?? [0, 0];
    const [t1, s1] = seen[i] ?? [0, 0];
    t.true(t0 < t1 || (t0 === t1 && s0 < s1), `out of order at ${i}`);
  }
  t.is(seen.length, 2000);
});

test('run stops at the bound and when stop() says so; events may schedule events', (t) => {
  const scheduler = new Scheduler();
  let ticks = 0;
  const tick = (): void => {
    ticks++;
    scheduler.after(10, { kind: 'tick', node: 1, run: tick });
  };
  scheduler.after(0, { kind: 'tick', node: 1, run: tick });
  scheduler.run(95);
  t.is(ticks, 10); // 0, 10, ..., 90
  t.is(scheduler.nowUs, 95);
  scheduler.run(1_000, () => ticks >= 15);
  t.is(ticks, 15);
  t.is(scheduler.nowUs, 140);
});

test('no event in the past, no non-integer time', (t) => {
  const scheduler = new Scheduler();
  scheduler.at(50, { kind: 'other', node: 0, run: () => undefined });
  scheduler.run(100);
  t.throws(() => { scheduler.at(10, { kind: 'other', node: 0, run: () => undefined }); });
  t.throws(() => { scheduler.at(200.5, { kind: 'other', node: 0, run: () => undefined }); });
  t.throws(() => { scheduler.after(-1, { kind: 'other', node: 0, run: () => undefined }); });
});

function traced(order: readonly number[]): { hash: string; records: TraceRecord[] } {
  const scheduler = new Scheduler();
  const records: TraceRecord[] = [];
  scheduler.setTraceSink((record) => { records.push(record); });
  for (const node of order) {
    scheduler.at(node * 5, { kind: 'deliver', node, a: node * 3, b: 1, info: () => ({ node }), run: () => undefined });
  }
  scheduler.run(1_000);
  return { hash: scheduler.traceHash, records };
}

test('the trace hash follows the executed events, and the sink sees each one', (t) => {
  const one = traced([1, 2, 3]);
  const again = traced([1, 2, 3]);
  const other = traced([1, 2, 4]);
  t.is(one.hash, again.hash);
  t.not(one.hash, other.hash);
  t.regex(one.hash, /^[0-9a-f]{8}$/);
  t.is(one.records.length, 3);
  t.like(one.records[1], { kind: 'deliver', node: 2, timeUs: 10, a: 6, b: 1, info: { node: 2 } });
});

test('work left for the end of an event runs after it, in order, before the next event; outside an event at once', (t) => {
  const scheduler = new Scheduler();
  const order: string[] = [];
  scheduler.at(10, {
    kind: 'other', node: 0, run: () => {
      scheduler.atEndOfEvent(() => {
        order.push(`end1@${scheduler.nowUs}`);
        scheduler.atEndOfEvent(() => { order.push('end1 left end3'); });
      });
      scheduler.atEndOfEvent(() => { order.push('end2'); });
      order.push('first');
    },
  });
  scheduler.at(10, { kind: 'other', node: 0, run: () => { order.push('second'); } });
  scheduler.atEndOfEvent(() => { order.push('outside'); });
  const hashBefore = scheduler.traceHash;
  scheduler.run(100);
  t.deepEqual(order, ['outside', 'first', 'end1@10', 'end2', 'end1 left end3', 'second']);
  t.is(scheduler.events, 2, 'end-of-event work is no event of its own');
  t.not(scheduler.traceHash, hashBefore);
});
