// The cluster's members as etcd 3.4 finds them at start: its v2 store, which is the
// newest snap file's (none: empty), with the WAL's committed conf changes after it applied
// — etcd 3.4 reads membership from there alone (a dir `etcdctl snapshot restore` made even
// keeps the old cluster's members in its backend's bucket). The backend's members bucket
// only fills in names and client URLs (published through v2 requests, which Tern does not
// replay) where the store lacks them.

import type { MemberRecord } from '../../core/membership/members.js';
import type { EtcdBackend } from './backendImage.js';
import type { EtcdSnapshot } from './snapFile.js';
import type { EtcdEntry } from './walReader.js';
import { bytesOf, uint, wireFields } from './wireFields.js';

export class MembersError extends Error {}

export interface ClusterMembers {
  readonly members: readonly MemberRecord[];
  readonly removed: ReadonlySet<bigint>;
}

/** raftpb.ConfChangeType */
const ADD_NODE = 0;
const REMOVE_NODE = 1;
const UPDATE_NODE = 2;
const ADD_LEARNER_NODE = 3;

export function clusterMembers(backend: EtcdBackend, snap: EtcdSnapshot | null, committed: readonly EtcdEntry[]): ClusterMembers {
  const byId = new Map<bigint, MemberRecord>();
  for (const m of snap?.members ?? []) byId.set(m.id, m);
  const removed = new Set(snap?.removedIds ?? []);
  for (const entry of committed) {
    if (entry.type !== 'confChange') continue;
    const fields = wireFields(entry.data);
    const type = Number(uint(fields, 2, 'ConfChange.Type'));
    const id = uint(fields, 3, 'ConfChange.NodeID');
    if (type === REMOVE_NODE) {
      byId.delete(id);
      removed.add(id);
      continue;
    }
    if (removed.has(id)) continue; // etcd ignores a change to a removed member
    const context = memberJson(bytesOf(fields, 4, 'ConfChange.Context'), entry.index);
    const known = byId.get(id);
    if (type === ADD_NODE || type === ADD_LEARNER_NODE) {
      byId.set(id, { id, ...context, isLearner: type === ADD_LEARNER_NODE || context.isLearner });
    } else if (type === UPDATE_NODE && known !== undefined) {
      byId.set(id, { ...known, peerUrls: context.peerUrls });
    }
  }
  const bucket = new Map(backend.members.map((m) => [m.id, m]));
  const members = [...byId.values()].map((m): MemberRecord => {
    const published = bucket.get(m.id);
    return {
      ...m, name: m.name !== '' ? m.name : published?.name ?? '',
      clientUrls: m.clientUrls.length > 0 ? m.clientUrls : published?.clientUrls ?? [],
    };
  });
  return { members: members.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)), removed };
}

/** A conf change's context: membership.Member as JSON ({id, peerURLs, name, clientURLs, isLearner}). */
function memberJson(bytes: Uint8Array | null, index: number): Omit<MemberRecord, 'id'> {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(Buffer.from(bytes ?? new Uint8Array(0)).toString('utf8')) as Record<string, unknown>;
  } catch {
    throw new MembersError(`the conf change at index ${index} carries no member record`);
  }
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);
  return {
    name: typeof raw['name'] === 'string' ? raw['name'] : '', peerUrls: strings(raw['peerURLs']), clientUrls: strings(raw['clientURLs']),
    isLearner: raw['isLearner'] === true,
  };
}
