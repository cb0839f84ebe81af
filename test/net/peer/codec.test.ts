// Raft messages survive the peer wire: net/peer/codec.ts's bytes decode back to the same
// message, for any message the core can make (entries, snapshot data, ids up to 2^53-1);
// and they are peer.proto's bytes, read and written the same by proto-loader (what the
// codec replaced, and what a member of an earlier build still speaks: peerObjects.ts).
import test from 'ava';
import fc from 'fast-check';
import { decodeConfChange, encodeConfChange } from '../../../core/raft/confchange.js';
import { message } from '../../../core/raft/types.js';
import type { Entry, Message, MessageType, Snapshot } from '../../../core/raft/types.js';
import { DecodeError, decodeMessage, encodeMessage } from '../../../net/peer/codec.js';
import { peerService } from '../../../net/proto/load.js';
import { fromPeerObject, toPeerObject } from './peerObjects.js';

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
  context: fc.string({ maxLength: 40, unit: 'grapheme' }), snapshot: fc.option(snapshot, { nil: null }),
}).map((fields) => message(fields));

function streamMethod(): NonNullable<ReturnType<typeof peerService>['service']['Stream']> {
  const method = peerService().service['Stream'];
  if (method === undefined) throw new Error('no Stream method');
  return method;
}

/** Uint8Arrays compare by content; normalise so deepEqual sees plain arrays. */
function plain(m: Message): unknown {
  return JSON.parse(JSON.stringify(m, (_k, v: unknown) => (v instanceof Uint8Array ? [...v] : v)));
}

test('every message round-trips through the codec', (t) => {
  fc.assert(fc.property(anyMessage, (m) => {
    t.deepEqual(plain(decodeMessage(encodeMessage(m))), plain(m));
  }), { numRuns: 300 });
});

test('the codec writes what proto-loader reads and reads what it writes (peer.proto)', (t) => {
  const method = streamMethod();
  fc.assert(fc.property(anyMessage, (m) => {
    t.deepEqual(plain(fromPeerObject(method.requestDeserialize(encodeMessage(m)) as Record<string, unknown>)), plain(m));
    t.deepEqual(plain(decodeMessage(method.requestSerialize(toPeerObject(m)))), plain(m));
  }), { numRuns: 300 });
});

test('a decoded message owns its bytes: the buffer it came in may be reused', (t) => {
  const m = message({ type: 'MsgApp', from: 1, to: 2, term: 3, entries: [{ term: 3, index: 4, type: 'normal', data: new Uint8Array([7, 7, 7]) }] });
  const wire = encodeMessage(m);
  const decoded = decodeMessage(wire);
  wire.fill(0);
  t.deepEqual([...(decoded.entries[0]?.data ?? [])], [7, 7, 7]);
});

test('an unknown type, an id beyond 2^53 or a cut-off message is refused, not delivered', (t) => {
  t.throws(() => decodeMessage(new Uint8Array([0x08, 0x63])), { instanceOf: DecodeError, message: /unknown message type 99/ });
  const big = streamMethod().requestSerialize({ type: 'MsgApp', to: '18446744073709551615' });
  t.throws(() => decodeMessage(big), { instanceOf: DecodeError, message: /not a safe integer/ });
  const whole = encodeMessage(message({ type: 'MsgApp', from: 1, to: 2, term: 3, entries: [{ term: 3, index: 4, type: 'normal', data: new Uint8Array(10) }] }));
  for (let cut = 1; cut < whole.length; cut++) {
    let outcome = 'decoded';
    try {
      decodeMessage(whole.subarray(0, cut));
    } catch (error) {
      outcome = error instanceof DecodeError ? 'refused' : 'crashed';
    }
    t.not(outcome, 'crashed', `cut at ${cut}`);
  }
});

test('arbitrary bytes decode or are refused with a DecodeError, never anything else', (t) => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
    try {
      decodeMessage(junk);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
    }
  }), { numRuns: 2000 });
  t.pass();
});

test('conf changes carry an opaque context; the old 9-byte form still decodes', (t) => {
  fc.assert(fc.property(fc.constantFrom('addVoter' as const, 'removeVoter' as const, 'addLearner' as const), u53.filter((n) => n > 0), bytes,
    (type, nodeId, context) => {
      const decoded = decodeConfChange(encodeConfChange(context.byteLength === 0 ? { type, nodeId } : { type, nodeId, context }));
      t.deepEqual(decoded, context.byteLength === 0 ? { type, nodeId } : { type, nodeId, context });
    }));
});
