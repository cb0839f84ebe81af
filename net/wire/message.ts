// A wire message as proto-loader decodes it (snake_case fields, int64 as strings, enums
// as names, bytes as Buffers), the readers of its fields, and the response header every
// service sends.

import { formatLeaseId, NO_LEASE, parseLeaseId, type LeaseId } from '../../core/lease/leaseId.js';
import type { ResponseHeader } from '../../core/server/server.js';

/** A decoded wire message: fields by name, values as proto-loader gives them. */
export type Wire = Record<string, unknown>;

const EMPTY = new Uint8Array(0);

export function bytes(value: unknown): Uint8Array {
  return value instanceof Uint8Array ? value : EMPTY;
}

/** int64 fields arrive as decimal strings; revisions, counts and TTLs fit in 2^53 (lease ids do not: leaseId). */
export function int(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && value !== '') return Number(value);
  return 0;
}

/**
 * An int64 lease id field, exactly: proto-loader (longs: String) hands it over as a
 * decimal string, which Number() would round above 2^53. The gateway's JSON reaches
 * the handlers through the same protobuf decoding, so it arrives the same way.
 */
export function leaseId(value: unknown): LeaseId {
  if (value === undefined || value === null) return NO_LEASE;
  const id = typeof value === 'string' ? parseLeaseId(value) : typeof value === 'bigint' ? value : null;
  if (id === null) throw new Error(`a lease id field holds a ${typeof value}, not an int64`);
  return id;
}

/** A lease id for an int64 field on the wire: its decimal string (proto-loader's longs: String). */
export function wireLeaseId(id: LeaseId): string {
  return formatLeaseId(id);
}

/** A string field (enum names and 64-bit ids arrive as strings too). */
export function text(value: unknown, fallback = ''): string {
  return typeof value === 'string' ? value : fallback;
}

export function bool(value: unknown): boolean {
  return value === true;
}

export function sub(value: unknown): Wire {
  return typeof value === 'object' && value !== null ? (value as Wire) : {};
}

/** etcd's member and cluster ids are uint64: the host maps the core's ids to them. */
export interface WireIds {
  readonly clusterId: string;
  readonly memberId: string;
}

export function header(h: ResponseHeader, ids: WireIds): Wire {
  return { cluster_id: ids.clusterId, member_id: ids.memberId, revision: String(h.revision), raft_term: String(h.raftTerm) };
}
