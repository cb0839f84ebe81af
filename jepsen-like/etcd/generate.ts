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
  /** Whether lease revokes may have unknown outcomes too (as expiries do), with unknownDeletes. */
  readonly unknownRevokes?: boolean;
  /** Whether some range reads cover the whole key space with no limit (so they show which keys are absent). */
  readonly wholeRanges?: boolean;
  /** Whether some puts name a lease already revoked (answered leaseNotFound, placed after the revoke). */
  readonly staleLeases?: boolean;
}

type Plan = (store: ModelStore) => EtcdRequest;

interface PlanEntry {
  readonly plan: Plan;
  readonly weight: number;
  readonly writes: 'put' | 'delete' | 'none';
}

/** One op of the schedule: its client, its interval and the point where it takes effect. */
interface Slot {
  readonly process: number;
  readonly call: number;
  readonly ret: number;
  readonly point: number;
  readonly entry: PlanEntry;
  readonly unknown: boolean;
  readonly happened: boolean;
}

/** The seeded draws and the put-value counter every plan shares (one stream: draw order is the history). */
class Draws {
  private serial = 0;

  constructor(
    readonly random: () => number,
    private readonly keys: number,
  ) {}

  below(n: number): number {
    return Math.floor(this.random() * n);
  }

  key(): string {
    return `k${this.below(this.keys).toString().padStart(3, '0')}`;
  }

  /** A unique put value. */
  value(): string {
    return `v${this.serial++}`;
  }

  put(k: string): RequestOp {
    return { type: 'put', key: k, value: this.value(), prevKv: true };
  }
}

export function generateEtcdHistory(options: GenerateOptions): Operation<EtcdRequest, EtcdResponse>[] {
  const draws = new Draws(seeded(options.seed), options.keys);
  const plans = basePlans(draws);
  if (options.wholeRanges === true) plans.push({ weight: 5, writes: 'none', plan: () => ({ type: 'range', key: 'k', rangeEnd: 'l' }) });
  if (options.leases === true) plans.push(...leasePlans(draws, options.unknownRevokes === true, options.staleLeases === true));
  const { slots, end } = schedule(options, draws, plans);
  slots.sort((a, b) => a.point - b.point);
  const store = new ModelStore();
  const history: Operation<EtcdRequest, EtcdResponse>[] = slots.map((slot) => runSlot(store, slot));
  // A final read of every key, after everything else.
  for (let k = 0; k < options.keys; k++) {
    const request: EtcdRequest = { type: 'range', key: `k${k.toString().padStart(3, '0')}` };
    history.push({ id: 0, process: -1 - k, call: end + k, ret: end + k, input: request, output: store.apply(request), outcome: 'ok', line: 0 });
  }
  history.sort((a, b) => a.call - b.call);
  return history.map((op, i) => ({ ...op, id: i, line: i + 1 }));
}

function basePlans(d: Draws): PlanEntry[] {
  return [
    { weight: 40, writes: 'none', plan: () => ({ type: 'range', key: d.key() }) },
    { weight: 5, writes: 'none', plan: () => ({ type: 'range', key: 'k', rangeEnd: 'l', limit: 1 + d.below(5) }) },
    {
      weight: 5,
      writes: 'none',
      // Now and then ahead of the store (future revision) or behind its compaction.
      plan: (s) => ({ type: 'range', key: d.key(), revision: Math.max(1, s.revision + 2 - d.below(70)) }),
    },
    { weight: 30, writes: 'put', plan: () => d.put(d.key()) },
    { weight: 5, writes: 'delete', plan: () => ({ type: 'delete', key: d.key(), prevKv: true }) },
    {
      weight: 14,
      writes: 'put',
      plan: () => {
        const k = d.key();
        return { type: 'txn', compare: [{ key: k, target: 'version', result: '>', value: d.below(3) }], success: [d.put(k)], failure: [{ type: 'range', key: k }] };
      },
    },
    {
      weight: 1,
      writes: 'none',
      // Sometimes at or below the last compaction, or ahead of the store: an error.
      plan: (s) => ({ type: 'compact', revision: Math.max(0, s.revision + 2 - 40 - d.below(20)) }),
    },
  ];
}

/**
 * Leases: grants and puts never get an unknown outcome here (so the live set
 * stays exact); revokes may, with `unknownRevokes` (a revoke that may not have
 * happened only leaves a lease nobody uses again).
 */
function leasePlans(d: Draws, unknownRevokes: boolean, staleLeases: boolean): PlanEntry[] {
  const live: number[] = [];
  const revoked: number[] = [];
  let nextLease = 1;
  // With stale leases, lease ops are drawn more often, so that revokes come early enough to be reused.
  const w = staleLeases ? 4 : 1;
  return [
    { weight: w, writes: 'none', plan: () => ({ type: 'leaseGrant', id: (live.push(nextLease), nextLease++) }) },
    {
      weight: 3 * w,
      writes: 'none',
      plan: () => {
        const stale = staleLeases && revoked.length > 0 && d.below(3) === 0;
        const lease = stale ? revoked[d.below(revoked.length)] : live[d.below(live.length)];
        return lease === undefined ? { type: 'range', key: d.key() } : { type: 'put', key: d.key(), value: d.value(), lease, prevKv: true };
      },
    },
    {
      weight: w,
      writes: unknownRevokes ? 'delete' : 'none',
      plan: () => {
        const lease = live.splice(d.below(live.length), 1)[0];
        if (lease !== undefined) revoked.push(lease);
        return lease === undefined ? { type: 'range', key: d.key() } : { type: 'leaseRevoke', id: lease };
      },
    },
  ];
}

function pickPlan(d: Draws, plans: readonly PlanEntry[], totalWeight: number): PlanEntry {
  let w = d.below(totalWeight);
  for (const p of plans) {
    if (w < p.weight) return p;
    w -= p.weight;
  }
  return plans[0] ?? { weight: 1, writes: 'none', plan: () => ({ type: 'range', key: d.key() }) };
}

/** Per client, back-to-back intervals with random gaps; `end` is after every return. */
function schedule(options: GenerateOptions, d: Draws, plans: readonly PlanEntry[]): { slots: Slot[]; end: number } {
  const totalWeight = plans.reduce((sum, p) => sum + p.weight, 0);
  const slots: Slot[] = [];
  const clock = new Array<number>(options.clients).fill(0);
  const processOf = Array.from({ length: options.clients }, (_, c) => c);
  for (let i = 0; i < options.ops; i++) {
    const c = d.below(options.clients);
    const call = (clock[c] ?? 0) + 1 + d.below(5);
    const ret = call + 1 + d.below(30);
    const entry = pickPlan(d, plans, totalWeight);
    const unknown = d.random() < options.unknownRate && entry.writes !== 'none' && (entry.writes === 'put' || options.unknownDeletes === true);
    slots.push({ process: processOf[c] ?? c, call, ret, point: call + d.random() * (ret - call), entry, unknown, happened: !unknown || d.random() < 0.5 });
    clock[c] = ret;
    if (unknown) processOf[c] = (processOf[c] ?? c) + options.clients; // retired: a fresh process takes over
  }
  return { slots, end: Math.max(0, ...clock) + 10 };
}

/** Plans the slot's request against the store as it is at the slot's point, and applies it if it happened. */
function runSlot(store: ModelStore, slot: Slot): Operation<EtcdRequest, EtcdResponse> {
  const request = slot.entry.plan(store);
  const response = slot.happened ? store.apply(request) : undefined;
  return slot.unknown
    ? { id: 0, process: slot.process, call: slot.call, ret: Infinity, input: request, output: undefined, outcome: 'unknown', line: 0 }
    : { id: 0, process: slot.process, call: slot.call, ret: slot.ret, input: request, output: response, outcome: 'ok', line: 0 };
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
