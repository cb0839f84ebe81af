// Serializable gets are judged by weaker rules than linearizable ones: the state at the
// revision they report, and per-member monotonic revisions (sim/staleReads.ts).
import test from 'ava';
import { ModelStore } from '../../jepsen-like/etcd/store.js';
import { runSimulation } from '../../sim/run.js';
import { checkStaleReads, type StaleRead } from '../../sim/staleReads.js';

function log(): ModelStore['events'] {
  const s = new ModelStore({ recordEvents: true, initialRevision: 0 });
  s.apply({ type: 'put', key: 'a', value: 'x' }); // 1
  s.apply({ type: 'put', key: 'b', value: 'y' }); // 2
  s.apply({ type: 'put', key: 'a', value: 'z' }); // 3
  s.apply({ type: 'delete', key: 'a' }); // 4
  return s.events;
}

const read = (revision: number, response: StaleRead['response']): StaleRead => ({ process: 0, member: 1, call: 0, key: 'a', revision, response });
const a = (value: string, mod: number, version: number): StaleRead['response'] =>
  ({ kvs: [{ key: 'a', value, createRevision: 1, modRevision: mod, version, lease: 0 }], count: 1, more: false });

test('a serializable get must return the committed state at the revision it reports', (t) => {
  const events = log();
  t.deepEqual(checkStaleReads(events, [read(0, { kvs: [], count: 0 }), read(1, a('x', 1, 1)), read(2, a('x', 1, 1)), read(3, a('z', 3, 2)), read(4, { kvs: [], count: 0 })]), []);
  t.is(checkStaleReads(events, [read(3, a('x', 1, 1))]).length, 1, 'an older value under a newer revision');
  t.is(checkStaleReads(events, [read(4, a('z', 3, 2))]).length, 1, 'a deleted key still there');
  t.is(checkStaleReads(events, [read(0, a('x', 1, 1))]).length, 1, 'a value before it was written');
});

test('KV runs check their serializable gets and find them right', (t) => {
  let checked = 0;
  for (const seed of [2, 3]) {
    const result = runSimulation({ seed, nodes: 5, timeMs: 5000, faults: 'swarm', workload: 'kv', checkTimeoutMs: 5000 });
    t.is(result.kv?.serializable, 'ok', `seed ${seed}: ${JSON.stringify(result.kv?.serializable_detail)}`);
    checked += result.kv?.stale_reads ?? 0;
  }
  t.true(checked > 10, `only ${checked} serializable gets`);
});
