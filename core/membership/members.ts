// The cluster's members as etcd describes them (uint64 ids, names, peer and client
// URLs, learner flag), and the map between etcd's member ids and the core's Raft ids.
//
// Raft ids are derived from etcd ids — the top 53 bits, so that they are exact JS
// numbers — rather than numbered 1..n: a member added at runtime then knows its own
// Raft id from its etcd id alone, and every member computes the same id with no
// agreement round. Two ids that share their top 53 bits would collide; for ids that
// are SHA-1 prefixes the odds are about n²/2⁵⁴.
//
// Raft is the authority on who is a member: additions and removals arrive as
// conf-change entries whose context is the member's record (`confChangeContext`).
// Names and client URLs of members are learned from the members themselves (peer
// Members calls), as etcd learns them from each member's published attributes. The
// record is saved through a port (net/peer/membershipFile.ts keeps it under the data
// dir) so that a restart knows the cluster without its flags (etcd likewise ignores
// --initial-cluster once a data dir exists).

import type { ConfChange, NodeId } from '../raft/types.js';
import { utf8KeepingBom } from '../util/utf8.js';

export interface MemberRecord {
  readonly id: bigint;
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
  readonly isLearner: boolean;
}

export function raftIdOf(etcdId: bigint): NodeId {
  const id = Number(etcdId >> 11n);
  return id === 0 ? 1 : id; // 0 is NONE in the core
}

/** What a conf-change entry carries for the application (etcd's ConfChange.Context). */
export interface ConfChangeContext {
  readonly op: 'add' | 'remove' | 'update' | 'promote';
  readonly member: MemberRecord;
  /** Matches the applied entry to the request waiting for it. */
  readonly nonce: string;
}

export function encodeContext(c: ConfChangeContext): Uint8Array {
  const m = c.member;
  return new TextEncoder().encode(JSON.stringify({
    op: c.op, nonce: c.nonce,
    member: { id: m.id.toString(), name: m.name, peerUrls: m.peerUrls, clientUrls: m.clientUrls, isLearner: m.isLearner },
  }));
}

export function decodeContext(change: ConfChange): ConfChangeContext | null {
  return change.context === undefined ? null : decodeContextBytes(change.context);
}

export function decodeContextBytes(context: Uint8Array): ConfChangeContext | null {
  try {
    const raw = JSON.parse(utf8KeepingBom.decode(context)) as { op: ConfChangeContext['op']; nonce: string; member: SavedMember };
    return { op: raw.op, nonce: raw.nonce, member: fromSaved(raw.member) };
  } catch {
    return null;
  }
}

/** A member as the saved record and conf-change contexts spell it (ids in decimal). */
export interface SavedMember {
  readonly id: string;
  readonly name: string;
  readonly peerUrls: readonly string[];
  readonly clientUrls: readonly string[];
  readonly isLearner: boolean;
}

/** The whole membership as it is saved (ids in decimal). */
export interface SavedMembership {
  readonly clusterId: string;
  readonly selfId: string;
  readonly members: readonly SavedMember[];
}

/** Where the membership is kept across restarts (a file beside the data dir in net/). */
export interface MembershipStore {
  save(saved: SavedMembership): void;
}

export function fromSaved(m: SavedMember): MemberRecord {
  return { id: BigInt(m.id), name: m.name, peerUrls: [...m.peerUrls], clientUrls: [...m.clientUrls], isLearner: m.isLearner };
}

function toSaved(m: MemberRecord): SavedMember {
  return { id: m.id.toString(), name: m.name, peerUrls: m.peerUrls, clientUrls: m.clientUrls, isLearner: m.isLearner };
}

export class Membership {
  private readonly members = new Map<bigint, MemberRecord>();
  private readonly listeners: (() => void)[] = [];

  constructor(
    readonly clusterId: bigint,
    readonly selfId: bigint,
    members: readonly MemberRecord[],
    /** Where the record is saved; null keeps it in memory only. */
    private readonly store: MembershipStore | null,
  ) {
    for (const m of members) this.members.set(m.id, m);
  }

  /** A membership from its saved form. */
  static fromSaved(saved: SavedMembership, store: MembershipStore | null): Membership {
    return new Membership(BigInt(saved.clusterId), BigInt(saved.selfId), saved.members.map(fromSaved), store);
  }

  get selfRaftId(): NodeId {
    return raftIdOf(this.selfId);
  }

  /** Sorted by id, as etcd lists them. */
  list(): MemberRecord[] {
    return [...this.members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  get(id: bigint): MemberRecord | undefined {
    return this.members.get(id);
  }

  byRaftId(raftId: NodeId): MemberRecord | undefined {
    return this.list().find((m) => raftIdOf(m.id) === raftId);
  }

  /** The etcd id a client sees for a core id; 0 for NONE or an unknown member. */
  etcdIdOf(raftId: NodeId): bigint {
    return this.byRaftId(raftId)?.id ?? 0n;
  }

  voters(): NodeId[] {
    return this.list().filter((m) => !m.isLearner).map((m) => raftIdOf(m.id));
  }

  learners(): NodeId[] {
    return this.list().filter((m) => m.isLearner).map((m) => raftIdOf(m.id));
  }

  onChange(listener: () => void): void {
    this.listeners.push(listener);
  }

  /** An applied conf change: adopt what its context says. */
  apply(context: ConfChangeContext): void {
    const { op, member } = context;
    const known = this.members.get(member.id);
    if (op === 'remove') this.members.delete(member.id);
    else if (op === 'add' || known === undefined) this.members.set(member.id, member);
    else if (op === 'update') this.members.set(member.id, { ...known, peerUrls: member.peerUrls });
    else this.members.set(member.id, { ...known, isLearner: false });
    this.changed();
  }

  /**
   * The state machine was replaced by a snapshot: adopt its members. `records` are the
   * members added through Raft (their latest conf-change records); `inConfiguration` says
   * who the snapshot's configuration holds, so a member removed in entries compacted away
   * goes too. Names and client URLs a record lacks are kept from what this member learned.
   * This member itself stays even if absent: the snapshot may predate its own addition,
   * which then follows in the log.
   */
  adoptSnapshot(records: readonly MemberRecord[], inConfiguration: (raftId: NodeId) => boolean): void {
    for (const record of records) {
      const known = this.members.get(record.id);
      this.members.set(record.id, {
        ...record,
        name: record.name !== '' ? record.name : known?.name ?? '',
        clientUrls: record.clientUrls.length > 0 ? record.clientUrls : known?.clientUrls ?? [],
      });
    }
    for (const id of [...this.members.keys()]) {
      if (id !== this.selfId && !inConfiguration(raftIdOf(id))) this.members.delete(id);
    }
    this.changed();
  }

  /** A member told us its name and client URLs (not replicated: each member learns them). */
  learnAttributes(id: bigint, name: string, clientUrls: readonly string[]): void {
    const known = this.members.get(id);
    if (known === undefined || (known.name === name && known.clientUrls.join(',') === clientUrls.join(','))) return;
    this.members.set(id, { ...known, name, clientUrls: [...clientUrls] });
    this.changed();
  }

  private changed(): void {
    this.save();
    for (const listener of this.listeners) listener();
  }

  save(): void {
    this.store?.save({ clusterId: this.clusterId.toString(), selfId: this.selfId.toString(), members: this.list().map(toSaved) });
  }
}
