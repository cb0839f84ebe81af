// Booting from an etcd 3.4 data dir (docs/storage.md, "Booting from an etcd data dir"):
// a member whose data dir holds etcd's files (member/snap/db, member/wal/*.wal,
// member/snap/*.snap) and no Tern environment yet imports them once into a fresh LMDB
// environment, then starts as from its own. etcd's files are read, never changed.
//
//   state      the backend (db) as a Tern snapshot at the index it holds — the larger of
//              its consistent_index and the newest snap file's index — with its keys and
//              every stored revision, compaction, leases, auth state and alarms
//   log        the WAL's entries after that index, carried over (entries.ts): Tern
//              applies those committed on its first start, as a restarted etcd would
//   hard state the WAL's term, vote and commit
//   members    the backend's members bucket, the WAL's member and cluster ids → members.json
//
// All or nothing: the environment is built in a scratch directory and moved into place
// last (after members.json), so a crash mid-import leaves no environment and the next
// start imports again. Anything that does not read as etcd 3.4's is an EtcdDataDirError.

import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import path from 'node:path';
import { encodeAuthImage } from '../../core/auth/image.js';
import { mainOf } from '../../core/mvcc/revision.js';
import type { Entry, HardState, Snapshot } from '../../core/raft/types.js';
import { encodeSnapshotImage } from '../../core/server/stateMachine.js';
import { LmdbLogStore } from '../../storage/lmdbLogStore.js';
import { Membership, raftIdOf } from '../../core/membership/members.js';
import { membershipFile } from '../peer/membershipFile.js';
import { readBbolt } from '../snapshot/bboltReader.js';
import { readEtcdBackend, type EtcdBackend } from './backendImage.js';
import { translateEntries } from './entries.js';
import { clusterMembers, MembersError, type ClusterMembers } from './members.js';
import { parseSnapFile, snapFileNames, type EtcdSnapshot } from './snapFile.js';
import { readWal, segmentsFrom, type WalContents } from './walReader.js';

export class EtcdDataDirError extends Error {}

export interface EtcdDataDirPaths {
  /** <data-dir>/member */
  readonly memberDir: string;
  /** Where etcd's WAL is (--wal-dir, default member/wal); Tern's environment goes there too. */
  readonly walDir: string;
  /** Tern's membership record. */
  readonly membersFile: string;
}

/** 'etcd': etcd's files and no Tern environment; 'none': neither (a fresh member, or Tern's own dir). */
export function detectEtcdDataDir(paths: EtcdDataDirPaths): 'etcd' | 'none' {
  if (existsSync(path.join(paths.walDir, 'data.mdb'))) return 'none';
  const db = existsSync(path.join(paths.memberDir, 'snap', 'db'));
  const wal = walNames(paths.walDir).length > 0;
  if (db && wal) return 'etcd';
  if (db || wal) {
    throw new EtcdDataDirError(`${paths.memberDir} holds ${db ? 'an etcd backend (snap/db) but no WAL' : 'an etcd WAL but no backend (snap/db)'} `
      + 'in ' + paths.walDir + ': not a complete etcd data dir; refusing to start a new cluster beside it');
  }
  return 'none';
}

export interface ImportOptions extends EtcdDataDirPaths {
  readonly hashPassword: (password: string) => Promise<string>;
  readonly nowMs: number;
}

export interface ImportSummary {
  readonly memberId: bigint;
  readonly clusterId: bigint;
  readonly keys: number;
  readonly revisions: number;
  readonly revision: number;
  readonly compactRevision: number;
  readonly leases: number;
  readonly users: number;
  readonly roles: number;
  readonly members: number;
  readonly consistentIndex: number;
  /** The index of the state imported as Tern's snapshot. */
  readonly snapshotIndex: number;
  /** WAL entries after it carried into Tern's log; of them, requests (not empty). */
  readonly entries: number;
  readonly requests: number;
  readonly commit: number;
  readonly tornBytes: number;
}

export async function importEtcdDataDir(options: ImportOptions): Promise<ImportSummary> {
  const backend = readBackend(path.join(options.memberDir, 'snap', 'db'));
  const snap = newestSnapshot(path.join(options.memberDir, 'snap'));
  const start = { index: snap?.index ?? 0, term: snap?.term ?? 0 };
  const wal = readWalDir(options.walDir, start);
  const lastIndex = start.index + wal.entries.length;
  const base = Math.max(backend.meta.appliedIndex, start.index);
  if (base > lastIndex) {
    throw new EtcdDataDirError(`the backend holds index ${base} but the WAL ends at ${lastIndex}: the WAL is not this backend's`);
  }
  const baseTerm = base === start.index ? start.term : wal.entries[base - start.index - 1]?.term ?? 0;
  const cluster = membersOf(backend, snap, wal);
  if (!cluster.members.some((m) => m.id === wal.nodeId)) {
    throw new EtcdDataDirError(`the WAL's member ${wal.nodeId.toString(16)} is not among the data dir's members`);
  }
  const { members } = cluster;
  const translated = await translate(wal, base, cluster, options);
  const hardState: HardState = {
    term: Math.max(wal.hardState.term, translated.at(-1)?.term ?? 0, baseTerm),
    vote: wal.hardState.vote === 0n ? 0 : raftIdOf(wal.hardState.vote),
    commit: Math.max(wal.hardState.commit, base),
  };
  if (hardState.commit > lastIndex) throw new EtcdDataDirError(`the WAL's hard state commits ${hardState.commit} but its entries end at ${lastIndex}`);
  const snapshot: Snapshot | null = base === 0 ? null : {
    metadata: {
      index: base, term: baseTerm,
      confState: {
        voters: members.filter((m) => !m.isLearner).map((m) => raftIdOf(m.id)),
        learners: members.filter((m) => m.isLearner).map((m) => raftIdOf(m.id)),
      },
    },
    data: encodeSnapshotImage({
      records: backend.records, meta: { appliedIndex: base, compactRevision: backend.meta.compactRevision },
      leases: [...backend.leases], auth: encodeAuthImage(backend.auth), members: [], alarms: [...backend.alarms],
    }),
  };
  new Membership(wal.clusterId, wal.nodeId, members, membershipFile(options.membersFile)).save();
  await writeEnvironment(options, snapshot, translated, hardState);
  return summary(backend, wal, members.length, { base, entries: translated, commit: hardState.commit, requests: countRequests(translated) });
}

function readBackend(file: string): EtcdBackend {
  try {
    return readEtcdBackend(readBbolt(readFileSync(file)));
  } catch (error) {
    throw new EtcdDataDirError(`${file}: ${messageOf(error)}`);
  }
}

/** The newest snap file that reads back whole (etcd's Load skips broken ones too); null if none. */
function newestSnapshot(dir: string): EtcdSnapshot | null {
  for (const name of snapFileNames(readdirSync(dir))) {
    try {
      return parseSnapFile(readFileSync(path.join(dir, name)));
    } catch {
      continue; // etcd renames such a file *.broken and tries the next; Tern leaves it
    }
  }
  return null;
}

/** etcd's WAL segments in `dir` (Tern never writes any: a data dir that has them was etcd's). */
export function walNames(dir: string): string[] {
  try {
    return readdirSync(dir).filter((n) => n.endsWith('.wal'));
  } catch {
    return [];
  }
}

function readWalDir(dir: string, start: { index: number; term: number }): WalContents {
  try {
    const names = segmentsFrom(walNames(dir), start.index);
    return readWal(names.map((name) => ({ name, bytes: readFileSync(path.join(dir, name)) })), start);
  } catch (error) {
    throw new EtcdDataDirError(`${dir}: ${messageOf(error)}`);
  }
}

/** The members, with the WAL's committed conf changes applied. */
function membersOf(backend: EtcdBackend, snap: EtcdSnapshot | null, wal: WalContents): ClusterMembers {
  try {
    return clusterMembers(backend, snap, wal.entries.filter((e) => e.index <= wal.hardState.commit));
  } catch (error) {
    if (error instanceof MembersError) throw new EtcdDataDirError(error.message);
    throw new EtcdDataDirError(`the data dir's members: ${messageOf(error)}`);
  }
}

async function translate(wal: WalContents, base: number, cluster: ClusterMembers, options: ImportOptions): Promise<Entry[]> {
  const after = wal.entries.filter((e) => e.index > base);
  try {
    const out = await translateEntries(after, {
      members: new Set(cluster.members.map((m) => m.id)), removed: cluster.removed, hashPassword: options.hashPassword,
      nowMs: options.nowMs,
    });
    return [...out.entries];
  } catch (error) {
    throw new EtcdDataDirError(`${options.walDir}: ${messageOf(error)}`);
  }
}

function countRequests(entries: readonly Entry[]): number {
  return entries.filter((e) => e.data.length > 0).length;
}

/** Builds the environment beside its place, then moves its data file in. */
async function writeEnvironment(options: ImportOptions, snapshot: Snapshot | null, entries: readonly Entry[], hardState: HardState): Promise<void> {
  const scratch = path.join(options.memberDir, 'tern-import-scratch') // no extension: lmdb-js would open a file, not a directory;
  rmSync(scratch, { recursive: true, force: true });
  mkdirSync(scratch, { recursive: true });
  const store = LmdbLogStore.open(scratch);
  try {
    await new Promise<void>((resolve, reject) => {
      store.write({ snapshot, entries, hardState, mustSync: true }, (result) => {
        if (result.kind === 'ok') resolve();
        else reject(new EtcdDataDirError(`writing the imported state: ${result.detail}`));
      });
    });
  } finally {
    await store.close();
  }
  mkdirSync(options.walDir, { recursive: true });
  renameSync(path.join(scratch, 'data.mdb'), path.join(options.walDir, 'data.mdb'));
  rmSync(scratch, { recursive: true, force: true });
}

function summary(
  backend: EtcdBackend, wal: WalContents, members: number, imported: { base: number; entries: readonly Entry[]; commit: number; requests: number },
): ImportSummary {
  const latest = new Map<string, boolean>();
  for (const [, kv] of backend.records) latest.set(kv.key, kv.tombstone);
  const lastRecord = backend.records.at(-1);
  return {
    memberId: wal.nodeId, clusterId: wal.clusterId,
    keys: [...latest.values()].filter((tombstone) => !tombstone).length,
    revisions: backend.records.length,
    revision: Math.max(lastRecord === undefined ? 0 : mainOf(lastRecord[0]), backend.meta.compactRevision),
    compactRevision: backend.meta.compactRevision,
    leases: backend.leases.length, users: backend.auth.users.length, roles: backend.auth.roles.length, members,
    consistentIndex: backend.meta.appliedIndex, snapshotIndex: imported.base, entries: imported.entries.length, requests: imported.requests,
    commit: imported.commit, tornBytes: wal.tornBytes,
  };
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
