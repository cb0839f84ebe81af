// What a Raft entry carries for the etcd state machine: one internal request with
// the id its proposer waits on, encoded with the binary codec behind a version byte.

import { CodecError, decodeValue, encodeValue } from './binaryCodec.js';
import type { AlarmRequest } from './alarms.js';
import type { AuthRequest } from '../auth/authRequests.js';
import type { AuthInfo } from '../auth/permissionCheck.js';
import type { EtcdErrorName } from '../errors.js';
import type { CompactionRequest, DeleteRangeRequest, PutRequest, TxnRequest } from '../mvcc/types.js';

export type InternalRequest =
  | { readonly kind: 'put'; readonly put: PutRequest }
  | { readonly kind: 'deleteRange'; readonly deleteRange: DeleteRangeRequest }
  | { readonly kind: 'txn'; readonly txn: TxnRequest }
  | { readonly kind: 'compact'; readonly compact: CompactionRequest }
  | { readonly kind: 'leaseGrant'; readonly id: number; readonly ttlSeconds: number }
  | { readonly kind: 'leaseRevoke'; readonly id: number }
  | { readonly kind: 'leaseCheckpoint'; readonly checkpoints: readonly { readonly id: number; readonly remainingMs: number }[] }
  | { readonly kind: 'auth'; readonly auth: AuthRequest }
  | { readonly kind: 'alarm'; readonly alarm: AlarmRequest };

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

/** First byte of every encoded entry and snapshot: the format's version. */
const BINARY_ENVELOPE = 0xb1;

/** Encodes any state-machine value (snapshot images) in the binary format. */
export function encodeBinary(value: unknown): Uint8Array {
  return encodeValue(value, [BINARY_ENVELOPE]);
}

/** Decodes what encodeBinary wrote; null if it is not that. */
export function decodeAny(data: Uint8Array): unknown {
  return data[0] === BINARY_ENVELOPE ? decodeBinary(data) : null;
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
  const value = decodeAny(data);
  if (typeof value !== 'object' || value === null) return null;
  const candidate = value as Partial<Envelope>;
  if (typeof candidate.requestId !== 'string' || typeof candidate.request !== 'object') return null;
  return value as Envelope;
}
