// The kubernetes workload: the traffic Kubernetes' apiserver sends etcd (etcd's robustness
// suite models it the same way; etcd-api.md §4), on objects under /registry/pods/:
//
//   create  Txn: if mod_revision(key) = 0 then put else get
//   update  Txn: if mod_revision(key) = the one last seen then put else get (GuaranteedUpdate)
//   delete  Txn: if mod_revision(key) = the one last seen then delete else get
//   list    Range over the prefix, 3 per page; the next pages at the first page's revision
//   count   Range over the prefix, count only
//   compact Txn on compact_rev_key's version (the apiserver's compactor election), then
//           Compact at the revision the key held before: one compaction per round of it
//
// and per member a watcher on the prefix from the revision after the last it saw, with
// progress requests (the watch workload's watcher, on this prefix). Every op goes into the
// history through the same worker as the kv workload, so the checker judges it all.

import type { EtcdResponse, Json, RequestOp } from '../etcd/types.js';
import { bytes, keyValue, num, revisionOf, type Wire } from './client.js';
import { invoke, type Invocation, type Worker } from './worker.js';

export const PODS_PREFIX = '/registry/pods/';
export const PODS_END = '/registry/pods0';
const PODS = Array.from({ length: 8 }, (_, i) => `${PODS_PREFIX}default/pod-${i}`);
const COMPACT_KEY = 'compact_rev_key';
const PAGE = 3;
/** A list stops after this many pages (there are 8 pods: 3 pages). */
const MAX_PAGES = 10;

/** What one apiserver-like client remembers: each object's mod revision, the compactor key's version and value. */
export interface KubeState {
  readonly seen: Map<string, number>;
  compactVersion: number;
  compactValue: number;
}

export function newKubeState(): KubeState {
  return { seen: new Map(), compactVersion: 0, compactValue: 0 };
}

const kvsOf = (wire: Wire): Json[] => ((wire['kvs'] ?? []) as unknown[]).map((x) => ({ ...keyValue(x) }));

function wireOp(op: RequestOp): Wire {
  switch (op.type) {
    case 'range':
      return { request_range: { key: bytes(op.key), ...(op.rangeEnd === undefined ? {} : { range_end: bytes(op.rangeEnd) }) } };
    case 'put':
      return { request_put: { key: bytes(op.key), value: bytes(op.value) } };
    case 'delete':
      return { request_delete_range: { key: bytes(op.key) } };
  }
}

/** A Txn with one compare on `key`, then `success`, else a read of the key. */
function guarded(w: Worker, key: string, target: 'mod' | 'version', value: number, success: RequestOp): Invocation {
  const read: RequestOp = { type: 'range', key };
  const wireTarget = target === 'mod' ? { target: 'MOD', mod_revision: String(value) } : { target: 'VERSION', version: String(value) };
  return {
    request: { type: 'txn', compare: [{ key, target, result: '=', value }], success: [success], failure: [read] },
    send: () => w.client.call('kv', 'Txn', {
      compare: [{ key: bytes(key), result: 'EQUAL', ...wireTarget }], success: [wireOp(success)], failure: [wireOp(read)],
    }),
    response: (r): EtcdResponse => {
      const succeeded = r['succeeded'] === true;
      // A delete's sub-response says whether it wrote (the checker needs to know); a put always writes.
      const responses = ((r['responses'] ?? []) as Wire[]).map((x): Json => {
        if (!succeeded) return { kvs: kvsOf((x['response_range'] ?? {}) as Wire) };
        const deleted = x['response_delete_range'] as Wire | undefined;
        return deleted === undefined ? {} : { deleted: num(deleted['deleted']) };
      });
      return { revision: revisionOf(r), succeeded, responses };
    },
  };
}

/** The read side of a failed guard: what the key holds now. */
function failedRead(wire: Wire): { modRevision: number; version: number; value: string } | null {
  const range = ((wire['responses'] as Wire[] | undefined)?.[0]?.['response_range'] ?? null) as Wire | null;
  const kv = range === null ? undefined : ((range['kvs'] ?? []) as unknown[])[0];
  if (kv === undefined) return range === null ? null : { modRevision: 0, version: 0, value: '' };
  const k = keyValue(kv);
  return { modRevision: k.modRevision, version: k.version, value: k.value };
}

async function write(w: Worker, state: KubeState, key: string, expected: number, op: RequestOp): Promise<void> {
  const wire = await invoke(w, guarded(w, key, 'mod', expected, op));
  if (wire === null) return;
  if (wire['succeeded'] === true) {
    if (op.type === 'delete') state.seen.set(key, 0);
    else state.seen.set(key, revisionOf(wire));
    return;
  }
  const now = failedRead(wire);
  if (now !== null) state.seen.set(key, now.modRevision);
}

function rangeInvocation(w: Worker, request: RequestOp & { type: 'range' }): Invocation {
  return {
    request,
    send: () => w.client.call('kv', 'Range', {
      key: bytes(request.key), ...(request.rangeEnd === undefined ? {} : { range_end: bytes(request.rangeEnd) }),
      ...(request.limit === undefined ? {} : { limit: String(request.limit) }),
      ...(request.revision === undefined ? {} : { revision: String(request.revision) }),
      ...(request.countOnly === true ? { count_only: true } : {}),
    }),
    response: (r) => (request.countOnly === true
      ? { revision: revisionOf(r), count: num(r['count']) }
      : { revision: revisionOf(r), kvs: kvsOf(r), count: num(r['count']), more: r['more'] === true }),
  };
}

/** A paginated list: 3 per page, every page after the first at the first page's revision. */
async function list(w: Worker, state: KubeState): Promise<void> {
  let from = PODS_PREFIX;
  let atRevision: number | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const request = { type: 'range', key: from, rangeEnd: PODS_END, limit: PAGE, ...(atRevision === undefined ? {} : { revision: atRevision }) } as const;
    const wire = await invoke(w, rangeInvocation(w, request));
    if (wire === null) return;
    const kvs = ((wire['kvs'] ?? []) as unknown[]).map((x) => keyValue(x));
    if (atRevision === undefined) for (const kv of kvs) state.seen.set(kv.key, kv.modRevision);
    atRevision ??= revisionOf(wire);
    const last = kvs.at(-1);
    if (wire['more'] !== true || last === undefined) return;
    from = `${last.key}\u0000`;
  }
}

/**
 * The apiserver's compactor: whoever moves compact_rev_key's version on compacts at the
 * revision the key held before (the previous round's), so compactions trail writes.
 */
async function compactRound(w: Worker, state: KubeState): Promise<void> {
  const wire = await invoke(w, guarded(w, COMPACT_KEY, 'version', state.compactVersion, { type: 'put', key: COMPACT_KEY, value: '' }));
  if (wire === null) return;
  if (wire['succeeded'] !== true) {
    const now = failedRead(wire);
    if (now !== null) state.compactVersion = now.version;
    return;
  }
  // The value written is empty (the history's values need no meaning); the revision is the round's mark.
  const previous = state.compactValue;
  state.compactVersion++;
  state.compactValue = revisionOf(wire);
  if (previous <= 1) return;
  await invoke(w, {
    request: { type: 'compact', revision: previous },
    send: () => w.client.call('kv', 'Compact', { revision: String(previous) }),
    response: (r) => ({ revision: revisionOf(r) }),
  });
}

/** One apiserver-like op chosen by the worker's random stream; `n` makes values unique per worker. */
export async function kubeStep(w: Worker, n: number, state: KubeState): Promise<void> {
  const key = w.rng.pick(PODS);
  const value = `${w.name}-${n}`;
  const roll = w.rng.intBelow(100);
  if (roll < 30) await write(w, state, key, 0, { type: 'put', key, value });
  else if (roll < 60) await write(w, state, key, state.seen.get(key) ?? 0, { type: 'put', key, value });
  else if (roll < 65) await write(w, state, key, state.seen.get(key) ?? 0, { type: 'delete', key });
  else if (roll < 87) await list(w, state);
  else if (roll < 97) await invoke(w, rangeInvocation(w, { type: 'range', key: PODS_PREFIX, rangeEnd: PODS_END, countOnly: true }));
  else await compactRound(w, state);
}
