// What etcd 3.4's backend (member/snap/db, a bbolt file) holds, as Tern's state: the
// buckets net/snapshot/snapshotImage.ts writes, read back (the inverse of that module).
//
//   key      revBytes (8-byte main, '_', 8-byte sub, 't' for a tombstone) → mvccpb.KeyValue
//   meta     consistent_index (uint64 BE), scheduledCompactRev / finishedCompactRev (revBytes)
//   lease    int64 BE id → leasepb.Lease {ID 1, TTL 2, RemainingTTL 3}
//   auth, authUsers, authRoles   (authBuckets.ts readAuthBuckets)
//   members  hex id → membership.Member as JSON; members_removed  hex id → "removed"
//   cluster  clusterVersion → "3.4.0"
//   alarm    etcdserverpb.AlarmMember → ""
//
// A file from another etcd is refused rather than half understood: a bucket or a meta key
// etcd 3.4 does not write (3.5 adds meta's term and confState, 3.6 storageVersion), or a
// cluster version above 3.4, is a BackendImageError naming it.

import type { LeaseImage } from '../../core/lease/lessor.js';
import type { AuthState } from '../../core/auth/authStore.js';
import type { BackendMeta, StoredKv } from '../../core/mvcc/backend.js';
import { toKey, type Key } from '../../core/mvcc/keys.js';
import { rev, SUB_LIMIT, type Rev } from '../../core/mvcc/revision.js';
import { ALARM_TYPES, type AlarmMember } from '../../core/server/alarms.js';
import type { MemberRecord } from '../../core/membership/members.js';
import { readAuthBuckets } from '../snapshot/authBuckets.js';
import type { KeyValues } from '../snapshot/bboltFormat.js';
import { bytesOf, safeUint, uint, wireFields } from './wireFields.js';

export class BackendImageError extends Error {}

export interface EtcdBackend {
  /** Every stored revision, ascending. */
  readonly records: readonly (readonly [Rev, StoredKv])[];
  /** consistent_index as appliedIndex; the scheduled compaction as compactRevision (etcd finishes it on start). */
  readonly meta: BackendMeta;
  readonly leases: readonly LeaseImage[];
  readonly auth: AuthState;
  readonly alarms: readonly AlarmMember[];
  /** The members bucket, less members_removed, by id. */
  readonly members: readonly MemberRecord[];
  /** members_removed: ids of members removed from the cluster. */
  readonly removedIds: readonly bigint[];
  readonly clusterVersion: string | null;
}

const KNOWN_BUCKETS = new Set(['key', 'meta', 'lease', 'auth', 'authUsers', 'authRoles', 'members', 'members_removed', 'cluster', 'alarm']);
const KNOWN_META = new Set(['consistent_index', 'scheduledCompactRev', 'finishedCompactRev']);

export function readEtcdBackend(buckets: ReadonlyMap<string, KeyValues>): EtcdBackend {
  for (const name of buckets.keys()) {
    if (!KNOWN_BUCKETS.has(name)) throw new BackendImageError(`bucket "${name}" is not one etcd 3.4 writes: a backend from another etcd version`);
  }
  if (!buckets.has('key') || !buckets.has('meta')) throw new BackendImageError('no "key" or "meta" bucket: not an etcd backend');
  const clusterVersion = clusterVersionOf(buckets.get('cluster') ?? []);
  const records = (buckets.get('key') ?? []).map(([k, v]) => keyRecord(k, v));
  const meta = metaOf(buckets.get('meta') ?? []);
  return {
    records, meta, leases: leasesOf(buckets.get('lease') ?? [], records), auth: authOf(buckets),
    alarms: (buckets.get('alarm') ?? []).map(([k]) => alarmOf(k)),
    members: membersOf(buckets.get('members') ?? [], buckets.get('members_removed') ?? []),
    removedIds: (buckets.get('members_removed') ?? []).map(([k]) => hexId(k)),
    clusterVersion,
  };
}

function clusterVersionOf(bucket: KeyValues): string | null {
  const value = bucket.find(([k]) => text(k) === 'clusterVersion')?.[1];
  if (value === undefined) return null;
  const version = text(value);
  const match = /^(\d+)\.(\d+)\.\d+/.exec(version);
  if (match === null) throw new BackendImageError(`cluster version "${version}" does not parse`);
  const [major, minor] = [Number(match[1]), Number(match[2])];
  if (major > 3 || (major === 3 && minor > 4)) {
    throw new BackendImageError(`the cluster version is ${version}: a data dir of etcd ${major}.${minor}, newer than the 3.4 Tern reads`);
  }
  return version;
}

/** The meta bucket's consistent_index and compaction. */
export function metaOf(bucket: KeyValues): BackendMeta {
  let appliedIndex = 0;
  let scheduled = 0;
  let finished = 0;
  for (const [k, v] of bucket) {
    const key = text(k);
    if (!KNOWN_META.has(key)) throw new BackendImageError(`meta key "${key}" is not one etcd 3.4 writes: a backend from a newer etcd (3.5 adds term and confState)`);
    if (key === 'consistent_index') {
      if (v.length !== 8) throw new BackendImageError(`consistent_index has ${v.length} bytes, not 8`);
      appliedIndex = safe(Buffer.from(v).readBigUInt64BE(0), 'consistent_index');
    } else {
      const main = revisionMain(v, key);
      if (key === 'scheduledCompactRev') scheduled = main;
      else finished = main;
    }
  }
  return { appliedIndex, compactRevision: Math.max(scheduled, finished) };
}

/** One record of the key bucket: etcd's revision key and its mvccpb.KeyValue. */
export function keyRecord(k: Uint8Array, v: Uint8Array): readonly [Rev, StoredKv] {
  const key = Buffer.from(k);
  if ((key.length !== 17 && key.length !== 18) || key[8] !== 0x5f || (key.length === 18 && key[17] !== 0x74)) {
    throw new BackendImageError(`key bucket key ${key.toString('hex')} is not a revision`);
  }
  const main = safe(key.readBigUInt64BE(0), 'a revision');
  const subRev = key.readBigUInt64BE(9);
  if (subRev >= BigInt(SUB_LIMIT)) throw new BackendImageError(`revision ${main} has sub-revision ${subRev.toString()}, more than Tern keeps per transaction`);
  const tombstone = key.length === 18;
  const fields = wireFields(v);
  const name = bytesOf(fields, 1, 'KeyValue.key');
  if (name === null || name.length === 0) throw new BackendImageError(`revision ${main} holds a record without a key`);
  const kv: StoredKv = tombstone
    ? { key: toKey(name), value: new Uint8Array(0), createRevision: 0, modRevision: main, version: 0, lease: 0n, tombstone }
    : {
        key: toKey(name), value: Uint8Array.from(bytesOf(fields, 5, 'KeyValue.value') ?? []),
        createRevision: safeUint(fields, 2, 'KeyValue.create_revision'), modRevision: safeUint(fields, 3, 'KeyValue.mod_revision'),
        version: safeUint(fields, 4, 'KeyValue.version'), lease: BigInt.asIntN(64, uint(fields, 6, 'KeyValue.lease')), tombstone,
      };
  return [rev(main, Number(subRev)), kv];
}

/** Leases with the keys attached to them: each key's latest record, if live and leased. */
function leasesOf(bucket: KeyValues, records: readonly (readonly [Rev, StoredKv])[]): LeaseImage[] {
  const latest = new Map<Key, StoredKv>();
  for (const [, kv] of records) latest.set(kv.key, kv);
  const keysOf = new Map<bigint, Key[]>();
  for (const kv of latest.values()) {
    if (kv.tombstone || kv.lease === 0n) continue;
    const keys = keysOf.get(kv.lease);
    if (keys === undefined) keysOf.set(kv.lease, [kv.key]);
    else keys.push(kv.key);
  }
  return bucket.map(([, v]) => {
    const fields = wireFields(v);
    const id = BigInt.asIntN(64, uint(fields, 1, 'Lease.ID'));
    const remaining = safeUint(fields, 3, 'Lease.RemainingTTL');
    return { id, ttlSeconds: safeUint(fields, 2, 'Lease.TTL'), remainingMsAtCheckpoint: remaining > 0 ? remaining * 1000 : null, keys: keysOf.get(id) ?? [] };
  });
}

function authOf(buckets: ReadonlyMap<string, KeyValues>): AuthState {
  try {
    return readAuthBuckets(buckets);
  } catch (error) {
    throw new BackendImageError(`the auth buckets: ${error instanceof Error ? error.message : String(error)}`);
  }
}

function alarmOf(k: Uint8Array): AlarmMember {
  const fields = wireFields(k);
  const alarm = ALARM_TYPES[safeUint(fields, 2, 'AlarmMember.Alarm')];
  if (alarm === undefined) throw new BackendImageError('an alarm of a type etcd 3.4 does not have');
  return { memberId: uint(fields, 1, 'AlarmMember.MemberID').toString(), alarm };
}

interface MemberJson {
  readonly peerURLs?: unknown;
  readonly name?: unknown;
  readonly clientURLs?: unknown;
  readonly isLearner?: unknown;
}

function membersOf(bucket: KeyValues, removedBucket: KeyValues): MemberRecord[] {
  const removed = new Set(removedBucket.map(([k]) => hexId(k)));
  return bucket.map(([k, v]): MemberRecord => {
    const id = hexId(k);
    let json: MemberJson;
    try {
      json = JSON.parse(text(v)) as MemberJson;
    } catch {
      throw new BackendImageError(`member ${id.toString(16)}'s record is not JSON`);
    }
    return {
      id, name: typeof json.name === 'string' ? json.name : '', peerUrls: strings(json.peerURLs), clientUrls: strings(json.clientURLs),
      isLearner: json.isLearner === true,
    };
  }).filter((m) => !removed.has(m.id)).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

function hexId(k: Uint8Array): bigint {
  const hex = text(k);
  if (!/^[0-9a-f]{1,16}$/.test(hex)) throw new BackendImageError(`member key "${hex}" is not a hex member id`);
  return BigInt(`0x${hex}`);
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((s): s is string => typeof s === 'string') : [];
}

function revisionMain(v: Uint8Array, what: string): number {
  if (v.length !== 17) throw new BackendImageError(`${what} has ${v.length} bytes, not a revision's 17`);
  return safe(Buffer.from(v).readBigUInt64BE(0), what);
}

function safe(value: bigint, what: string): number {
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw new BackendImageError(`${what} ${value.toString()} is beyond 2^53`);
  return Number(value);
}

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('utf8');
}
