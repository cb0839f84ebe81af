// Reading what Tern wrote before lease ids were bigints (envelope version 0xb1): the
// same shapes, with every lease id a JS number (a safe integer: exact as a bigint).
// Raft logs and snapshots written then are still read after an upgrade, so each
// field that holds a lease id is converted here, by the shape that holds it:
//
//   entry   leaseGrant.id, leaseRevoke.id, leaseCheckpoint.checkpoints[].id,
//           put.lease, and in a txn every op's put.lease, nested txns, compare.lease
//   image   leases[].id, records[][1].lease (a StoredKv)
//
// A field that is not a number (absent, or already converted) is left as it is.

import { leaseIdFromLegacyNumber } from '../lease/leaseId.js';

type Loose = Record<string, unknown>;

function isObject(value: unknown): value is Loose {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

function upgradeField(holder: unknown, field: string): void {
  if (isObject(holder) && typeof holder[field] === 'number') holder[field] = leaseIdFromLegacyNumber(holder[field]);
}

function upgradeTxn(txn: unknown, depth: number): void {
  if (!isObject(txn) || depth > 1024) return;
  for (const compare of Array.isArray(txn['compare']) ? txn['compare'] as unknown[] : []) {
    if (isObject(compare) && compare['target'] === 'lease') upgradeField(compare, 'lease');
  }
  for (const branch of ['success', 'failure']) {
    const ops = txn[branch];
    for (const op of Array.isArray(ops) ? ops as unknown[] : []) {
      if (!isObject(op)) continue;
      upgradeField(op['put'], 'lease');
      upgradeTxn(op['txn'], depth + 1);
    }
  }
}

/** A decoded legacy envelope, its lease ids made bigints in place. */
export function upgradeLegacyEnvelope(envelope: unknown): void {
  if (!isObject(envelope)) return;
  const request = envelope['request'];
  if (!isObject(request)) return;
  switch (request['kind']) {
    case 'leaseGrant':
    case 'leaseRevoke':
      upgradeField(request, 'id');
      return;
    case 'leaseCheckpoint':
      for (const cp of Array.isArray(request['checkpoints']) ? request['checkpoints'] as unknown[] : []) upgradeField(cp, 'id');
      return;
    case 'put':
      upgradeField(request['put'], 'lease');
      return;
    case 'txn':
      upgradeTxn(request['txn'], 0);
      return;
    default:
      return; // no lease ids in the other requests
  }
}

/** A decoded legacy snapshot image, its lease ids made bigints in place. */
export function upgradeLegacyImage(image: unknown): void {
  if (!isObject(image)) return;
  for (const lease of Array.isArray(image['leases']) ? image['leases'] as unknown[] : []) upgradeField(lease, 'id');
  for (const record of Array.isArray(image['records']) ? image['records'] as unknown[] : []) {
    if (Array.isArray(record)) upgradeField(record[1], 'lease');
  }
}
