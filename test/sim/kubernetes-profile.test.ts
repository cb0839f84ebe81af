// `--profile kubernetes`: the KV clients make kube-apiserver's requests (every write a
// Txn on mod_revision, paginated lists at the first page's revision, counts, compaction
// through compact_rev_key) and every watch is on the prefix with prev_kv; under swarm
// faults the runs stay safe, linearizable and their watches valid.
import test from 'ava';
import { parseArgs, reproduceCommand } from '../../sim/args.js';
import type { EtcdRequest } from '../../jepsen-like/etcd/types.js';
import { COMPACT_REV_KEY } from '../../sim/kubernetesTraffic.js';
import { formatHash, parseHash } from '../../sim/replay/runSpec.js';
import type { RunResult } from '../../sim/run.js';
import { runSimulation } from '../../sim/run.js';
import type { WatchRecord } from '../../sim/kvVerdict.js';

interface Recorded {
  readonly result: RunResult;
  readonly requests: readonly EtcdRequest[];
  readonly watches: WatchRecord | null;
}

function kubernetesRun(seed: number): Recorded {
  let history = '';
  let watches: WatchRecord | null = null;
  const result = runSimulation({
    seed, nodes: 3, timeMs: 5000, faults: 'swarm', workload: 'kv', profile: 'kubernetes', membership: false,
    onHistory: (text) => { history = text; }, onWatches: (record) => { watches = record; },
  });
  const requests = history.split('\n').filter((line) => line !== '').map((line) => (JSON.parse(line) as { request: EtcdRequest }).request);
  return { result, requests, watches };
}

const SEEDS = [1, 2, 3, 4];

test('kube-apiserver\'s traffic under swarm faults: safe, live, linearizable, watches valid', (t) => {
  for (const seed of SEEDS) {
    const { result } = kubernetesRun(seed);
    t.deepEqual(result.violations, [], `seed ${seed}`);
    t.is(result.liveness, 'ok', `seed ${seed}`);
    t.not(result.kv?.linearizable, 'illegal', `seed ${seed}`);
    t.is(result.kv?.watch, 'ok', `seed ${seed}`);
    t.true((result.kv?.ops_ok ?? 0) > 50, `seed ${seed}: ${result.kv?.ops_ok ?? 0} ok ops`);
  }
});

test('every client write is a Txn on mod_revision with a Range on failure; lists are paginated, counts count, compaction goes through compact_rev_key', (t) => {
  const seen = { optimistic: 0, laterPages: 0, counts: 0, compactTxns: 0, compacts: 0 };
  for (const seed of SEEDS) {
    const { requests } = kubernetesRun(seed);
    for (const request of requests) {
      // No plain put or delete from a client (a lease expiry is the cluster's own op).
      t.false(request.type === 'put' || request.type === 'delete', `seed ${seed}: a plain ${request.type}`);
      if (request.type === 'txn') {
        const [compare] = request.compare;
        t.is(request.compare.length, 1);
        t.deepEqual(request.failure, [{ type: 'range', key: compare?.key ?? '' }], 'the failure branch reads the key');
        if (compare?.key === COMPACT_REV_KEY) {
          t.is(compare.target, 'version');
          seen.compactTxns++;
        } else {
          t.is(compare?.target, 'mod');
          seen.optimistic++;
        }
      }
      if (request.type === 'range' && request.countOnly === true) seen.counts++;
      if (request.type === 'range' && request.key.endsWith('\u0000')) {
        t.true((request.revision ?? 0) > 0 && (request.limit ?? 0) > 0, 'a later page is at the first page\'s revision, with its limit');
        seen.laterPages++;
      }
      if (request.type === 'compact') seen.compacts++;
    }
  }
  t.log(JSON.stringify(seen));
  t.true(seen.optimistic > 100 && seen.laterPages > 50 && seen.counts > 0 && seen.compactTxns > 0 && seen.compacts > 0, JSON.stringify(seen));
});

test('every watch is on the prefix with prev_kv, and progress notifications arrive', (t) => {
  let progress = 0;
  let streams = 0;
  for (const seed of SEEDS) {
    const { watches } = kubernetesRun(seed);
    for (const stream of watches?.streams ?? []) {
      t.is(stream.request.key, 'k');
      t.is(stream.request.rangeEnd, 'l');
      t.true(stream.request.prevKv);
      streams++;
      progress += stream.responses.filter((r) => r.progress === true).length;
    }
  }
  t.true(streams > 0 && progress > 0, `${streams} streams, ${progress} progress notifications`);
});

test('--profile is checked, reproduced and round-trips through the viewer hash', (t) => {
  const parsed = parseArgs(['--seed', '5', '--profile', 'kubernetes']);
  t.true(parsed.ok && parsed.options.profile === 'kubernetes');
  const bad = parseArgs(['--seed', '5', '--profile', 'openshift']);
  t.false(bad.ok);
  if (!bad.ok) t.regex(bad.error, /--profile must be one of default, kubernetes, got 'openshift'/);
  const raftOnly = parseArgs(['--seed', '5', '--profile', 'kubernetes', '--workload', 'none']);
  t.false(raftOnly.ok);
  t.regex(reproduceCommand({ seed: 5, nodes: 3, timeMs: 10_000, faults: 'swarm', bugs: [], workload: 'kv', profile: 'kubernetes' }), / --profile kubernetes$/);
  const hash = parseHash('#seed=5&profile=kubernetes');
  if (!hash.ok) return t.fail(hash.error);
  t.is(hash.spec.profile, 'kubernetes');
  t.is(formatHash(hash.spec), '#seed=5&nodes=3&profile=kubernetes');
  const unknown = parseHash('#seed=5&profile=x');
  t.false(unknown.ok);
});
