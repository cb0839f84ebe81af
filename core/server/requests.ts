// What a Raft entry carries for the etcd state machine: one internal request with
// the id its proposer waits on, encoded with the binary codec behind a version byte.

import { CodecError, decodeValue, encodeValue } from './binaryCodec.js';
import type { AlarmRequest } from './alarms.js';
import type { MemberAttributes } from '../membership/attributes.js';
import { upgradeLegacyEnvelope } from './legacyLeaseIds.js';
import type { LeaseId } from '../lease/leaseId.js';
import type { AuthRequest } from '../auth/authRequests.js';
import type { AuthInfo } from '../auth/permissionCheck.js';
import type { EtcdErrorName } from '../errors.js';
import type { CompactionRequest, DeleteRangeRequest, PutRequest, TxnRequest } from '../mvcc/types.js';

export type InternalRequest =
  | { readonly kind: 'put'; readonly put: PutRequest }
  | { readonly kind: 'deleteRange'; readonly deleteRange: DeleteRangeRequest }
  | { readonly kind: 'txn'; readonly txn: TxnRequest }
  | { readonly kind: 'compact'; readonly compact: CompactionRequest }
  /** id 0 only in entries written before the proposer drew ids (the state machine then derives one). */
  | { readonly kind: 'leaseGrant'; readonly id: LeaseId; readonly ttlSeconds: number }
  | { readonly kind: 'leaseRevoke'; readonly id: LeaseId }
  /** elapsedMs: the lease clock's advance (absent in entries written before the lease clock). */
  | { readonly kind: 'leaseCheckpoint'; readonly elapsedMs?: number; readonly checkpoints: readonly { readonly id: LeaseId; readonly remainingMs: number }[] }
  | { readonly kind: 'auth'; readonly auth: AuthRequest }
  | { readonly kind: 'alarm'; readonly alarm: AlarmRequest }
  /** A member publishes its name and client URLs (etcd's publish at start). */
  | { readonly kind: 'memberAttributes'; readonly attributes: MemberAttributes };

export interface Envelope {
  /** Unique per proposer: member id and a counter (etcd's reqIDGen). 0: nobody waits. */
  readonly requestId: string;
  /** The proposer's wall clock when proposing (lease grants start from it). */
  readonly proposedAtMs: number;
  readonly request: InternalRequest;
  /**
   * Who asked, and at which auth revision their token was checked (etcd's RequestHeader
   * username/auth_revision). Absent: no token. Permissions are checked against it at apply.
   */
  readonly auth?: AuthInfo;
  /**
   * Only with the planted bug authCheckStaleRevision: the permission verdict the proposer
   * reached on arrival (an error name, or 'allowed'), which apply then trusts.
   */
  readonly arrivalVerdict?: EtcdErrorName | 'allowed';
}

/**
 * First byte of every encoded entry and snapshot: the format's version. 0xb2: lease ids
 * are bigints (the codec's bigint tag). 0xb1, before: lease ids were numbers; still
 * read (legacyLeaseIds.ts), never written.
 */
const BINARY_ENVELOPE = 0xb2;
const LEGACY_ENVELOPE = 0xb1;

/** Encodes any state-machine value (snapshot images) in the binary format. */
export function encodeBinary(value: unknown): Uint8Array {
  return encodeValue(value, [BINARY_ENVELOPE]);
}

/** What encodeBinary wrote, or a legacy (0xb1) encoding; null if it is neither. */
export interface Decoded {
  readonly value: unknown;
  /** Written as 0xb1: lease ids are numbers, for the caller to upgrade by the value's shape. */
  readonly legacy: boolean;
}

export function decodeAny(data: Uint8Array): Decoded | null {
  if (data[0] !== BINARY_ENVELOPE && data[0] !== LEGACY_ENVELOPE) return null;
  const value = decodeBinary(data);
  return value === null ? null : { value, legacy: data[0] === LEGACY_ENVELOPE };
}

export function encodeEnvelope(envelope: Envelope): Uint8Array {
  return encodeValue(envelope, [BINARY_ENVELOPE]);
}

function decodeBinary(data: Uint8Array): unknown {
  try {
    return decodeValue(data, 1);
  } catch (error) {
    if (error instanceof CodecError) return null;
    throw error;
  }
}

export function decodeEnvelope(data: Uint8Array): Envelope | null {
  const decoded = decodeAny(data);
  if (decoded === null) return null;
  const { value } = decoded;
  if (typeof value !== 'object' || value === null) return null;
  const candidate = value as Partial<Envelope>;
  if (typeof candidate.requestId !== 'string' || typeof candidate.request !== 'object') return null;
  if (decoded.legacy) upgradeLegacyEnvelope(value);
  return value as Envelope;
}
