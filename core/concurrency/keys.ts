// The keys of etcd's lock and election recipes (clientv3/concurrency), which etcd's
// Lock and Election services run inside the server: every contender of `<name>` owns
// the key `<name>/<its lease id in hex>`, and the contender whose key was created first
// (smallest create revision) holds the lock or leads the election. Pure: requests to
// send and readings of their answers; the host sends them and waits.

import { invariant } from '../util/invariant.js';
import { assertLeaseId, type LeaseId } from '../lease/leaseId.js';
import type { KeyValue, RangeRequest, RangeResponse } from '../mvcc/types.js';

const encoder = new TextEncoder();

/** The contenders' common prefix: `<name>/` (an empty name gives `/`, as in etcd). */
export function recipePrefix(name: Uint8Array): Uint8Array {
  const prefix = new Uint8Array(name.length + 1);
  prefix.set(name);
  prefix[name.length] = 0x2f; // '/'
  return prefix;
}

/**
 * A contender's own key: the prefix and the lease id as Go's `%x` prints an int64
 * (lower-case hex, a minus sign for a negative id).
 */
export function ownKey(prefix: Uint8Array, leaseId: LeaseId): Uint8Array {
  assertLeaseId(leaseId);
  invariant(prefix.length > 0 && prefix[prefix.length - 1] === 0x2f, 'a recipe prefix ends with "/"');
  const id = encoder.encode(leaseId.toString(16));
  const key = new Uint8Array(prefix.length + id.length);
  key.set(prefix);
  key.set(id, prefix.length);
  return key;
}

/**
 * The end of the range of every key that starts with `prefix` (clientv3's
 * GetPrefixRangeEnd): the prefix with its last byte below 0xff incremented and the
 * bytes after it dropped; "\0" (to the end of the key space) if every byte is 0xff.
 */
export function prefixRangeEnd(prefix: Uint8Array): Uint8Array {
  for (let i = prefix.length - 1; i >= 0; i--) {
    const byte = prefix[i];
    if (byte !== undefined && byte < 0xff) {
      const end = prefix.slice(0, i + 1);
      end[i] = byte + 1;
      return end;
    }
  }
  return new Uint8Array([0]);
}

/** The contender created first: the lock holder or the election's leader (clientv3's WithFirstCreate). */
export function firstCreated(prefix: Uint8Array): RangeRequest {
  return { key: prefix, rangeEnd: prefixRangeEnd(prefix), sortTarget: 'create', sortOrder: 'ascend', limit: 1 };
}

/**
 * The newest contender created before revision `rev` (WithLastCreate and
 * WithMaxCreateRev(rev - 1)): the one a contender created at `rev` waits for next.
 * Waiting for the newest older key first, then asking again, needs one watch at a time
 * and wakes each waiter once per departure before it rather than on every change.
 */
export function newestCreatedBefore(prefix: Uint8Array, rev: number): RangeRequest {
  invariant(Number.isInteger(rev) && rev >= 2, () => `a contender's create revision is at least 2, got ${rev}`);
  return {
    key: prefix, rangeEnd: prefixRangeEnd(prefix), sortTarget: 'create', sortOrder: 'descend', limit: 1, maxCreateRevision: rev - 1,
  };
}

/** The one key a limit-1 recipe range found, or null if none. */
export function onlyKey(range: RangeResponse): KeyValue | null {
  invariant(range.kvs.length <= 1, () => `a recipe range has limit 1, got ${range.kvs.length} keys`);
  return range.kvs[0] ?? null;
}
