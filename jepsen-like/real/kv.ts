// The kv workload: puts, txns, deletes and ranges over a small key space, so that
// clients collide on keys often. Every put writes a value no other put writes, and
// writes ask for prev_kv, so that the checker's fast path can name which write a later
// read saw (docs/checker.md).

import type { EtcdResponse, Json, RequestOp } from '../etcd/types.js';
import { bytes, keyValue, num, revisionOf, type Wire } from './client.js';
import { invoke, type Invocation, type Worker } from './worker.js';

export const KV_KEYS = ['k0', 'k1', 'k2', 'k3', 'k4'];
/** Ranges over the kv keys only ([k, l)): other workloads' keys stay out of them. */
const ALL_FROM = 'k';
const ALL_TO = 'l';

const kvs = (wire: Wire): Json[] => ((wire['kvs'] ?? []) as unknown[]).map((x) => ({ ...keyValue(x) }));

function rangeOp(worker: Worker, key: string, rangeEnd?: string, timeoutMs?: number): Invocation {
  const request: RequestOp = rangeEnd === undefined ? { type: 'range', key } : { type: 'range', key, rangeEnd };
  return {
    request,
    send: () => worker.client.call('kv', 'Range', wireOf(request), timeoutMs),
    response: (w) => ({ revision: revisionOf(w), kvs: kvs(w), count: num(w['count']) }),
  };
}

function wireOf(op: RequestOp): Wire {
  switch (op.type) {
    case 'range':
      return { key: bytes(op.key), ...(op.rangeEnd === undefined ? {} : { range_end: bytes(op.rangeEnd) }) };
    case 'put':
      return { key: bytes(op.key), value: bytes(op.value), prev_kv: op.prevKv === true, lease: String(op.lease ?? 0) };
    case 'delete':
      return { key: bytes(op.key), prev_kv: op.prevKv === true, ...(op.rangeEnd === undefined ? {} : { range_end: bytes(op.rangeEnd) }) };
  }
}

function putResponse(w: Wire): EtcdResponse {
  const prev = w['prev_kv'];
  return { revision: revisionOf(w), prevKv: prev === null || prev === undefined ? null : { ...keyValue(prev) } };
}

function deleteResponse(w: Wire): EtcdResponse {
  return { revision: revisionOf(w), deleted: num(w['deleted']), prevKvs: ((w['prev_kvs'] ?? []) as unknown[]).map((x) => ({ ...keyValue(x) })) };
}

/** A txn: if the key's mod revision is still the one this worker last saw, put; else read it. */
function casTxn(worker: Worker, key: string, value: string, modRevision: number): Invocation {
  const put: RequestOp = { type: 'put', key, value };
  const read: RequestOp = { type: 'range', key };
  return {
    request: { type: 'txn', compare: [{ key, target: 'mod', result: '=', value: modRevision }], success: [put], failure: [read] },
    send: () => worker.client.call('kv', 'Txn', {
      compare: [{ key: bytes(key), target: 'MOD', result: 'EQUAL', mod_revision: String(modRevision) }],
      success: [{ request_put: wireOf(put) }],
      failure: [{ request_range: wireOf(read) }],
    }),
    response: (w) => {
      const succeeded = w['succeeded'] === true;
      // Sub-responses: what they hold (a txn's inner headers are not checked).
      const responses = ((w['responses'] ?? []) as Wire[]).map((r): Json => (succeeded ? {} : { kvs: kvs((r['response_range'] ?? {}) as Wire) }));
      return { revision: revisionOf(w), succeeded, responses };
    },
  };
}

/** Mod revisions this worker has seen per key (its txns compare against them). */
export type SeenMods = Map<string, number>;

function noteMods(seen: SeenMods, wire: Wire | null): void {
  if (wire === null) return;
  for (const x of (wire['kvs'] ?? []) as unknown[]) {
    const kv = keyValue(x);
    seen.set(kv.key, kv.modRevision);
  }
}

/** One kv op chosen by the worker's random stream; `n` makes values unique per worker. */
export async function kvStep(worker: Worker, n: number, seen: SeenMods): Promise<void> {
  const { rng, client } = worker;
  const key = rng.pick(KV_KEYS);
  const value = `${worker.name}-${n}`;
  const roll = rng.intBelow(100);
  if (roll < 35) {
    const op: RequestOp = { type: 'put', key, value, prevKv: true };
    await invoke(worker, { request: op, send: () => client.call('kv', 'Put', wireOf(op)), response: putResponse });
  } else if (roll < 55) {
    noteMods(seen, await invoke(worker, rangeOp(worker, key)));
  } else if (roll < 65) {
    noteMods(seen, await invoke(worker, rangeOp(worker, ALL_FROM, ALL_TO)));
  } else if (roll < 75) {
    const op: RequestOp = { type: 'delete', key, prevKv: true };
    await invoke(worker, { request: op, send: () => client.call('kv', 'DeleteRange', wireOf(op)), response: deleteResponse });
  } else {
    const wire = await invoke(worker, casTxn(worker, key, value, seen.get(key) ?? 0));
    if (wire !== null && wire['succeeded'] === true) seen.set(key, revisionOf(wire));
    if (wire !== null && wire['succeeded'] !== true) noteMods(seen, ((wire['responses'] as Wire[] | undefined)?.[0]?.['response_range'] ?? null) as Wire | null);
  }
}

/** The closing read of every kv key (so the fast path sees the final state). */
export async function kvFinalRead(worker: Worker): Promise<void> {
  await invoke(worker, rangeOp(worker, ALL_FROM, ALL_TO, 5000));
}
