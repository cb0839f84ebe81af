// etcd 3.4's WAL entries as Tern's: the entries after the backend's state (the backend
// saves consistent_index with each write, so these are the ones a restarted etcd applies
// again) are carried into Tern's log at the same index and term, so Tern's state machine
// applies them on its first start — nothing committed is dropped.
//
//   empty entry (a new leader's)        → Tern's empty entry
//   put, delete_range, txn, compaction,
//   lease grant / revoke, alarm,
//   auth changes                         → the same request in Tern's envelope (passwords,
//                                          plain in etcd 3.4's entries, hashed here as
//                                          etcd hashes them at apply); the header's user
//                                          and auth revision are kept: Tern checks
//                                          permissions at apply, as etcd does
//   authenticate, range, auth reads,
//   v2 requests (member attributes, the
//   cluster version), lease checkpoint   → an empty entry: no effect on replicated state
//                                          that Tern keeps (tokens are not kept by etcd
//                                          across restarts either; attributes are
//                                          re-learned from the members)
//   conf change                          → an empty entry, once checked against the
//                                          members bucket (etcd saves the change there
//                                          when it applies it); one the bucket does not
//                                          show is refused: Tern cannot replay it
//
// Anything else is refused with an EntryError naming the entry: never skipped unseen.

import type { AuthRequest } from '../../core/auth/authRequests.js';
import type { AlarmAction, AlarmType } from '../../core/server/alarms.js';
import { ALARM_TYPES } from '../../core/server/alarms.js';
import { encodeEnvelope, type InternalRequest } from '../../core/server/requests.js';
import type { Entry } from '../../core/raft/types.js';
import { internalRaftRequestType } from '../proto/load.js';
import { AUTH_CALLS, passwordToHash } from '../services/auth.js';
import { deleteRangeRequest, putRequest, txnRequest } from '../wire/kv.js';
import { bool, int, leaseId, sub, text, type Wire } from '../wire/message.js';
import type { EtcdEntry } from './walReader.js';
import { bytesOf, uint, wireFields } from './wireFields.js';

export class EntryError extends Error {}

export interface TranslateOptions {
  /** Members the backend lists, and those it lists as removed. */
  readonly members: ReadonlySet<bigint>;
  readonly removed: ReadonlySet<bigint>;
  /** bcrypt, as the member's Auth service hashes. */
  readonly hashPassword: (password: string) => Promise<string>;
  /** Lease grants start from this (etcd's lessor, too, starts them afresh on restart). */
  readonly nowMs: number;
}

export interface Translated {
  readonly entries: readonly Entry[];
  /** Entries carried as requests (the rest are empty entries). */
  readonly requests: number;
}

/** `InternalRaftRequest` field → Tern's auth call name (net/services/auth.ts). */
const AUTH_FIELDS: Readonly<Record<string, string>> = {
  auth_enable: 'AuthEnable', auth_disable: 'AuthDisable', auth_user_add: 'UserAdd', auth_user_delete: 'UserDelete',
  auth_user_change_password: 'UserChangePassword', auth_user_grant_role: 'UserGrantRole', auth_user_revoke_role: 'UserRevokeRole',
  auth_role_add: 'RoleAdd', auth_role_delete: 'RoleDelete', auth_role_grant_permission: 'RoleGrantPermission',
  auth_role_revoke_permission: 'RoleRevokePermission',
};
/** Fields whose request changes nothing Tern replicates. */
const NO_EFFECT = ['range', 'authenticate', 'auth_user_get', 'auth_user_list', 'auth_role_list', 'auth_role_get', 'v2', 'lease_checkpoint'];
const ALARM_ACTIONS: Readonly<Record<string, AlarmAction>> = { GET: 'get', ACTIVATE: 'activate', DEACTIVATE: 'deactivate' };

export async function translateEntries(entries: readonly EtcdEntry[], options: TranslateOptions): Promise<Translated> {
  const out: Entry[] = [];
  let requests = 0;
  for (const entry of entries) {
    const request = await translate(entry, options);
    if (request !== null) requests++;
    out.push({
      term: entry.term, index: entry.index, type: 'normal',
      data: request === null ? new Uint8Array(0) : encodeEnvelope({ requestId: '', proposedAtMs: options.nowMs, ...request }),
    });
  }
  return { entries: out, requests };
}

type Carried = { readonly request: InternalRequest; readonly auth?: { readonly user: string; readonly revision: number } };

async function translate(entry: EtcdEntry, options: TranslateOptions): Promise<Carried | null> {
  const where = `WAL entry ${entry.index} (term ${entry.term})`;
  if (entry.type === 'confChangeV2') throw new EntryError(`${where} is a ConfChangeV2, which etcd 3.4 never writes`);
  if (entry.type === 'confChange') {
    checkConfChange(entry, where, options);
    return null;
  }
  if (entry.data.length === 0) return null;
  let w: Wire;
  try {
    w = internalRaftRequestType().toObject(internalRaftRequestType().decode(entry.data), { longs: String, enums: String, defaults: false, oneofs: true });
  } catch (error) {
    throw new EntryError(`${where} is not an InternalRaftRequest: ${error instanceof Error ? error.message : String(error)}`);
  }
  const header = sub(w['header']);
  const user = text(header['username']);
  const auth = user === '' ? {} : { auth: { user, revision: int(header['auth_revision']) } };
  const request = await requestOf(w, options);
  if (request === 'none') return null;
  if (request === null) throw new EntryError(`${where} holds a request Tern cannot replay (fields ${Object.keys(w).join(', ')})`);
  return { request, ...auth };
}

async function requestOf(w: Wire, options: TranslateOptions): Promise<InternalRequest | 'none' | null> {
  if (w['put'] !== undefined) return { kind: 'put', put: putRequest(sub(w['put'])) };
  if (w['delete_range'] !== undefined) return { kind: 'deleteRange', deleteRange: deleteRangeRequest(sub(w['delete_range'])) };
  if (w['txn'] !== undefined) return { kind: 'txn', txn: txnRequest(sub(w['txn'])) };
  if (w['compaction'] !== undefined) {
    const c = sub(w['compaction']);
    return { kind: 'compact', compact: { revision: int(c['revision']), physical: bool(c['physical']) } };
  }
  if (w['lease_grant'] !== undefined) {
    const g = sub(w['lease_grant']);
    return { kind: 'leaseGrant', id: leaseId(g['ID'] ?? '0'), ttlSeconds: int(g['TTL']) };
  }
  if (w['lease_revoke'] !== undefined) return { kind: 'leaseRevoke', id: leaseId(sub(w['lease_revoke'])['ID'] ?? '0') };
  if (w['alarm'] !== undefined) {
    const a = sub(w['alarm']);
    const action = ALARM_ACTIONS[text(a['action'], 'GET')];
    const alarm: AlarmType | undefined = ALARM_TYPES.find((t) => t === text(a['alarm'], 'NONE'));
    if (action === undefined || alarm === undefined) return null;
    return { kind: 'alarm', alarm: { action, memberId: text(a['memberID'], '0'), alarm } };
  }
  for (const [field, method] of Object.entries(AUTH_FIELDS)) {
    if (w[field] === undefined) continue;
    const body = sub(w[field]);
    const translateCall = AUTH_CALLS[method];
    if (translateCall === undefined) return null;
    const password = passwordToHash(method, body);
    const auth: AuthRequest = translateCall(body, password === null ? '' : await options.hashPassword(password));
    return { kind: 'auth', auth };
  }
  if (NO_EFFECT.some((field) => w[field] !== undefined)) return 'none';
  return null;
}

/** raftpb.ConfChange: ID 1, Type 2 (AddNode 0, RemoveNode 1, UpdateNode 2, AddLearnerNode 3), NodeID 3, Context 4. */
function checkConfChange(entry: EtcdEntry, where: string, options: TranslateOptions): void {
  const fields = wireFields(entry.data);
  const type = Number(uint(fields, 2, 'ConfChange.Type'));
  const node = uint(fields, 3, 'ConfChange.NodeID');
  bytesOf(fields, 4, 'ConfChange.Context');
  const listed = options.members.has(node);
  const ok = type === 1 ? !listed : listed || options.removed.has(node);
  if (!ok) {
    const what = ['add', 'remove', 'update', 'add learner'][type] ?? `type ${type}`;
    throw new EntryError(`${where} is a conf change (${what} member ${node.toString(16)}) that the backend's members bucket does not show: `
      + 'etcd had not applied it when it stopped. Start etcd 3.4 once on this data dir (it applies the entry), stop it, and boot Tern again');
  }
}
