// What a Raft entry carries for the etcd state machine: one internal request with
// the id its proposer waits on. Encoded as JSON with byte fields as latin1 strings
// (tagged), which is compact enough for the simulator and easy to read in traces.

import { fromKey, toKey } from '../mvcc/keys.js';
import type { CompactionRequest, DeleteRangeRequest, PutRequest, TxnRequest } from '../mvcc/types.js';

export type InternalRequest =
  | { readonly kind: 'put'; readonly put: PutRequest }
  | { readonly kind: 'deleteRange'; readonly deleteRange: DeleteRangeRequest }
  | { readonly kind: 'txn'; readonly txn: TxnRequest }
  | { readonly kind: 'compact'; readonly compact: CompactionRequest }
  | { readonly kind: 'leaseGrant'; readonly id: number; readonly ttlSeconds: number }
  | { readonly kind: 'leaseRevoke'; readonly id: number }
  | { readonly kind: 'leaseCheckpoint'; readonly checkpoints: readonly { readonly id: number; readonly remainingMs: number }[] };

export interface Envelope {
  /** Unique per proposer: member id and a counter (etcd's reqIDGen). 0: nobody waits. */
  readonly requestId: string;
  /** The proposer's wall clock when proposing (lease grants start from it). */
  readonly proposedAtMs: number;
  readonly request: InternalRequest;
}

const BYTES_TAG = '\u0000b:';

/** JSON in which byte arrays survive: each becomes a tagged latin1 string. */
export function encodeJson(value: unknown): Uint8Array {
  // The replacer reads the holder's original value: JSON.stringify calls toJSON first,
  // and Node's Buffer (a Uint8Array) has one that turns it into {type, data}.
  const json = JSON.stringify(value, function replacer(this: Record<string, unknown>, key: string, v: unknown): unknown {
    const original = this[key];
    return original instanceof Uint8Array ? BYTES_TAG + toKey(original) : v;
  });
  return new TextEncoder().encode(json);
}

/** The inverse of encodeJson; null if the bytes are not such JSON. The caller checks the shape. */
export function decodeJson(data: Uint8Array): unknown {
  try {
    return JSON.parse(new TextDecoder().decode(data), (_key, v: unknown) =>
      typeof v === 'string' && v.startsWith(BYTES_TAG) ? fromKey(v.slice(BYTES_TAG.length)) : v) as unknown;
  } catch {
    return null;
  }
}

export function encodeEnvelope(envelope: Envelope): Uint8Array {
  return encodeJson(envelope);
}

export function decodeEnvelope(data: Uint8Array): Envelope | null {
  const value = decodeJson(data);
  if (typeof value !== 'object' || value === null) return null;
  const candidate = value as Partial<Envelope>;
  if (typeof candidate.requestId !== 'string' || typeof candidate.request !== 'object') return null;
  return value as Envelope;
}
