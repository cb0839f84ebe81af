// Generates etcd histories from a sequential run of the store with random
// concurrency, for the property tests and the benchmark. Each client runs one
// op at a time; each op takes effect at a random point inside its interval,
// and ops are applied to an ModelStore in that order, so the history is
// linearizable by construction. Put values are unique and writes ask for
// prev_kv, and the run ends with a read of every key, so that ops with an
// unknown outcome leave evidence of whether and where they took effect.

import type { Operation } from '../history.js';
import { ModelStore } from './store.js';
import type { EtcdRequest, EtcdResponse, RequestOp } from './types.js';

export interface GenerateOptions {
  readonly ops: number;
  readonly clients: number;
  readonly keys: number;
  /** Probability that an op's outcome is unknown (its client is then retired). */
  readonly unknownRate: number;
  readonly seed: number;
  /** Whether unknown outcomes may hit deletes (which leave no value to trace). */
  readonly unknownDeletes?: boolean;
  /** Whether to grant, use and revoke leases. */
  readonly leases?: boolean;
}

type Plan = (store: ModelStore) => EtcdRequest;

export function generateEtcdHistory(options: GenerateOptions): Operation<EtcdRequest, EtcdResponse>[] {
  const random = seeded(options.seed);
  const below = (n: number): number => Math.floor(random() * n);
  const key = (): string => `k${below(options.keys).toString().padStart(3, '0')}`;
  let serial = 0;
  const put = (k: string): RequestOp => ({ type: 'put', key: k, value: `v${serial++}`, prevKv: true });

  const plans: { plan: Plan; weight: number; writes: 'put' | 'delete' | 'none' }[] = [
    { weight: 40, writes: 'none', plan: () => ({ type: 'range', key: key() }) },
    { weight: 5, writes: 'none', plan: () => ({ type: 'range', key: 'k', rangeEnd: 'l', limit: 1 + below(5) }) },
    {
      weight: 5,
      writes: 'none',
      // Now and then ahead of the store (future revision) or behind its compaction.
      plan: (s) => ({ type: 'range', key: key(), revision: Math.max(1, s.revision + 2 - below(70)) }),
    },
    { weight: 30, writes: 'put', plan: () => put(key()) },
    { weight: 5, writes: 'delete', plan: () => ({ type: 'delete', key: key(), prevKv: true }) },
    {
      weight: 14,
      writes: 'put',
      plan: () => {
        const k = key();
        return { type: 'txn', compare: [{ key: k, target: 'version', result: '>', value: below(3) }], success: [put(k)], failure: [{ type: 'range', key: k }] };
      },
    },
    {
      weight: 1,
      writes: 'none',
      // Sometimes at or below the last compaction, or ahead of the store: an error.
      plan: (s) => ({ type: 'compact', revision: Math.max(0, s.revision + 2 - 40 - below(20)) }),
    },
  ];
  // Leases: ops on them never get an unknown outcome here (so the live set below stays exact).
  if (options.leases === true) {
    const live: number[] = [];
    let nextLease = 1;
    plans.push(
      { weight: 1, writes: 'none', plan: () => ({ type: 'leaseGrant', id: (live.push(nextLease), nextLease++) }) },
      {
        weight: 3,
        writes: 'none',
        plan: () => {
          const lease = live[below(live.length)];
          return lease === undefined ? { type: 'range', key: key() } : { type: 'put', key: key(), value: `v${serial++}`, lease, prevKv: true };
        },
      },
      {
        weight: 1,
        writes: 'none',
        plan: () => {
          const lease = live.splice(below(live.length), 1)[0];
          return lease === undefined ? { type: 'range', key: key() } : { type: 'leaseRevoke', id: lease };
        },
      },
    );
  }
  const totalWeight = plans.reduce((sum, p) => sum + p.weight, 0);
  const pick = (): (typeof plans)[number] => {
    let w = below(totalWeight);
    for (const p of plans) {
      if (w < p.weight) return p;
      w -= p.weight;
    }
    return plans[0] ?? { weight: 1, writes: 'none', plan: () => ({ type: 'range', key: key() }) };
  };

  // Schedule: per client, back-to-back intervals with random gaps.
  interface Slot {
    process: number;
    call: number;
    ret: number;
    point: number;
    entry: (typeof plans)[number];
    unknown: boolean;
    happened: boolean;
  }
  const slots: Slot[] = [];
  const clock = new Array<number>(options.clients).fill(0);
  const processOf = Array.from({ length: options.clients }, (_, c) => c);
  for (let i = 0; i < options.ops; i++) {
    const c = below(options.clients);
    const call = (clock[c] ?? 0) + 1 + below(5);
    const ret = call + 1 + below(30);
    const entry = pick();
    const unknown = random() < options.unknownRate && entry.writes !== 'none' && (entry.writes === 'put' || options.unknownDeletes === true);
    slots.push({ process: processOf[c] ?? c, call, ret, point: call + random() * (ret - call), entry, unknown, happened: !unknown || random() < 0.5 });
    clock[c] = ret;
    if (unknown) processOf[c] = (processOf[c] ?? c) + options.clients; // retired: a fresh process takes over
  }
  const end = Math.max(0, ...clock) + 10;

  slots.sort((a, b) => a.point - b.point);
  const store = new ModelStore();
  const history: Operation<EtcdRequest, EtcdResponse>[] = [];
  for (const slot of slots) {
    const request = slot.entry.plan(store);
    const response = slot.happened ? store.apply(request) : undefined;
    history.push(
      slot.unknown
        ? { id: 0, process: slot.process, call: slot.call, ret: Infinity, input: request, output: undefined, outcome: 'unknown', line: 0 }
        : { id: 0, process: slot.process, call: slot.call, ret: slot.ret, input: request, output: response, outcome: 'ok', line: 0 },
    );
  }
  // A final read of every key, after everything else.
  for (let k = 0; k < options.keys; k++) {
    const request: EtcdRequest = { type: 'range', key: `k${k.toString().padStart(3, '0')}` };
    history.push({ id: 0, process: -1 - k, call: end + k, ret: end + k, input: request, output: store.apply(request), outcome: 'ok', line: 0 });
  }
  history.sort((a, b) => a.call - b.call);
  return history.map((op, i) => ({ ...op, id: i, line: i + 1 }));
}

/** Renders a history in the JSON-lines format parseEtcdHistory reads. */
export function etcdHistoryText(history: readonly Operation<EtcdRequest, EtcdResponse>[]): string {
  return history
    .map((op) =>
      JSON.stringify({
        process: op.process,
        call: op.call,
        return: Number.isFinite(op.ret) ? op.ret : null,
        outcome: op.outcome,
        request: op.input,
        ...(op.output === undefined ? {} : { response: op.output }),
      }),
    )
    .join('\n');
}

/** mulberry32: a small seeded generator, so generated histories are reproducible. */
function seeded(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
