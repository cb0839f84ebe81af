// A frame: what the viewer shows of a run's world after a given number of events,
// read off the live world as plain data (JSON-friendly, so the page, the Node tests
// and the browser test compare the same thing). Reading never changes the world:
// it calls only inspection methods (status, entries, a range over the store).

import type { Message } from '../../core/raft/types.js';
import type { SimMember } from '../cluster.js';
import { messageOf } from '../network.js';
import type { Stage } from '../phases.js';
import type { EventKind, TraceRecord } from '../scheduler.js';
import type { SimWorld } from '../world.js';

/** How many log entries a member shows (the tail of its log). */
export const LOG_TAIL_ENTRIES = 24;
/** How many messages in flight a frame lists (the earliest to arrive). */
export const MESSAGES_MAX = 96;
/** How many keys of a member's KV state a frame lists. */
export const KEYS_MAX = 32;
/** How many leases a member's card lists, and keys per lease. */
export const LEASES_MAX = 16;
const LEASE_KEYS_MAX = 8;

export interface LogEntryFrame {
  readonly index: number;
  readonly term: number;
  /** Empty payload: the no-op a new leader appends. */
  readonly empty: boolean;
}

export interface KeyFrame {
  readonly key: string;
  readonly value: string;
  readonly modRevision: number;
  readonly lease: string; // decimal (a bigint id; frames stay plain JSON)
}

/** A lease as a member's lessor holds it (etcd's LeaseTimeToLive, read without changing anything). */
export interface LeaseFrame {
  readonly id: string; // decimal, as the keys show it
  readonly ttlSeconds: number;
  /** What is left as this member can tell, ms (etcd's TimeToLive truncates it to whole seconds). */
  readonly remainingMs: number;
  /** The leader's own deadline, ms on its clock; null on a follower. */
  readonly leaderDeadlineMs: number | null;
  readonly keys: readonly string[];
}

/** A put or a read a person sent from the viewer, and what became of it by this frame. */
export interface ClientOpFrame {
  readonly kind: 'put' | 'read';
  readonly member: number;
  readonly key: string;
  readonly value: string;
  readonly rangeEnd: string;
  /** The history's process (null: refused, the member was down or the clients not running yet). */
  readonly process: number | null;
  readonly callUs: number | null;
  readonly retUs: number | null;
  readonly outcome: string;
  /** The answer as the history records it (JSON), '' while pending. */
  readonly response: string;
}

export interface MemberFrame {
  readonly id: number;
  /** The process: up, paused, down (crashed) or refused (its disk is corrupt). */
  readonly state: SimMember['state'];
  /** 'down' when the process is not running. */
  readonly role: string;
  readonly term: number;
  readonly vote: number;
  readonly lead: number;
  readonly commit: number;
  readonly applied: number;
  readonly firstIndex: number;
  readonly lastIndex: number;
  readonly log: readonly LogEntryFrame[];
  /** With the KV workload: the member's MVCC store now (at most KEYS_MAX keys) and its revision. */
  readonly kv: readonly KeyFrame[] | null;
  readonly revision: number;
  /** With the Raft-only workload: the applied hash chain. */
  readonly chain: string | null;
  /** With the KV workload: the leases its lessor holds (at most LEASES_MAX). */
  readonly leases: readonly LeaseFrame[] | null;
}

export interface MessageFrame {
  readonly from: number;
  readonly to: number;
  readonly type: string;
  readonly term: number;
  readonly index: number;
  readonly entries: number;
  readonly reject: boolean;
  readonly arriveUs: number;
}

/** The event that ran last (the one that made this frame). */
export interface EventFrame {
  readonly kind: EventKind;
  readonly node: number;
  readonly timeUs: number;
  /** A short text: "MsgApp 1→3 term 4", "crash", … */
  readonly text: string;
}

export interface ViolationFrame {
  readonly kind: string;
  readonly node: number;
  readonly atMs: number;
  readonly detail: string;
}

export interface Frame {
  readonly index: number;
  readonly timeUs: number;
  readonly traceHash: string;
  readonly stage: Stage;
  readonly event: EventFrame | null;
  readonly members: readonly MemberFrame[];
  readonly messages: readonly MessageFrame[];
  /** Links whose direction from → to is cut by a partition. */
  readonly blocked: readonly (readonly [number, number])[];
  /** Links whose direction from → to is clogged (messages held until the clog ends, then a burst), and until when, µs. */
  readonly clogged: readonly (readonly [number, number, number])[];
  readonly violations: readonly ViolationFrame[];
  /** The viewer's client requests so far (the fork script's puts and reads). */
  readonly clientOps: readonly ClientOpFrame[];
}

const DECODER = new TextDecoder();

function memberFrame(member: SimMember): MemberFrame {
  const driver = member.state === 'up' || member.state === 'paused' ? member.driver : null;
  if (driver === null) {
    const hs = member.disk.durableHardState();
    return {
      id: member.id, state: member.state, role: 'down', term: hs.term, vote: hs.vote, lead: 0, commit: hs.commit, applied: 0,
      firstIndex: 0, lastIndex: member.disk.durableLastIndex(), log: [], kv: null, revision: 0, chain: null, leases: null,
    };
  }
  const status = driver.status();
  const lo = Math.max(status.firstIndex, status.lastIndex - LOG_TAIL_ENTRIES + 1);
  const log = status.lastIndex >= lo
    ? driver.raft.entries(lo, status.lastIndex).map((e) => ({ index: e.index, term: e.term, empty: e.data.length === 0 }))
    : [];
  const store = member.server?.machine.store ?? null;
  let kv: KeyFrame[] | null = null;
  if (store !== null) {
    const all = store.range({ key: new Uint8Array([0]), rangeEnd: new Uint8Array([0]), limit: KEYS_MAX });
    kv = 'kvs' in all
      ? all.kvs.map((k) => ({ key: DECODER.decode(k.key), value: DECODER.decode(k.value), modRevision: k.modRevision, lease: k.lease.toString() }))
      : [];
  }
  return {
    id: member.id, state: member.state, role: status.role, term: status.hardState.term, vote: status.hardState.vote,
    lead: status.lead, commit: status.hardState.commit, applied: status.applied, firstIndex: status.firstIndex,
    lastIndex: status.lastIndex, log, kv, revision: store?.currentRevision() ?? 0,
    chain: member.stateMachine === null ? null : member.stateMachine.chain.toString(16).padStart(8, '0'),
    leases: leasesOf(member),
  };
}

function leasesOf(member: SimMember): LeaseFrame[] | null {
  const lessor = member.server?.machine.lessor ?? null;
  if (lessor === null) return null;
  const nowMs = member.clock.nowMs();
  return lessor.ids().slice(0, LEASES_MAX).map((id) => {
    const ttl = lessor.timeToLive(id, nowMs);
    return {
      id: id.toString(), ttlSeconds: ttl.grantedTtlSeconds, remainingMs: Math.round(lessor.remainingMs(id, nowMs) ?? 0), leaderDeadlineMs: lessor.deadlineMs(id),
      keys: ttl.keys.slice(0, LEASE_KEYS_MAX),
    };
  });
}

function clientOpsOf(world: SimWorld): ClientOpFrame[] {
  const manual = world.kv?.kv.manual ?? [];
  return manual.map(({ request, record }) => ({
    kind: request.kind, member: request.member, key: request.key, value: request.value, rangeEnd: request.rangeEnd,
    process: record?.process ?? null, callUs: record?.call ?? null, retUs: record?.ret ?? null,
    outcome: record === null ? 'refused' : record.outcome,
    response: record?.response === undefined ? '' : JSON.stringify(record.response),
  }));
}

function messagesOf(world: SimWorld): MessageFrame[] {
  const found: { readonly message: Message; readonly arriveUs: number }[] = [];
  world.scheduler.forEachPending((timeUs, spec) => {
    const message = messageOf(spec);
    if (message !== null) found.push({ message, arriveUs: timeUs });
  });
  // Heap order is not time order; (arrival, from, to, type) is a total enough order for a picture.
  found.sort((x, y) => x.arriveUs - y.arriveUs || x.message.from - y.message.from || x.message.to - y.message.to);
  return found.slice(0, MESSAGES_MAX).map(({ message: m, arriveUs }) => ({
    from: m.from, to: m.to, type: m.type, term: m.term, index: m.index, entries: m.entries.length, reject: m.reject, arriveUs,
  }));
}

function blockedOf(world: SimWorld): [number, number][] {
  const ids = world.cluster.ids;
  const blocked: [number, number][] = [];
  for (const from of ids) {
    for (const to of ids) {
      if (from !== to && world.network.isBlocked(from, to)) blocked.push([from, to]);
    }
  }
  return blocked;
}

function cloggedOf(world: SimWorld): [number, number, number][] {
  const ids = world.cluster.ids;
  const now = world.scheduler.nowUs;
  const clogged: [number, number, number][] = [];
  for (const from of ids) {
    for (const to of ids) {
      const untilUs = from === to ? 0 : world.network.clogEndsUs(from, to);
      if (untilUs > now) clogged.push([from, to, untilUs]);
    }
  }
  return clogged;
}

/** "MsgApp 1→3 term 4" for a delivery; the kind and member otherwise. */
export function eventText(record: TraceRecord): string {
  const info = record.info;
  if (record.kind === 'deliver' && typeof info === 'object' && info !== null) {
    const m = info as { readonly type?: unknown; readonly from?: unknown; readonly to?: unknown; readonly term?: unknown };
    return `${String(m.type)} ${String(m.from)}→${String(m.to)} term ${String(m.term)}`;
  }
  return record.node === 0 ? record.kind : `${record.kind} member ${record.node}`;
}

export interface FrameInput {
  readonly world: SimWorld;
  readonly stage: Stage;
  readonly lastEvent: TraceRecord | null;
}

export function captureFrame({ world, stage, lastEvent }: FrameInput): Frame {
  const { scheduler, cluster, checker } = world;
  return {
    index: scheduler.events,
    timeUs: scheduler.nowUs,
    traceHash: scheduler.traceHash,
    stage,
    event: lastEvent === null ? null : { kind: lastEvent.kind, node: lastEvent.node, timeUs: lastEvent.timeUs, text: eventText(lastEvent) },
    members: [...cluster.members.values()].map(memberFrame),
    messages: messagesOf(world),
    blocked: blockedOf(world),
    clogged: cloggedOf(world),
    violations: checker.violations.map((v) => ({ kind: v.kind, node: v.node, atMs: v.atMs, detail: v.detail })),
    clientOps: clientOpsOf(world),
  };
}
