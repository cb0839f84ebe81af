// An MVCC backend that knows its size: a decorator over any backend port that keeps a
// running tally of the records it holds, so that the quota check (core/server/quota.ts)
// can ask "how big is the backend?" on every put in O(1).
//
// Why a tally of applied records, and not the host measuring something: the size etcd
// checks is its bbolt file's. Tern's file-shaped size is the bbolt image a snapshot
// would be (net/snapshot/snapshotImage.ts, what Status reports as dbSize), which costs a
// walk over every record — too slow per put. The tally follows the same image: each
// record is counted by the bytes it takes there (recordSize.ts, exact), and the page
// estimate below lays those bytes out as the image's writer does (records alone on
// their pages when they do not fit one, the rest packed into 4 KiB leaf pages, branch
// pages above, 4 fixed pages). It is a function of the applied records only — the same
// on every member, in the simulator and after a restart — and it moves with writes and
// compaction as Status's dbSize does. It can fall short of the image where small records
// sit between large ones (each such run starts a page), by at most a page per run.

import type { BackendBatch, BackendDump, BackendMeta, MvccBackend, StoredKv } from './backend.js';
import { keyValueBytes, revKeyBytes } from './recordSize.js';
import type { Rev } from './revision.js';

/** bbolt's page size, page header and leaf/branch element header (net/snapshot/bbolt.ts). */
const PAGE_BYTES = 4096;
const PAGE_HEADER_BYTES = 16;
const ELEMENT_BYTES = 16;
/** A bucket this small lives inline in the root page (bbolt: a quarter page). */
const INLINE_BUCKET_BYTES = PAGE_BYTES / 4;
/** Two meta pages, the freelist and the root bucket's page. */
const FIXED_PAGES = 4;
/** A branch element: its header and a child's first key (a revision key). */
const BRANCH_ELEMENT_BYTES = ELEMENT_BYTES + 17;
/** leasepb.Lease under its 8-byte id: ID (1 + 9 bytes for a 63-bit id the server drew), TTL (1 + 1-2), remaining TTL (none until checkpointed). */
const LEASE_ELEMENT_BYTES = ELEMENT_BYTES + 8 + 12;

/** What the tally holds: records that need pages of their own, and the bytes of the rest. */
export interface RecordTally {
  readonly records: number;
  /** Pages taken by records too large to share a page (each on `span` pages of its own). */
  readonly ownPages: number;
  /** Leaf bytes (element header, revision key, KeyValue) of the records that share pages. */
  readonly sharedBytes: number;
}

export class SizedBackend implements MvccBackend {
  private records = 0;
  private ownPages = 0;
  private sharedBytes = 0;

  /** Counts what `inner` holds already (a durable backend opened on restart): one scan. */
  constructor(readonly inner: MvccBackend) {
    inner.scan(0, Number.MAX_SAFE_INTEGER, (_r, kv) => {
      this.count(kv, 1);
      return true;
    });
  }

  write(batch: BackendBatch): void {
    // Revisions are written once (the store only appends), so a put adds a record; a
    // delete (compaction) removes one the backend holds.
    for (const r of batch.deletes) {
      const kv = this.inner.get(r);
      if (kv !== undefined) this.count(kv, -1);
    }
    for (const [, kv] of batch.puts) this.count(kv, 1);
    this.inner.write(batch);
  }

  get(revision: Rev): StoredKv | undefined {
    return this.inner.get(revision);
  }

  scan(from: Rev, to: Rev, visit: (revision: Rev, kv: StoredKv) => boolean): void {
    this.inner.scan(from, to, visit);
  }

  meta(): BackendMeta {
    return this.inner.meta();
  }

  dump(): BackendDump {
    return this.inner.dump();
  }

  replaceAll(dump: BackendDump): void {
    this.records = 0;
    this.ownPages = 0;
    this.sharedBytes = 0;
    for (const [, kv] of dump.records) this.count(kv, 1);
    this.inner.replaceAll(dump);
  }

  tally(): RecordTally {
    return { records: this.records, ownPages: this.ownPages, sharedBytes: this.sharedBytes };
  }

  private count(kv: StoredKv, sign: 1 | -1): void {
    const bytes = ELEMENT_BYTES + revKeyBytes(kv.tombstone) + keyValueBytes(kv);
    this.records += sign;
    if (PAGE_HEADER_BYTES + bytes > PAGE_BYTES) this.ownPages += sign * Math.ceil((PAGE_HEADER_BYTES + bytes) / PAGE_BYTES);
    else this.sharedBytes += sign * bytes;
  }
}

/**
 * The bytes of the bbolt image holding `tally`'s records and `leases` leases: what
 * Status reports as dbSize, to within the shortfall described at the top. The other
 * buckets (meta, cluster, members, alarms, auth) are small and inline in the root page.
 */
export function estimateImageBytes(tally: RecordTally, leases: number): number {
  return PAGE_BYTES * (FIXED_PAGES + bucketPages(tally) + leasePages(leases));
}

function bucketPages(tally: RecordTally): number {
  const leafBytes = tally.sharedBytes + tally.ownPages * PAGE_BYTES;
  if (PAGE_HEADER_BYTES + leafBytes <= INLINE_BUCKET_BYTES) return 0;
  const leaves = tally.ownPages + Math.ceil(tally.sharedBytes / (PAGE_BYTES - PAGE_HEADER_BYTES));
  let pages = leaves;
  // Branch levels until one page points at every page below it.
  const fanout = Math.floor((PAGE_BYTES - PAGE_HEADER_BYTES) / BRANCH_ELEMENT_BYTES);
  for (let level = leaves; level > 1; level = Math.ceil(level / fanout)) pages += Math.ceil(level / fanout);
  return pages;
}

function leasePages(leases: number): number {
  const bytes = leases * LEASE_ELEMENT_BYTES;
  if (PAGE_HEADER_BYTES + bytes <= INLINE_BUCKET_BYTES) return 0;
  return Math.ceil(bytes / (PAGE_BYTES - PAGE_HEADER_BYTES));
}
