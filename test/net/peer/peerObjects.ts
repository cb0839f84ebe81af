// The test's oracle for net/peer/codec.ts: the core's Raft Message ↔ the peer.proto
// object that proto-loader encodes and decodes. This was the member's own path until
// the codec wrote the bytes by hand; it stays as what a member of an earlier build
// sends and reads, and the codec must agree with it both ways (codec.test.ts).

import type { ConfState, Entry, Message, MessageType, Snapshot } from '../../../core/raft/types.js';
import { message } from '../../../core/raft/types.js';

type WireObject = Record<string, unknown>;

const TYPES: ReadonlySet<string> = new Set<MessageType>([
  'MsgApp', 'MsgAppResp', 'MsgVote', 'MsgVoteResp', 'MsgPreVote', 'MsgPreVoteResp', 'MsgSnap',
  'MsgHeartbeat', 'MsgHeartbeatResp', 'MsgProp', 'MsgReadIndex', 'MsgReadIndexResp', 'MsgTransferLeader', 'MsgTimeoutNow',
]);

class DecodeError extends Error {}

export function toPeerObject(m: Message): WireObject {
  return {
    type: m.type, to: m.to, from: m.from, term: m.term, log_term: m.logTerm, index: m.index,
    entries: m.entries.map(encodeEntry), commit: m.commit,
    snapshot: m.snapshot === null ? null : encodeSnapshot(m.snapshot),
    reject: m.reject, reject_hint: m.rejectHint, context: m.context,
  };
}

function encodeEntry(e: Entry): WireObject {
  return { term: e.term, index: e.index, type: e.type === 'normal' ? 'ENTRY_NORMAL' : 'ENTRY_CONF_CHANGE', data: e.data };
}

function encodeSnapshot(s: Snapshot): WireObject {
  const { confState, index, term } = s.metadata;
  return { data: s.data, metadata: { conf_state: { voters: confState.voters, learners: confState.learners }, index, term } };
}

/** Throws DecodeError on anything a well-behaved peer would not send. */
export function fromPeerObject(w: WireObject): Message {
  const type = w['type'];
  if (typeof type !== 'string' || !TYPES.has(type)) throw new DecodeError(`unknown message type ${String(type)}`);
  const snapshot = w['snapshot'];
  return message({
    type: type as MessageType,
    to: num(w['to']), from: num(w['from']), term: num(w['term']), logTerm: num(w['log_term']), index: num(w['index']),
    entries: list(w['entries']).map(decodeEntry), commit: num(w['commit']),
    snapshot: snapshot === null || snapshot === undefined ? null : decodeSnapshot(object(snapshot)),
    reject: w['reject'] === true, rejectHint: num(w['reject_hint']), context: typeof w['context'] === 'string' ? w['context'] : '',
  });
}

function decodeEntry(value: unknown): Entry {
  const w = object(value);
  return { term: num(w['term']), index: num(w['index']), type: w['type'] === 'ENTRY_CONF_CHANGE' ? 'confChange' : 'normal', data: bytes(w['data']) };
}

function decodeSnapshot(w: WireObject): Snapshot {
  const metadata = object(w['metadata']);
  const conf = object(metadata['conf_state']);
  const confState: ConfState = { voters: list(conf['voters']).map(num), learners: list(conf['learners']).map(num) };
  return { data: bytes(w['data']), metadata: { index: num(metadata['index']), term: num(metadata['term']), confState } };
}

/** uint64 fields arrive as decimal strings; the core's numbers are safe integers. */
function num(value: unknown): number {
  const n = typeof value === 'string' ? Number(value) : typeof value === 'number' ? value : 0;
  if (!Number.isSafeInteger(n) || n < 0) throw new DecodeError(`not a safe integer: ${String(value)}`);
  return n;
}

function list(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

function object(value: unknown): WireObject {
  if (typeof value !== 'object' || value === null) throw new DecodeError('missing nested message');
  return value as WireObject;
}

/** Buffers from grpc-js are views into a shared pool: copy, so the core owns its bytes. */
function bytes(value: unknown): Uint8Array {
  return value instanceof Uint8Array ? new Uint8Array(value) : new Uint8Array(0);
}
