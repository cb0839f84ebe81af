// What the RBAC differential compares of one answer, as a canonical text.
//
// Kept: ok or error; for an error the gRPC code and the message text; for a response
// every field the client sees (keys, values, versions, leases, count, more, deleted,
// succeeded, nested txn responses, roles and permissions, watch created/canceled and
// the cancel reason, lease ids and granted TTLs).
// Normalized, and why:
//  - revisions (header.revision, create_revision, mod_revision, compact_revision) are
//    counted from the revision the run started at on that server. Both servers start
//    empty and get the same writes, so the absolute numbers agree too as long as
//    nothing differs; made relative, a difference in one run (or in a shrink attempt)
//    cannot show up again as a revision difference in every run after it.
//  - cluster_id, member_id and raft_term are dropped: ids derive from ports, and etcd's
//    bootstrap puts its first leader in another term than Tern's.
//  - the remaining TTL of LeaseTimeToLive is dropped (it counts down with the clock);
//    the granted TTL is kept.
//  - Hash, HashKV, Status and MemberList keep only ok or the error: their content is
//    the backend's hash, ports and ids, which differ by construction.
import type { Answer } from './rbacClient.js';

const DROPPED = new Set(['cluster_id', 'member_id', 'raft_term']);
const REVISIONS = new Set(['revision', 'create_revision', 'mod_revision', 'compact_revision']);

export interface Normalizing {
  /** The server's revision when the run started. */
  readonly baseRevision: number;
  /** Keep only ok / the error (answers whose content is server-specific by construction). */
  readonly statusOnly: boolean;
  /** Drop a field named TTL (LeaseTimeToLive's remaining time). */
  readonly dropTtl: boolean;
}

function relative(value: unknown, base: number): unknown {
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new Error(`a revision that is not an integer: ${String(value)}`);
  return n === 0 ? 0 : n - base;
}

function canonical(value: unknown, how: Normalizing): unknown {
  if (Buffer.isBuffer(value)) return value.toString('latin1');
  if (Array.isArray(value)) return value.map((v) => canonical(v, how));
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const name of Object.keys(value).sort()) {
    const field = (value as Record<string, unknown>)[name];
    if (DROPPED.has(name) || (how.dropTtl && name === 'TTL')) continue;
    out[name] = REVISIONS.has(name) ? relative(field, how.baseRevision) : canonical(field, how);
    // A lease's keys come out of a Go map on etcd: in no particular order.
    if (how.dropTtl && name === 'keys' && Array.isArray(out[name])) out[name] = [...(out[name] as unknown[])].map(String).sort();
  }
  return out;
}

/** The answer as the text both servers' answers must equal. */
export function normalize(answer: Answer, how: Normalizing): string {
  if (!answer.ok) return `error code=${answer.code} ${JSON.stringify(answer.details)}`;
  if (how.statusOnly) return 'ok';
  return `ok ${JSON.stringify(canonical(answer.body, how))}`;
}
