// Hand-made etcd histories for the checker's rule tests (gap-rules, fast-rules):
// ok and unknown ops, key-values as reads show them, and the gap search's input
// built the way the fast path builds it, so one rule can be called on a few ops.
// Revisions are etcd's: the empty store is at 1, the first write makes 2.

import { isMutation } from '../../jepsen-like/etcd/fast/classify.js';
import { realTimeFit } from '../../jepsen-like/etcd/fast/real-time.js';
import { GapFacts } from '../../jepsen-like/etcd/gap/facts.js';
import type { EtcdOp, GapSearchInput, Slot } from '../../jepsen-like/etcd/gap/types.js';
import { Observations } from '../../jepsen-like/etcd/observations.js';
import { ModelStore } from '../../jepsen-like/etcd/store.js';
import type { EtcdRequest, EtcdResponse, KeyValue, RequestOp, TxnRequest } from '../../jepsen-like/etcd/types.js';

export type { EtcdOp };

export const ok = (id: number, call: number, ret: number, input: EtcdRequest, output: EtcdResponse): EtcdOp => ({
  id, process: id, call, ret, input, output, outcome: 'ok', line: id + 1,
});

export const unknown = (id: number, call: number, input: EtcdRequest): EtcdOp => ({
  id, process: id, call, ret: Infinity, input, output: undefined, outcome: 'unknown', line: id + 1,
});

export const kv = (key: string, value: string, createRevision: number, modRevision: number, version: number): KeyValue => ({
  key, value, createRevision, modRevision, version, lease: 0,
});

export const put = (key: string, value: string): RequestOp => ({ type: 'put', key, value });

export const del = (key: string): RequestOp => ({ type: 'delete', key });

export const txn = (success: readonly RequestOp[], failure: readonly RequestOp[] = [], compare: TxnRequest['compare'] = []): TxnRequest => ({
  type: 'txn', compare, success, failure,
});

/** An ok put that made `revision`, over [call, call + 1]. */
export const okPut = (id: number, call: number, key: string, value: string, revision: number): EtcdOp =>
  ok(id, call, call + 1, put(key, value), { revision });

/** An ok single-key read at `revision` over [call, call + 1]: `kvs` found, or none (absent). */
export const read = (id: number, call: number, key: string, revision: number, kvs: readonly KeyValue[]): EtcdOp =>
  ok(id, call, call + 1, { type: 'range', key }, { revision, kvs: kvs.map((x) => ({ ...x })), count: kvs.length, more: false });

/**
 * The gap search's input for a hand-made history: ok ops at 2r (they wrote r)
 * or 2r + 1 (in bucket r), the revisions up to the highest one named that no
 * ok write claims as gaps, the unknown writes by call; `over` replaces any part.
 */
export function gapInput(history: readonly EtcdOp[], over: Partial<GapSearchInput> = {}): GapSearchInput {
  const slots: Slot[] = [];
  for (const op of history) {
    const revision = op.output?.['revision'];
    if (op.outcome !== 'ok' || op.output === undefined || typeof revision !== 'number') continue;
    slots.push({ op, key: isMutation(op.input, op.output) === true ? 2 * revision : 2 * revision + 1 });
  }
  slots.sort((a, b) => a.key - b.key || a.op.call - b.op.call);
  const claimed = new Set(slots.filter((s) => (s.key & 1) === 0).map((s) => s.key / 2));
  const top = Math.max(1, ...slots.map((s) => s.key >> 1));
  const gaps: number[] = [];
  for (let r = 2; r <= top; r++) if (!claimed.has(r)) gaps.push(r);
  return {
    slots,
    gaps,
    unknownWriters: history.filter((op) => op.outcome === 'unknown' && !ModelStore.isReadOnly(op.input)).sort((a, b) => a.call - b.call),
    optionalWriters: new Map(),
    fits: realTimeFit(slots),
    certain: () => true,
    observations: new Observations(history),
    initialRevision: 1,
    expired: () => false,
    ...over,
  };
}

export const factsOf = (history: readonly EtcdOp[], over: Partial<GapSearchInput> = {}): GapFacts => new GapFacts(gapInput(history, over));

/** A fresh store after the requests, in order. */
export function storeAfter(...requests: readonly EtcdRequest[]): ModelStore {
  const store = new ModelStore();
  for (const request of requests) store.apply(request);
  return store;
}
