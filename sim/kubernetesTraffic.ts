// Kubernetes' traffic (`--profile kubernetes`): the requests kube-apiserver makes of
// etcd, in the mix of etcd's own robustness traffic "Kubernetes"
// (../shared/research/etcd-api.md §2.2, §4). Every write is a Txn on mod_revision
// (OptimisticPut: an update when the key's mod revision is the one last seen, a create
// when it is 0; OptimisticDelete), each with a Range of the key on failure; lists are
// paginated (a limit, then the next page from the last key + "\0" at the first page's
// revision); Count is a count_only range; compaction is a Txn on compact_rev_key
// (its version as last seen) followed, when it succeeds, by Compact. The watch clients
// watch the prefix from a past revision with prev_kv and progress notifications
// (watchWorkload.ts).
//
// Pure draws: which request a client makes next. kvWorkload.ts builds, sends and
// records it, and tells the client what continues (a list's next page, a compaction).

import type { SimRandom } from './prng.js';

/** The key kube-apiserver keeps the last compaction's revision in. */
export const COMPACT_REV_KEY = 'compact_rev_key';

/** One page of a paginated List over the clients' prefix. */
export interface ListPage {
  /** The first key of the page (the prefix's start, or the last key seen + "\0"). */
  readonly key: string;
  /** 0: the first page, at the latest revision; then the first page's revision. */
  readonly revision: number;
  readonly limit: number;
}

export type KubernetesRequest =
  | { readonly kind: 'get'; readonly serializable: boolean }
  | { readonly kind: 'getAtRevision' }
  | { readonly kind: 'list'; readonly page: ListPage }
  | { readonly kind: 'count' }
  | { readonly kind: 'optimisticPut' }
  | { readonly kind: 'optimisticDelete' }
  | { readonly kind: 'compactTxn' }
  | { readonly kind: 'compact'; readonly revision: number };

/** What a client carries from one request to its next: a list to go on with, or a compaction to finish. */
export interface KubernetesClient {
  continuation: KubernetesRequest | null;
}

/** The page size kube-apiserver's pagination uses here: small, so that lists take several pages of the few keys. */
const LIST_LIMIT_MAX = 3;

/**
 * The weights, out of 100: reads 50 (robustness' Get 5, GetStale 2, GetRev 8, ListAndWatch 80
 * and ListStale 5, scaled; the stale list is a linearizable one here), writes 46 (Update 90,
 * Create 5, Delete 5: an OptimisticPut is an update or a create by the key's last seen mod
 * revision), Count 2, compaction 2.
 */
export function drawKubernetesRequest(random: SimRandom, client: KubernetesClient): KubernetesRequest {
  const next = client.continuation;
  if (next !== null) {
    client.continuation = null;
    return next;
  }
  const roll = random.intBelow(100);
  if (roll < 3) return { kind: 'get', serializable: false };
  if (roll < 4) return { kind: 'get', serializable: true };
  if (roll < 8) return { kind: 'getAtRevision' };
  if (roll < 50) return { kind: 'list', page: { key: PREFIX_START, revision: 0, limit: 1 + random.intBelow(LIST_LIMIT_MAX) } };
  if (roll < 93) return { kind: 'optimisticPut' };
  if (roll < 96) return { kind: 'optimisticDelete' };
  if (roll < 98) return { kind: 'count' };
  return { kind: 'compactTxn' };
}

/** The clients' keys are k0..kN: the prefix is [k, l). */
export const PREFIX_START = 'k';
export const PREFIX_END = 'l';

/** After a list page: the next page, or null when this was the last. */
export function nextPage(page: ListPage, answer: { readonly revision: number; readonly more: boolean; readonly lastKey: string | null }): ListPage | null {
  if (!answer.more || answer.lastKey === null) return null;
  return { key: `${answer.lastKey}\u0000`, revision: page.revision === 0 ? answer.revision : page.revision, limit: page.limit };
}
