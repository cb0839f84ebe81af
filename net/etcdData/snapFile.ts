// etcd 3.4's raft snapshot files (member/snap/%016x-%016x.snap, term-index): a
// snappb.Snapshot {crc 1: CRC-32C of data, data 2: a raftpb.Snapshot {data 1 (etcd's v2
// store as JSON; Tern has no v2 API and reads none of it), metadata 2 {conf_state 1
// {voters 1, learners 2, voters_outgoing 3, …}, index 2, term 3}}}. etcd starts from the
// newest file that reads back with a matching CRC (snap/snapshotter.go Load), and so does
// Tern; the data dir's other files are not touched.

import type { MemberRecord } from '../../core/membership/members.js';
import { Crc32c } from '../snapshot/crc32c.js';
import { bytesOf, repeatedUint, safeUint, uint, wireFields } from './wireFields.js';

export class SnapFileError extends Error {}

export interface EtcdSnapshot {
  readonly index: number;
  readonly term: number;
  readonly voters: readonly bigint[];
  readonly learners: readonly bigint[];
  /**
   * The members etcd 3.4's v2 store holds (/0/members/<hex id>/raftAttributes and
   * attributes): where etcd 3.4 keeps membership, and the only place a data dir made by
   * `etcdctl snapshot restore` has it (its backend's members bucket is emptied).
   */
  readonly members: readonly MemberRecord[];
  /** /0/removed_members/<hex id>. */
  readonly removedIds: readonly bigint[];
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
  const store = v2Store(bytesOf(snapshot, 1, 'raftpb.Snapshot.data') ?? new Uint8Array(0));
  return {
    index: safeUint(metadata, 2, 'SnapshotMetadata.index'), term: safeUint(metadata, 3, 'SnapshotMetadata.term'),
    voters: repeatedUint(conf, 1), learners: repeatedUint(conf, 2), ...store,
  };
}

interface V2Node {
  readonly Value?: unknown;
  readonly Children?: Readonly<Record<string, V2Node>> | null;
}

/** The members in the v2 store's JSON (etcd's v2store Save: {"Root": node, …}, each node {Value, Children}). */
function v2Store(data: Uint8Array): { members: MemberRecord[]; removedIds: bigint[] } {
  let root: V2Node | undefined;
  try {
    root = (JSON.parse(Buffer.from(data).toString('utf8')) as { Root?: V2Node }).Root;
  } catch {
    throw new SnapFileError('the snapshot\'s v2 store is not JSON');
  }
  const zero = root?.Children?.['0']?.Children;
  const members = Object.entries(zero?.['members']?.Children ?? {}).map(([hex, node]): MemberRecord => {
    const raft = json(node.Children?.['raftAttributes']?.Value);
    const attributes = json(node.Children?.['attributes']?.Value);
    return {
      id: hexId(hex), name: typeof attributes['name'] === 'string' ? attributes['name'] : '', peerUrls: strings(raft['peerURLs']),
      clientUrls: strings(attributes['clientURLs']), isLearner: raft['isLearner'] === true,
    };
  });
  return { members, removedIds: Object.keys(zero?.['removed_members']?.Children ?? {}).map(hexId) };
}

function json(value: unknown): Readonly<Record<string, unknown>> {
  if (typeof value !== 'string' || value === '') return {};
  try {
    const parsed = JSON.parse(value) as unknown;
    return typeof parsed === 'object' && parsed !== null ? parsed as Record<string, unknown> : {};
  } catch {
    throw new SnapFileError(`a member record in the v2 store is not JSON: ${value}`);
  }
}

function hexId(hex: string): bigint {
  if (!/^[0-9a-f]{1,16}$/.test(hex)) throw new SnapFileError(`v2 store member "${hex}" is not a hex id`);
  return BigInt(`0x${hex}`);
}

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((s): s is string => typeof s === 'string') : [];
}
