// A reader of etcd 3.4's write-ahead log (wal/), so Tern can boot from a data dir etcd
// wrote (issue #15, recovery). Facts from etcd's wal/decoder.go and wal.go:
//
//   segment file  %016x-%016x.wal (sequence, index of its first entry), sequences 0, 1, 2…
//   frame         an int64 little-endian length word, then a walpb.Record, then zero
//                 padding to 8 bytes; the record's size is the word's low 56 bits, and a
//                 set top bit says the low 3 bits of the top byte are the padding
//   walpb.Record  type 1 (varint), crc 2 (varint uint32), data 3 (bytes)
//   crc           CRC-32C of every record's data rolling over all records and segments;
//                 a crc record (type 4) carries the running value at the start of each
//                 segment (and is itself outside the roll)
//   types         1 metadata (etcdserverpb.Metadata), 2 entry (raftpb.Entry),
//                 3 state (raftpb.HardState), 4 crc, 5 snapshot (walpb.Snapshot)
//   a length word of 0 ends a segment (the rest is preallocated zeros).
//
// Reading follows etcd's ReadAll: entries above the start snapshot's index, a later entry
// at an index replacing the earlier one and every entry after it; the start snapshot
// must be recorded in the log. A torn tail — the last record of the last segment cut
// short, or a record in it whose bytes include a 512-byte sector left all zeros (a write
// the disk never finished) — is cut, as etcd's repair does. Any other damage (a CRC
// mismatch, a record that does not parse, a segment cut short before the last) is a
// WalError: the log cannot be trusted, and nothing is guessed.

import { Crc32c } from '../snapshot/crc32c.js';
import { bytesOf, safeUint, uint, wireFields, WireFormatError, type WireField } from './wireFields.js';

export class WalError extends Error {}

export const METADATA_TYPE = 1;
export const ENTRY_TYPE = 2;
export const STATE_TYPE = 3;
export const CRC_TYPE = 4;
export const SNAPSHOT_TYPE = 5;

/** etcd's maxWALEntrySizeLimit: a larger frame is corruption, not data. */
const MAX_RECORD_BYTES = 10 * 1024 * 1024;
const FRAME_BYTES = 8;
/** etcd's minSectorSize: the unit a torn write leaves zeroed. */
const SECTOR_BYTES = 512;

/** raftpb.EntryType. */
export type EtcdEntryType = 'normal' | 'confChange' | 'confChangeV2';
const ENTRY_TYPES: readonly EtcdEntryType[] = ['normal', 'confChange', 'confChangeV2'];

export interface EtcdEntry {
  readonly term: number;
  readonly index: number;
  readonly type: EtcdEntryType;
  readonly data: Uint8Array;
}

export interface EtcdHardState {
  readonly term: number;
  /** The member voted for (an etcd member id), 0n for none. */
  readonly vote: bigint;
  readonly commit: number;
}

export interface WalPosition {
  readonly index: number;
  readonly term: number;
}

export interface WalSegment {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface WalContents {
  /** etcdserverpb.Metadata: this member's id and its cluster's. */
  readonly nodeId: bigint;
  readonly clusterId: bigint;
  readonly hardState: EtcdHardState;
  /** Entries after the start snapshot, contiguous. */
  readonly entries: readonly EtcdEntry[];
  /** Bytes of a torn last record cut (0: none). */
  readonly tornBytes: number;
}

/** A segment's sequence and first index from its name, or null if it is not a WAL segment name. */
export function parseSegmentName(name: string): { readonly seq: bigint; readonly index: bigint } | null {
  const match = /^([0-9a-f]{16})-([0-9a-f]{16})\.wal$/.exec(name);
  if (match === null) return null;
  return { seq: BigInt(`0x${match[1] ?? ''}`), index: BigInt(`0x${match[2] ?? ''}`) };
}

/**
 * The segments to read for a start snapshot at `snapshotIndex`, as etcd's searchIndex:
 * from the last one whose first index is ≤ it, to the end. Names must be WAL segment
 * names with consecutive sequences (etcd's isValidSeq); `names` in any order.
 */
export function segmentsFrom(names: readonly string[], snapshotIndex: number): string[] {
  const parsed = names.map((name) => ({ name, parsed: parseSegmentName(name) }));
  const bad = parsed.find((p) => p.parsed === null);
  if (bad !== undefined) throw new WalError(`${bad.name} is not a WAL segment name`);
  const sorted = parsed.sort((a, b) => (a.name < b.name ? -1 : 1));
  sorted.forEach((p, i) => {
    const previous = sorted[i - 1]?.parsed ?? null;
    if (previous !== null && p.parsed !== null && p.parsed.seq !== previous.seq + 1n) {
      throw new WalError(`WAL segments are not consecutive: ${p.name} follows ${sorted[i - 1]?.name ?? ''}`);
    }
  });
  let from = -1;
  sorted.forEach((p, i) => { if (p.parsed !== null && p.parsed.index <= BigInt(snapshotIndex)) from = i; });
  if (from < 0) throw new WalError(`no WAL segment starts at or before the snapshot's index ${snapshotIndex}`);
  return sorted.slice(from).map((p) => p.name);
}

/** Reads `segments` (in order) from the start snapshot `start` ({0, 0} when there is no snapshot). */
export function readWal(segments: readonly WalSegment[], start: WalPosition): WalContents {
  if (segments.length === 0) throw new WalError('the WAL has no segments');
  const reader = new RecordReader();
  // Set from the record visitor below (an object: its fields are not narrowed away).
  const seen: { metadata: Uint8Array | null; hardState: EtcdHardState; matched: boolean } = {
    metadata: null, hardState: { term: 0, vote: 0n, commit: 0 }, matched: false,
  };
  let entries: EtcdEntry[] = [];
  let tornBytes = 0;
  segments.forEach((segment, i) => {
    tornBytes = reader.segment(segment, i === segments.length - 1, (type, data, where) => {
      try {
        switch (type) {
          case ENTRY_TYPE: {
            const entry = parseEntry(data);
            if (entry.index <= start.index) return;
            const up = entry.index - start.index - 1;
            if (up > entries.length) throw new WalError(`${where}: entry ${entry.index} leaves a gap after entry ${start.index + entries.length}`);
            if (up < entries.length) entries = entries.slice(0, up); // overwritten by a later leader
            entries.push(entry);
            return;
          }
          case STATE_TYPE:
            seen.hardState = parseHardState(data);
            return;
          case METADATA_TYPE:
            if (seen.metadata !== null && Buffer.compare(seen.metadata, data) !== 0) throw new WalError(`${where}: a second metadata record differs from the first`);
            seen.metadata = data;
            return;
          case SNAPSHOT_TYPE: {
            const fields = wireFields(data);
            const at = { index: safeUint(fields, 1, 'walpb.Snapshot.index'), term: safeUint(fields, 2, 'walpb.Snapshot.term') };
            if (at.index !== start.index) return;
            if (at.term !== start.term) throw new WalError(`${where}: the snapshot at index ${at.index} has term ${at.term}, the snap file term ${start.term}`);
            seen.matched = true;
            return;
          }
          default:
            throw new WalError(`${where}: unexpected record type ${type}`);
        }
      } catch (error) {
        if (error instanceof WireFormatError) throw new WalError(`${where}: ${error.message}`);
        throw error;
      }
    });
  });
  if (!seen.matched) throw new WalError(`the WAL does not record the snapshot at index ${start.index} (term ${start.term})`);
  if (seen.metadata === null) throw new WalError('the WAL has no metadata record (member and cluster ids)');
  const meta = wireFields(seen.metadata);
  return {
    nodeId: uint(meta, 1, 'Metadata.NodeID'), clusterId: uint(meta, 2, 'Metadata.ClusterID'),
    hardState: seen.hardState, entries, tornBytes,
  };
}

/** Frames and CRCs, across segments. */
class RecordReader {
  private crc = 0;

  /** Visits every record of one segment; the bytes of a torn tail cut (only in the last segment). */
  segment(segment: WalSegment, last: boolean, visit: (type: number, data: Uint8Array, where: string) => void): number {
    const bytes = Buffer.from(segment.bytes.buffer, segment.bytes.byteOffset, segment.bytes.byteLength);
    let at = 0;
    while (at + FRAME_BYTES <= bytes.length) {
      const word = bytes.readBigUInt64LE(at);
      if (word === 0n) return 0; // preallocated space
      const where = `${segment.name} at byte ${at}`;
      const recordBytes = Number(word & 0x00ff_ffff_ffff_ffffn);
      const padBytes = (word & (1n << 63n)) !== 0n ? Number((word >> 56n) & 7n) : 0;
      if (recordBytes >= MAX_RECORD_BYTES - padBytes) throw new WalError(`${where}: a frame of ${recordBytes} bytes is beyond etcd's limit`);
      const end = at + FRAME_BYTES + recordBytes + padBytes;
      if (end > bytes.length) {
        if (last) return bytes.length - at;
        throw new WalError(`${where}: the record runs past the end of a segment that is not the last`);
      }
      const frame = bytes.subarray(at + FRAME_BYTES, end);
      const torn = (): boolean => last && hasZeroSector(frame, at + FRAME_BYTES);
      let record: { type: number; crc: number; data: Uint8Array };
      try {
        record = parseRecord(frame.subarray(0, recordBytes));
      } catch (error) {
        if (torn()) return bytes.length - at;
        throw new WalError(`${where}: ${error instanceof Error ? error.message : String(error)}`);
      }
      if (record.type === CRC_TYPE) {
        if (this.crc !== 0 && record.crc !== this.crc) throw new WalError(`${where}: CRC mismatch (the crc record holds ${record.crc}, the log so far ${this.crc})`);
        this.crc = record.crc;
      } else {
        const crc = new Crc32c(this.crc).update(record.data).value();
        if (crc !== record.crc) {
          if (torn()) return bytes.length - at;
          throw new WalError(`${where}: CRC mismatch (record says ${record.crc}, data gives ${crc}): the WAL is damaged`);
        }
        this.crc = crc;
        visit(record.type, record.data, where);
      }
      at = end;
    }
    if (at < bytes.length && bytes.subarray(at).some((b) => b !== 0)) {
      if (last) return bytes.length - at;
      throw new WalError(`${segment.name} at byte ${at}: a length word cut short`);
    }
    return 0;
  }
}

/** etcd's isTornEntry: some 512-byte sector of the frame (by file offset) is all zeros. */
function hasZeroSector(frame: Uint8Array, fileOffset: number): boolean {
  let at = 0;
  let offset = fileOffset;
  while (at < frame.length) {
    const length = Math.min(SECTOR_BYTES - (offset % SECTOR_BYTES), frame.length - at);
    if (frame.subarray(at, at + length).every((b) => b === 0)) return true;
    at += length;
    offset += length;
  }
  return false;
}

function parseRecord(bytes: Uint8Array): { type: number; crc: number; data: Uint8Array } {
  const fields = wireFields(bytes);
  const crc = uint(fields, 2, 'Record.crc');
  if (crc > 0xffff_ffffn) throw new WalError(`Record.crc ${crc.toString()} is not a uint32`);
  return { type: Number(BigInt.asIntN(64, uint(fields, 1, 'Record.type'))), crc: Number(crc), data: bytesOf(fields, 3, 'Record.data') ?? new Uint8Array(0) };
}

/** raftpb.Entry: Term 2, Index 3, Type 1, Data 4. */
export function parseEntry(bytes: Uint8Array): EtcdEntry {
  const fields: WireField[] = wireFields(bytes);
  const typeNumber = safeUint(fields, 1, 'Entry.Type');
  const type = ENTRY_TYPES[typeNumber];
  if (type === undefined) throw new WalError(`entry type ${typeNumber} is not one etcd 3.4 writes`);
  return {
    term: safeUint(fields, 2, 'Entry.Term'), index: safeUint(fields, 3, 'Entry.Index'), type,
    data: bytesOf(fields, 4, 'Entry.Data') ?? new Uint8Array(0),
  };
}

/** raftpb.HardState: term 1, vote 2, commit 3. */
function parseHardState(bytes: Uint8Array): EtcdHardState {
  const fields = wireFields(bytes);
  return { term: safeUint(fields, 1, 'HardState.term'), vote: uint(fields, 2, 'HardState.vote'), commit: safeUint(fields, 3, 'HardState.commit') };
}
