// Raft messages survive the peer wire: encode → protobuf bytes (grpc-js's own
// serializer for peer.proto) → decode gives back the same message, for any message
// the core can make (entries, snapshot data, ids up to 2^53-1).
import test from 'ava';
import fc from 'fast-check';
import { decodeConfChange, encodeConfChange } from '../../../core/raft/confchange.js';
import { message } from '../../../core/raft/types.js';
import type { Entry, Message, MessageType, Snapshot } from '../../../core/raft/types.js';
import { DecodeError, decodeMessage, encodeMessage, type WireObject } from '../../../net/peer/codec.js';
import { peerService } from '../../../net/proto/load.js';

const TYPES: MessageType[] = [
  'MsgApp', 'MsgAppResp', 'MsgVote', 'MsgVoteResp', 'MsgPreVote', 'MsgPreVoteResp', 'MsgSnap',
  'MsgHeartbeat', 'MsgHeartbeatResp', 'MsgProp', 'MsgReadIndex', 'MsgReadIndexResp', 'MsgTransferLeader', 'MsgTimeoutNow',
];

const u53 = fc.oneof(fc.nat(1000), fc.maxSafeNat());
const bytes = fc.uint8Array({ maxLength: 64 });
const entry: fc.Arbitrary<Entry> = fc.record({ term: u53, index: u53, type: fc.constantFrom('normal' as const, 'confChange' as const), data: bytes });
const snapshot: fc.Arbitrary<Snapshot> = fc.record({
  data: fc.uint8Array({ maxLength: 4096 }),
  metadata: fc.record({
    index: u53, term: u53,
    confState: fc.record({ voters: fc.array(u53, { maxLength: 5 }), learners: fc.array(u53, { maxLength: 2 }) }),
  }),
});
const anyMessage: fc.Arbitrary<Message> = fc.record({
  type: fc.constantFrom(...TYPES), from: u53, to: u53, term: u53, logTerm: u53, index: u53,
  entries: fc.array(entry, { maxLength: 5 }), commit: u53, reject: fc.boolean(), rejectHint: u53,
  context: fc.string({ maxLength: 40 }), snapshot: fc.option(snapshot, { nil: null }),
}).map((fields) => message(fields));

function overTheWire(m: Message): Message {
  const method = peerService().service['Stream'];
  if (method === undefined) throw new Error('no Stream method');
  const bytesOut = method.requestSerialize(encodeMessage(m));
  return decodeMessage(method.requestDeserialize(bytesOut) as WireObject);
}

/** Uint8Arrays compare by content; normalise so deepEqual sees plain arrays. */
function plain(m: Message): unknown {
  return JSON.parse(JSON.stringify(m, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v)));
}

test('every message round-trips through the peer protobuf encoding', (t) => {
  fc.assert(fc.property(anyMessage, (m) => {
    t.deepEqual(plain(overTheWire(m)), plain(m));
  }), { numRuns: 300 });
});

test('a message of an unknown type or with an id beyond 2^53 is refused, not delivered', (t) => {
  t.throws(() => decodeMessage({ type: 'MsgBogus' }), { instanceOf: DecodeError });
  t.throws(() => decodeMessage({ type: 'MsgApp', to: '18446744073709551615' }), { instanceOf: DecodeError });
});

test('conf changes carry an opaque context; the old 9-byte form still decodes', (t) => {
  fc.assert(fc.property(fc.constantFrom('addVoter' as const, 'removeVoter' as const, 'addLearner' as const), u53.filter((n) => n > 0), bytes,
    (type, nodeId, context) => {
      const decoded = decodeConfChange(encodeConfChange(context.byteLength === 0 ? { type, nodeId } : { type, nodeId, context }));
      t.deepEqual(decoded, context.byteLength === 0 ? { type, nodeId } : { type, nodeId, context });
    }));
});
