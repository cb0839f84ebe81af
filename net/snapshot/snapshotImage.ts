// The image Maintenance.Snapshot streams: a bbolt file laid out as etcd 3.4's backend
// (buckets `key`: revision → mvccpb.KeyValue, `meta`: consistent_index and compaction
// marks, `lease`: id → leasepb.Lease, `cluster`: clusterVersion, `auth`, `authUsers`,
// `authRoles`: the auth state (authBuckets.ts), `members`: the cluster's members
// (memberBuckets.ts), `alarm`: the raised alarms (alarmBucket.ts); `members_removed` empty),
// followed by the SHA-256 of the file — the framing `etcdctl snapshot save` checks
// (size % 512 == 32). So `etcdctl snapshot status` reads it as it reads etcd's.

import { createHash } from 'node:crypto';
import { rev } from '../../core/mvcc/revision.js';
import type { EtcdStateMachine } from '../../core/server/stateMachine.js';
import type { MemberRecord } from '../../core/membership/members.js';
import { alarmBucket } from './alarmBucket.js';
import { authBuckets } from './authBuckets.js';
import { bboltSize, writeBbolt, type KeyValues } from './bbolt.js';
import { Crc32c } from './crc32c.js';
import { membersBucket } from './memberBuckets.js';
import { int64Field, leaseKeyBytes, marshalKeyValue, revBytes, u64Bytes } from './records.js';

/** The image's data part and its SHA-256 trailer. */
export interface SnapshotImage {
  readonly data: Buffer;
  readonly sha256: Buffer;
}

/** The cluster version etcd 3.4 records (and reports as `etcdcluster`). */
const CLUSTER_VERSION = '3.4.0';

/** `members`: the cluster as this member knows it, for the `members` bucket. */
export function snapshotImage(machine: EtcdStateMachine, members: readonly MemberRecord[] = []): SnapshotImage {
  const data = writeBbolt(backendBuckets(machine, members));
  return { data, sha256: createHash('sha256').update(data).digest() };
}

/** The size of the image's data part: what etcd reports as its db size (the bbolt file). */
export function snapshotSize(machine: EtcdStateMachine, members: readonly MemberRecord[] = []): number {
  return bboltSize(backendBuckets(machine, members));
}

/**
 * etcd's backend.Hash over the same buckets: crc32c of each bucket's name, then its keys
 * and values in order, buckets in name order, leaving out meta/consistent_index (which
 * differs between members that hold the same data). Like etcd 3.4's (mvcc/backend's
 * Hash with DefaultIgnores), it covers every other bucket, the auth buckets included.
 */
export function backendHash(machine: EtcdStateMachine, members: readonly MemberRecord[] = []): number {
  const crc = new Crc32c();
  const buckets = backendBuckets(machine, members);
  for (const name of [...buckets.keys()].sort()) {
    crc.update(Buffer.from(name));
    const entries = [...(buckets.get(name) ?? [])].sort((a, b) => Buffer.compare(a[0], b[0]));
    for (const [k, v] of entries) {
      if (name === 'meta' && Buffer.from(k).toString() === 'consistent_index') continue;
      crc.update(k).update(v);
    }
  }
  return crc.value();
}

/** The member's state as etcd's backend buckets. */
function backendBuckets(machine: EtcdStateMachine, members: readonly MemberRecord[]): Map<string, KeyValues> {
  const keys: [Uint8Array, Uint8Array][] = [];
  machine.store.backend.scan(0, Number.MAX_SAFE_INTEGER, (r, kv) => {
    keys.push([revBytes(r, kv.tombstone), marshalKeyValue(kv)]);
    return true;
  });
  const meta: [Uint8Array, Uint8Array][] = [[Buffer.from('consistent_index'), u64Bytes(machine.store.appliedIndex())]];
  const compacted = machine.store.compactRevision();
  if (compacted > 0) {
    meta.push([Buffer.from('finishedCompactRev'), revBytes(rev(compacted, 0), false)]);
    meta.push([Buffer.from('scheduledCompactRev'), revBytes(rev(compacted, 0), false)]);
  }
  // leasepb.Lease: ID = 1, TTL = 2, RemainingTTL = 3 (int64s; zero fields omitted). etcd 3.4
  // fills RemainingTTL only from checkpoints, which are off by default: 0, so omitted, and
  // an etcd restored from this file starts each lease from its full TTL, as from its own.
  const leases: [Uint8Array, Uint8Array][] = machine.lessor.exportLeases().map((l) => {
    const value: number[] = [];
    int64Field(value, 1, l.id);
    int64Field(value, 2, BigInt(l.ttlSeconds));
    return [leaseKeyBytes(l.id), Uint8Array.from(value)];
  });
  const empty: KeyValues = [];
  return new Map<string, KeyValues>([
    ['key', keys], ['meta', meta], ['lease', leases],
    ['cluster', [[Buffer.from('clusterVersion'), Buffer.from(CLUSTER_VERSION)]]],
    ['members', membersBucket(members)], ['members_removed', empty], ['alarm', alarmBucket(machine.alarms.get('NONE'))],
    ...authBuckets(machine.auth.state()),
  ]);
}
