// The image Maintenance.Snapshot streams: Tern's own format (the MVCC records, the
// backend metadata and the leases, as the state machine's snapshot JSON), padded with
// spaces to a multiple of 512 bytes and followed by the SHA-256 of everything before
// it — the framing `etcdctl snapshot save` checks (size % 512 == 32). It is not a bbolt
// file, so `etcdctl snapshot status/restore` cannot read it.

import { createHash } from 'node:crypto';
import type { BackendMeta, StoredKv } from '../../core/mvcc/backend.js';
import type { Rev } from '../../core/mvcc/revision.js';
import { encodeJson } from '../../core/server/requests.js';
import type { EtcdStateMachine } from '../../core/server/stateMachine.js';

const MAGIC = 'tern-snapshot-v1';

/** The image's data part (padded) and its SHA-256 trailer. */
export interface SnapshotImage {
  readonly data: Buffer;
  readonly sha256: Buffer;
}

export function snapshotImage(machine: EtcdStateMachine): SnapshotImage {
  const records: [Rev, StoredKv][] = [];
  machine.store.backend.scan(0, Number.MAX_SAFE_INTEGER, (r, kv) => {
    records.push([r, kv]);
    return true;
  });
  const meta: BackendMeta = machine.store.backend.meta();
  const json = Buffer.from(encodeJson({ format: MAGIC, meta, records, leases: machine.lessor.exportLeases() }));
  // JSON allows trailing whitespace, so the padding does not change what the image says.
  const data = Buffer.alloc(Math.ceil(json.length / 512) * 512, 0x20);
  json.copy(data);
  return { data, sha256: createHash('sha256').update(data).digest() };
}
