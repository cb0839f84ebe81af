// etcd 3.4's raft snapshot files (member/snap/%016x-%016x.snap, term-index): a
// snappb.Snapshot {crc 1: CRC-32C of data, data 2: a raftpb.Snapshot {data 1 (etcd's v2
// store as JSON; Tern has no v2 API and reads none of it), metadata 2 {conf_state 1
// {voters 1, learners 2, voters_outgoing 3, …}, index 2, term 3}}}. etcd starts from the
// newest file that reads back with a matching CRC (snap/snapshotter.go Load), and so does
// Tern; the data dir's other files are not touched.

import { Crc32c } from '../snapshot/crc32c.js';
import { bytesOf, repeatedUint, safeUint, uint, wireFields } from './wireFields.js';

export class SnapFileError extends Error {}

export interface EtcdSnapshot {
  readonly index: number;
  readonly term: number;
  readonly voters: readonly bigint[];
  readonly learners: readonly bigint[];
}

/** Snap file names, newest first (the names sort as their term and index do). */
export function snapFileNames(names: readonly string[]): string[] {
  return names.filter((n) => /^[0-9a-f]{16}-[0-9a-f]{16}\.snap$/.test(n)).sort().reverse();
}

export function parseSnapFile(bytes: Uint8Array): EtcdSnapshot {
  if (bytes.length === 0) throw new SnapFileError('the file is empty');
  const outer = wireFields(bytes);
  const crc = uint(outer, 1, 'snappb.Snapshot.crc');
  const data = bytesOf(outer, 2, 'snappb.Snapshot.data') ?? new Uint8Array(0);
  const actual = new Crc32c().update(data).value();
  if (BigInt(actual) !== crc) throw new SnapFileError(`CRC mismatch (file says ${crc.toString()}, data gives ${actual})`);
  const snapshot = wireFields(data);
  const metadata = wireFields(bytesOf(snapshot, 2, 'raftpb.Snapshot.metadata') ?? new Uint8Array(0));
  const conf = wireFields(bytesOf(metadata, 1, 'SnapshotMetadata.conf_state') ?? new Uint8Array(0));
  if (repeatedUint(conf, 3).length > 0) throw new SnapFileError('the snapshot is in a joint configuration (voters_outgoing), which etcd 3.4 never writes');
  return {
    index: safeUint(metadata, 2, 'SnapshotMetadata.index'), term: safeUint(metadata, 3, 'SnapshotMetadata.term'),
    voters: repeatedUint(conf, 1), learners: repeatedUint(conf, 2),
  };
}
