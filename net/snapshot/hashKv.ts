// The hash of the MVCC state up to a revision, computed as etcd 3.4 computes it
// (mvcc/kvstore.go HashByRev), so that Tern's hashes equal etcd's for the same history
// and are equal on every member that applied the same entries:
//
//   crc32c("key" ‖ for each stored revision r ≤ rev, ascending: revBytes(r) ‖ KeyValue(r))
//
// revBytes is etcd's bbolt key (8-byte big-endian main, '_', 8-byte big-endian sub, plus
// 't' for a tombstone) and KeyValue is the record as etcd marshals it (protobuf, zero
// fields omitted; a tombstone holds only its key). Revisions at or below the compact
// revision count only if they are still some live key's latest version at `rev`
// (etcd's kvindex.Keep), unless no key is live at all.

import { etcdError, type EtcdError } from '../../core/errors.js';
import type { MvccBackend } from '../../core/mvcc/backend.js';
import { rev as revision, type Rev } from '../../core/mvcc/revision.js';
import { Crc32c } from './crc32c.js';
import { marshalKeyValue, revBytes } from './records.js';

export interface HashKvResult {
  readonly hash: number;
  /** The store's revision when hashed (the response header's revision). */
  readonly currentRevision: number;
  /** -1 if never compacted (as etcd reports). */
  readonly compactRevision: number;
}

export interface HashableStore {
  readonly backend: MvccBackend;
  currentRevision(): number;
  compactRevision(): number;
}

export function hashKv(store: HashableStore, atRevision: number): HashKvResult | EtcdError {
  const current = store.currentRevision();
  const compacted = store.compactRevision();
  if (atRevision > 0 && atRevision <= compacted) return etcdError('compacted');
  if (atRevision > current) return etcdError('futureRev');
  // Only 0 means "now"; etcd hashes nothing for a negative revision (an empty range).
  const at = atRevision === 0 ? current : atRevision;
  const upper = revision(Math.max(0, at + 1), 0);

  // kvindex.Keep(at): each key's latest revision ≤ at, if that is not a tombstone.
  const latest = new Map<string, { r: Rev; tombstone: boolean }>();
  store.backend.scan(0, upper, (r, kv) => {
    latest.set(kv.key, { r, tombstone: kv.tombstone });
    return true;
  });
  const keep = new Set<Rev>();
  for (const { r, tombstone } of latest.values()) if (!tombstone) keep.add(r);

  const lower = revision(Math.max(0, compacted + 1), 0);
  const crc = new Crc32c().update(Buffer.from('key'));
  store.backend.scan(0, upper, (r, kv) => {
    if (r < lower && keep.size > 0 && !keep.has(r)) return true;
    crc.update(revBytes(r, kv.tombstone));
    crc.update(marshalKeyValue(kv));
    return true;
  });
  return { hash: crc.value(), currentRevision: current, compactRevision: compacted };
}
