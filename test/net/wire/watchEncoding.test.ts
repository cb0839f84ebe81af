// The watch stream's hand-written encoder against proto-loader: every response, decoded
// by the Watch method's own deserializer, must equal what proto-loader made of the wire
// object the service used to build (the oracle below), including int64 fields past 2^32,
// negative and 64-bit lease ids, and uint64 member ids past 2^63.

import test, { type ExecutionContext } from 'ava';
import type { KeyValue } from '../../../core/mvcc/types.js';
import type { WatchResponse } from '../../../core/watch/watchHub.js';
import { loadEtcdServices } from '../../../net/proto/load.js';
import { keyValue } from '../../../net/wire/kv.js';
import type { Wire, WireIds } from '../../../net/wire/message.js';
import { HeaderIds, type HeaderNumbers } from '../../../net/wire/protoWriter.js';
import { encodeWatchResponse } from '../../../net/wire/watchEncoding.js';

const watchMethod = loadEtcdServices().watch['Watch'];
if (watchMethod === undefined) throw new Error('no Watch method');
const method = watchMethod;

type Response = WatchResponse & { readonly fragment?: boolean };

/** The object path the service took before: a wire object proto-loader encodes. */
function oracle(r: Response, ids: WireIds, h: HeaderNumbers): Wire {
  return {
    header: { cluster_id: ids.clusterId, member_id: ids.memberId, revision: String(h.revision), raft_term: String(h.raftTerm) },
    watch_id: String(r.watchId),
    created: r.created,
    canceled: r.canceled,
    compact_revision: String(r.compactRevision),
    cancel_reason: r.cancelReason ?? '',
    fragment: r.fragment === true,
    events: r.events.map((e) => {
      const event: Wire = { type: e.type === 'put' ? 'PUT' : 'DELETE', kv: keyValue(e.kv) };
      if (e.prevKv !== null) event['prev_kv'] = keyValue(e.prevKv);
      return event;
    }),
  };
}

function kv(fields: Partial<KeyValue>): KeyValue {
  return {
    key: new TextEncoder().encode('foo'), createRevision: 2, modRevision: 3, version: 1, value: new Uint8Array([1, 2, 3]), lease: 0n,
    ...fields,
  };
}

function assertSame(t: ExecutionContext, r: Response, ids: WireIds, h: HeaderNumbers): void {
  const bytes = encodeWatchResponse(r, new HeaderIds(ids), h);
  const expected = method.responseSerialize(oracle(r, ids, h));
  t.deepEqual(method.responseDeserialize(bytes), method.responseDeserialize(expected));
  // The definition passes encoded bytes through unchanged (the service writes them).
  t.is(method.responseSerialize(bytes), bytes);
  // Proto3 defaults left out, as etcd's encoder does: never longer than proto-loader's.
  t.true(bytes.length <= expected.length, `${bytes.length} > ${expected.length}`);
}

const IDS: WireIds = { clusterId: '14841639068965178418', memberId: '10276657743932975437' };

test('events, progress, creation and cancellation decode as the object path encoded them', (t) => {
  const h = { revision: 42, raftTerm: 3 };
  assertSame(t, { watchId: 0, revision: 42, created: true, canceled: false, compactRevision: 0, events: [] }, IDS, h);
  assertSame(t, { watchId: 7, revision: 42, created: false, canceled: false, compactRevision: 0, events: [] }, IDS, h); // progress
  assertSame(t, {
    watchId: 1, revision: 42, created: false, canceled: false, compactRevision: 0,
    events: [
      { type: 'put', kv: kv({}), prevKv: null },
      { type: 'put', kv: kv({ version: 2, modRevision: 41 }), prevKv: kv({}) },
      { type: 'delete', kv: kv({ value: new Uint8Array(0), createRevision: 0, version: 0, modRevision: 42 }), prevKv: kv({ modRevision: 41 }) },
    ],
  }, IDS, h);
  assertSame(t, {
    watchId: 3, revision: 0, created: false, canceled: true, compactRevision: 17, cancelReason: 'mvcc: required revision has been compacted', events: [],
  }, IDS, { revision: 0, raftTerm: 3 });
  assertSame(t, { watchId: 2, revision: 9, created: false, canceled: false, compactRevision: 0, fragment: true, events: [{ type: 'put', kv: kv({}), prevKv: null }] }, IDS, h);
});

test('large and negative int64s, 64-bit lease ids, long keys and values, unicode reasons', (t) => {
  const big = 2 ** 53 - 1;
  const bigKv = kv({
    key: new Uint8Array(300).fill(0x61), value: new Uint8Array(70_000).fill(0xff),
    createRevision: 2 ** 32 + 5, modRevision: big, version: 2 ** 40, lease: 0x7fff_ffff_ffff_ffffn,
  });
  assertSame(t, {
    watchId: 2 ** 33, revision: big, created: false, canceled: false, compactRevision: 2 ** 35,
    events: [
      { type: 'put', kv: bigKv, prevKv: kv({ lease: -5n }) },
      { type: 'put', kv: kv({ lease: -(2n ** 63n) }), prevKv: null },
      { type: 'put', kv: kv({ lease: 1n }), prevKv: null },
    ],
  }, IDS, { revision: big, raftTerm: 2 ** 31 });
  assertSame(t, { watchId: -1, revision: 5, created: true, canceled: true, compactRevision: 0, cancelReason: 'permission denied — ✗', events: [] }, IDS, { revision: 5, raftTerm: 1 });
});

test('member and cluster ids of 0 and of all 64 bits', (t) => {
  const r: Response = { watchId: 1, revision: 3, created: false, canceled: false, compactRevision: 0, events: [{ type: 'put', kv: kv({}), prevKv: null }] };
  assertSame(t, r, { clusterId: '0', memberId: '0' }, { revision: 3, raftTerm: 1 });
  assertSame(t, r, { clusterId: '18446744073709551615', memberId: '1' }, { revision: 3, raftTerm: 1 });
  t.throws(() => new HeaderIds({ clusterId: '18446744073709551616', memberId: '1' }), { message: /not a uint64/ });
  t.throws(() => new HeaderIds({ clusterId: '-1', memberId: '1' }), { message: /not a uint64/ });
});
