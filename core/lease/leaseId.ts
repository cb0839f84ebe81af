// A lease id: etcd's int64, held exactly as a bigint end to end. A JS number rounds
// every id above 2^53, and clients choose ids over the whole range (etcd's e2e tests
// send rand.Int63()), so an id is never a number anywhere in Tern.
//
//   0                  no lease (a put without one; a grant asking the server to pick)
//   any other int64    a lease id. etcd accepts negative ids too (a grant of "-5"
//                      answers ID "-5"), so Tern does; ids the server draws are positive.
//
// On the wire (gRPC int64 and the gateway's JSON) an id is a decimal string; in logs and
// etcdctl it is printed as hex (formatLeaseIdHex).

import { invariant, InvariantError } from '../util/invariant.js';

export type LeaseId = bigint;

/** No lease. */
export const NO_LEASE: LeaseId = 0n;

export const LEASE_ID_MIN: LeaseId = -(2n ** 63n);
export const LEASE_ID_MAX: LeaseId = 2n ** 63n - 1n;

export function isLeaseId(value: unknown): value is LeaseId {
  return typeof value === 'bigint' && value >= LEASE_ID_MIN && value <= LEASE_ID_MAX;
}

/** Panics on a value that cannot be an int64 lease id (a bug upstream, never client input). */
export function assertLeaseId(value: unknown, what = 'a lease id'): asserts value is LeaseId {
  invariant(isLeaseId(value), () => `${what} must be an int64 bigint, got ${typeof value} ${String(value)}`);
}

/**
 * A decimal int64 as grpc-js (longs: String) or the gateway hands it over; null if the
 * text is not one (the caller answers with its own error). Empty text is 0, a
 * field left out.
 */
export function parseLeaseId(text: string): LeaseId | null {
  if (text === '') return NO_LEASE;
  if (!/^-?\d{1,19}$/.test(text)) return null;
  const id = BigInt(text);
  return isLeaseId(id) ? id : null;
}

/** The decimal form, as proto3 JSON and proto-loader's longs: String write an int64. */
export function formatLeaseId(id: LeaseId): string {
  assertLeaseId(id);
  return id.toString(10);
}

/**
 * As etcd prints an id in its logs and etcdctl (`%016x` of the int64: a negative id
 * keeps its sign, as Go's fmt does).
 */
export function formatLeaseIdHex(id: LeaseId): string {
  assertLeaseId(id);
  // Go counts the sign in the width: -5 is "-000000000000005".
  return id < 0n ? `-${(-id).toString(16).padStart(15, '0')}` : id.toString(16).padStart(16, '0');
}

/** The int64 as the 64 bits of a uint64 (two's complement): bbolt keys, LMDB records. */
export function leaseIdToUint64(id: LeaseId): bigint {
  assertLeaseId(id);
  return BigInt.asUintN(64, id);
}

export function leaseIdFromUint64(bits: bigint): LeaseId {
  invariant(bits >= 0n && bits < 2n ** 64n, 'a uint64 is 64 bits');
  return BigInt.asIntN(64, bits);
}

/**
 * A lease id from a legacy record, written when ids were JS numbers (every one of
 * them was a safe integer, so the conversion is exact).
 */
export function leaseIdFromLegacyNumber(n: unknown): LeaseId {
  invariant(typeof n === 'number' && Number.isSafeInteger(n), () => `a legacy lease id is a safe integer, got ${String(n)}`);
  return BigInt(n);
}

/** Ascending order, for sort(). */
export function compareLeaseIds(a: LeaseId, b: LeaseId): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * A random positive 63-bit id from an integer source (the injected Random): as etcd's
 * server does for a grant that names none (`reqIDGen.Next() & (1<<63 - 1)`), never 0.
 * `intBelow(bound)` is uniform in [0, bound) for bounds up to 2^32.
 */
export function drawLeaseId(intBelow: (bound: number) => number): LeaseId {
  for (let attempt = 0; attempt < 64; attempt++) {
    const high = BigInt(intBelow(2 ** 31));
    const low = BigInt(intBelow(2 ** 32));
    const id = (high << 32n) | low;
    if (id !== NO_LEASE) return id;
  }
  throw new InvariantError('the random source drew 0 sixty-four times');
}
