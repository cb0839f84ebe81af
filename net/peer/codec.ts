// The core's Raft Message ↔ peer.proto's Message bytes, written and read by hand.
// Every field of the flat Message crosses, entries and snapshot data included, so a
// member receives exactly what the simulator would deliver.
//
// Why by hand: every Raft message between members crossed proto-loader's reflective
// path (an object per message and per entry, uint64s as decimal strings through Long,
// and back). Measured on a 3-member cluster under put c=256 (Go ternbench), that path
// was 4–7% of a member's main thread. The bytes are peer.proto's, so a member still
// talks with one that encodes through proto-loader (test/net/peer/codec.test.ts checks
// both directions against it).
//
//   Message  1 type  2 to  3 from  4 term  5 log_term  6 index  7 entries  8 commit
//            9 snapshot  10 reject  11 reject_hint  12 context
//   Entry    1 term  2 index  3 type  4 data
//   Snapshot 1 data  2 metadata     SnapshotMetadata 1 conf_state  2 index  3 term
//   ConfState 1 voters  2 learners (packed on write; packed or not on read)

import type { ConfState, Entry, Message, MessageType, Snapshot } from '../../core/raft/types.js';
import { invariant } from '../../core/util/invariant.js';
import { varintSize, writeVarint } from '../wire/protoWriter.js';

export class DecodeError extends Error {}

/** A decoded proto object of the Peer service's other methods (proto-loader, options in net/proto/load.ts). */
export type WireObject = Record<string, unknown>;

/** peer.proto's MessageType enum, in number order. */
const TYPES: readonly MessageType[] = [
  'MsgApp', 'MsgAppResp', 'MsgVote', 'MsgVoteResp', 'MsgPreVote', 'MsgPreVoteResp', 'MsgSnap',
  'MsgHeartbeat', 'MsgHeartbeatResp', 'MsgProp', 'MsgReadIndex', 'MsgReadIndexResp', 'MsgTransferLeader', 'MsgTimeoutNow',
];
const TYPE_NUMBER: ReadonlyMap<MessageType, number> = new Map(TYPES.map((type, i) => [type, i]));
const ENTRY_CONF_CHANGE = 1;
const NO_ENTRIES: readonly Entry[] = [];
const EMPTY: Uint8Array = new Uint8Array(0);

// ------------------------------------------------------------------ encode

/** The message as peer.proto bytes (proto3: zero fields left out). */
export function encodeMessage(m: Message): Buffer {
  const typeNumber = TYPE_NUMBER.get(m.type);
  invariant(typeNumber !== undefined, () => `no wire number for message type ${m.type}`);
  const contextBytes = m.context === '' ? 0 : Buffer.byteLength(m.context);
  let size = uintField(typeNumber) + uintField(m.to) + uintField(m.from) + uintField(m.term) + uintField(m.logTerm)
    + uintField(m.index) + uintField(m.commit) + (m.reject ? 2 : 0) + uintField(m.rejectHint)
    + (contextBytes === 0 ? 0 : 1 + varintSize(contextBytes) + contextBytes);
  for (const e of m.entries) size += nested(entrySize(e));
  const snapshotBytes = m.snapshot === null ? -1 : snapshotSize(m.snapshot);
  if (snapshotBytes >= 0) size += nested(snapshotBytes);

  const out = Buffer.allocUnsafe(size);
  let at = writeUint(out, 0, 0x08, typeNumber);
  at = writeUint(out, at, 0x10, m.to);
  at = writeUint(out, at, 0x18, m.from);
  at = writeUint(out, at, 0x20, m.term);
  at = writeUint(out, at, 0x28, m.logTerm);
  at = writeUint(out, at, 0x30, m.index);
  for (const e of m.entries) {
    out[at++] = 0x3a;
    at = writeVarint(out, at, entrySize(e));
    at = writeUint(out, at, 0x08, e.term);
    at = writeUint(out, at, 0x10, e.index);
    if (e.type === 'confChange') at = writeUint(out, at, 0x18, ENTRY_CONF_CHANGE);
    at = writeBytes(out, at, 0x22, e.data);
  }
  at = writeUint(out, at, 0x40, m.commit);
  if (m.snapshot !== null) {
    out[at++] = 0x4a;
    at = writeVarint(out, at, snapshotBytes);
    at = writeSnapshot(out, at, m.snapshot);
  }
  if (m.reject) {
    out[at++] = 0x50;
    out[at++] = 0x01;
  }
  at = writeUint(out, at, 0x58, m.rejectHint);
  if (contextBytes > 0) {
    out[at++] = 0x62;
    at = writeVarint(out, at, contextBytes);
    at += out.write(m.context, at, 'utf8');
  }
  invariant(at === size, () => `peer message: ${at} bytes written, ${size} sized`);
  return out;
}

function uintField(value: number): number {
  invariant(Number.isSafeInteger(value) && value >= 0, () => `a uint64 field holds ${value}`);
  return value === 0 ? 0 : 1 + varintSize(value);
}

/** A length-delimited field of a body of `bytes` (one-byte tag). */
function nested(bytes: number): number {
  return 1 + varintSize(bytes) + bytes;
}

function entrySize(e: Entry): number {
  return uintField(e.term) + uintField(e.index) + (e.type === 'confChange' ? 2 : 0)
    + (e.data.length === 0 ? 0 : nested(e.data.length));
}

function confStateSize(c: ConfState): number {
  return packedSize(c.voters) + packedSize(c.learners);
}

function packedSize(values: readonly number[]): number {
  return values.length === 0 ? 0 : nested(packedBodySize(values));
}

/** A packed list's body: each value's varint, a zero taking one byte too. */
function packedBodySize(values: readonly number[]): number {
  let body = 0;
  for (const v of values) {
    invariant(Number.isSafeInteger(v) && v >= 0, () => `a member id ${v} in a conf state`);
    body += varintSize(v);
  }
  return body;
}

function metadataSize(s: Snapshot): number {
  return nested(confStateSize(s.metadata.confState)) + uintField(s.metadata.index) + uintField(s.metadata.term);
}

function snapshotSize(s: Snapshot): number {
  return (s.data.length === 0 ? 0 : nested(s.data.length)) + nested(metadataSize(s));
}

function writeSnapshot(out: Buffer, start: number, s: Snapshot): number {
  let at = writeBytes(out, start, 0x0a, s.data);
  out[at++] = 0x12;
  at = writeVarint(out, at, metadataSize(s));
  out[at++] = 0x0a;
  at = writeVarint(out, at, confStateSize(s.metadata.confState));
  at = writePacked(out, at, 0x0a, s.metadata.confState.voters);
  at = writePacked(out, at, 0x12, s.metadata.confState.learners);
  at = writeUint(out, at, 0x10, s.metadata.index);
  return writeUint(out, at, 0x18, s.metadata.term);
}

function writePacked(out: Buffer, start: number, tag: number, values: readonly number[]): number {
  if (values.length === 0) return start;
  out[start] = tag;
  let at = writeVarint(out, start + 1, packedBodySize(values));
  for (const v of values) at = writeVarint(out, at, v);
  return at;
}

function writeUint(out: Buffer, start: number, tag: number, value: number): number {
  if (value === 0) return start;
  out[start] = tag;
  return writeVarint(out, start + 1, value);
}

function writeBytes(out: Buffer, start: number, tag: number, bytes: Uint8Array): number {
  if (bytes.length === 0) return start;
  out[start] = tag;
  const at = writeVarint(out, start + 1, bytes.length);
  out.set(bytes, at);
  return at + bytes.length;
}

// ------------------------------------------------------------------ decode

const VARINT = 0;
const FIXED64 = 1;
const LENGTH_DELIMITED = 2;
const FIXED32 = 5;

/** A cursor over one message's bytes; a nested message is read by a reader over its slice. */
class Reader {
  at: number;

  constructor(readonly bytes: Uint8Array, start: number, readonly end: number) {
    this.at = start;
  }

  get done(): boolean {
    return this.at >= this.end;
  }

  /** A varint that must fit below 2^53 (every number of the core does). */
  uint(what: string): number {
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      const byte = this.bytes[this.at++];
      if (byte === undefined || this.at > this.end) throw new DecodeError(`${what} runs past the end`);
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (!Number.isSafeInteger(value)) throw new DecodeError(`${what} is not a safe integer`);
        return value;
      }
      scale *= 0x80;
    }
    throw new DecodeError(`${what} is a varint longer than 10 bytes`);
  }

  /** A length-delimited field's extent, [start, end). */
  extent(what: string): [number, number] {
    const length = this.uint(`the length of ${what}`);
    const start = this.at;
    if (start + length > this.end) throw new DecodeError(`${what} runs past the end`);
    this.at = start + length;
    return [start, start + length];
  }

  nested(what: string): Reader {
    const [start, end] = this.extent(what);
    return new Reader(this.bytes, start, end);
  }

  skip(wireType: number, field: number): void {
    if (wireType === VARINT) this.uint(`field ${field}`);
    else if (wireType === LENGTH_DELIMITED) this.extent(`field ${field}`);
    else if (wireType === FIXED64 || wireType === FIXED32) {
      this.at += wireType === FIXED64 ? 8 : 4;
      if (this.at > this.end) throw new DecodeError(`field ${field} runs past the end`);
    } else {
      throw new DecodeError(`field ${field} has wire type ${wireType}`);
    }
  }
}

function expect(wireType: number, want: number, what: string): void {
  if (wireType !== want) throw new DecodeError(`${what} has wire type ${wireType}, not ${want}`);
}

/**
 * Reads peer.proto Message bytes. The bytes are copied once, and entry and snapshot data
 * are views into that copy (grpc-js's buffers may be views into a pool it reuses).
 * Throws DecodeError on anything a well-behaved peer would not send.
 */
export function decodeMessage(wire: Uint8Array): Message {
  const bytes = new Uint8Array(wire);
  const r = new Reader(bytes, 0, bytes.length);
  let type: MessageType = 'MsgApp';
  let to = 0, from = 0, term = 0, logTerm = 0, index = 0, commit = 0, rejectHint = 0;
  let reject = false;
  let context = '';
  let entries: Entry[] | null = null;
  let snapshot: Snapshot | null = null;
  while (!r.done) {
    const tag = r.uint('a tag');
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    switch (field) {
      case 1: {
        expect(wireType, VARINT, 'type');
        const number = r.uint('type');
        const known = TYPES[number];
        if (known === undefined) throw new DecodeError(`unknown message type ${number}`);
        type = known;
        break;
      }
      case 2: expect(wireType, VARINT, 'to'); to = r.uint('to'); break;
      case 3: expect(wireType, VARINT, 'from'); from = r.uint('from'); break;
      case 4: expect(wireType, VARINT, 'term'); term = r.uint('term'); break;
      case 5: expect(wireType, VARINT, 'log_term'); logTerm = r.uint('log_term'); break;
      case 6: expect(wireType, VARINT, 'index'); index = r.uint('index'); break;
      case 7: expect(wireType, LENGTH_DELIMITED, 'an entry'); (entries ??= []).push(readEntry(r.nested('an entry'))); break;
      case 8: expect(wireType, VARINT, 'commit'); commit = r.uint('commit'); break;
      case 9: expect(wireType, LENGTH_DELIMITED, 'the snapshot'); snapshot = readSnapshot(r.nested('the snapshot')); break;
      case 10: expect(wireType, VARINT, 'reject'); reject = r.uint('reject') !== 0; break;
      case 11: expect(wireType, VARINT, 'reject_hint'); rejectHint = r.uint('reject_hint'); break;
      case 12: {
        expect(wireType, LENGTH_DELIMITED, 'context');
        const [start, end] = r.extent('context');
        context = Buffer.from(bytes.buffer, bytes.byteOffset + start, end - start).toString('utf8');
        break;
      }
      default: r.skip(wireType, field);
    }
  }
  // The field order of core/raft/types.ts message(): one shape for every message.
  return {
    type, from, to, term, logTerm, index, entries: entries ?? NO_ENTRIES, commit, reject, rejectHint, context, snapshot,
  };
}

function readEntry(r: Reader): Entry {
  let term = 0, index = 0;
  let confChange = false;
  let data = EMPTY;
  while (!r.done) {
    const tag = r.uint('an entry tag');
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field === 1) { expect(wireType, VARINT, 'an entry term'); term = r.uint('an entry term'); }
    else if (field === 2) { expect(wireType, VARINT, 'an entry index'); index = r.uint('an entry index'); }
    else if (field === 3) {
      expect(wireType, VARINT, 'an entry type');
      const number = r.uint('an entry type');
      if (number > ENTRY_CONF_CHANGE) throw new DecodeError(`unknown entry type ${number}`);
      confChange = number === ENTRY_CONF_CHANGE;
    } else if (field === 4) {
      expect(wireType, LENGTH_DELIMITED, 'entry data');
      const [start, end] = r.extent('entry data');
      data = r.bytes.subarray(start, end);
    } else r.skip(wireType, field);
  }
  return { term, index, type: confChange ? 'confChange' : 'normal', data };
}

function readSnapshot(r: Reader): Snapshot {
  let data = EMPTY;
  let index = 0, term = 0;
  let confState: ConfState = { voters: [], learners: [] };
  while (!r.done) {
    const tag = r.uint('a snapshot tag');
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field === 1) {
      expect(wireType, LENGTH_DELIMITED, 'snapshot data');
      const [start, end] = r.extent('snapshot data');
      data = r.bytes.subarray(start, end);
    } else if (field === 2) {
      expect(wireType, LENGTH_DELIMITED, 'snapshot metadata');
      const m = r.nested('snapshot metadata');
      while (!m.done) {
        const mtag = m.uint('a metadata tag');
        const mfield = Math.floor(mtag / 8);
        const mwire = mtag % 8;
        if (mfield === 1) { expect(mwire, LENGTH_DELIMITED, 'conf_state'); confState = readConfState(m.nested('conf_state')); }
        else if (mfield === 2) { expect(mwire, VARINT, 'snapshot index'); index = m.uint('snapshot index'); }
        else if (mfield === 3) { expect(mwire, VARINT, 'snapshot term'); term = m.uint('snapshot term'); }
        else m.skip(mwire, mfield);
      }
    } else r.skip(wireType, field);
  }
  return { data, metadata: { index, term, confState } };
}

function readConfState(r: Reader): ConfState {
  const voters: number[] = [];
  const learners: number[] = [];
  while (!r.done) {
    const tag = r.uint('a conf_state tag');
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (field !== 1 && field !== 2) {
      r.skip(wireType, field);
      continue;
    }
    const into = field === 1 ? voters : learners;
    if (wireType === VARINT) into.push(r.uint('a member id'));
    else if (wireType === LENGTH_DELIMITED) {
      const packed = r.nested('a packed member list');
      while (!packed.done) into.push(packed.uint('a member id'));
    } else throw new DecodeError(`conf_state field ${field} has wire type ${wireType}`);
  }
  return { voters, learners };
}
