// Range, Put, DeleteRange and Txn responses written by hand against proto-loader: each,
// decoded by its method's deserializer, must equal what proto-loader made of the wire
// object the KV service built before (./wireObjects.ts), sub-response headers included.

import test, { type ExecutionContext } from 'ava';
import type { DeleteRangeResponse, KeyValue, PutResponse, RangeResponse, TxnResponse } from '../../../core/mvcc/types.js';
import { loadEtcdServices } from '../../../net/proto/load.js';
import { deleteRangeResponse, putResponse, rangeResponse, txnResponse } from './wireObjects.js';
import { encodeDeleteRangeResponse, encodePutResponse, encodeRangeResponse, encodeTxnResponse } from '../../../net/wire/kvEncoding.js';
import type { Wire, WireIds } from '../../../net/wire/message.js';
import { HeaderIds, type HeaderNumbers } from '../../../net/wire/protoWriter.js';

const kvService = loadEtcdServices().kv;

const IDS: WireIds = { clusterId: '14841639068965178418', memberId: '10276657743932975437' };
const HEADER: HeaderNumbers = { revision: 2 ** 40 + 3, raftTerm: 7 };

function wireHead(h: HeaderNumbers): Wire {
  return { cluster_id: IDS.clusterId, member_id: IDS.memberId, revision: String(h.revision), raft_term: String(h.raftTerm) };
}

function kv(fields: Partial<KeyValue>): KeyValue {
  return {
    key: new TextEncoder().encode('foo'), createRevision: 2, modRevision: 3, version: 1, value: new TextEncoder().encode('bar'), lease: 0n,
    ...fields,
  };
}

function assertSame(t: ExecutionContext, methodName: string, bytes: Buffer, oracle: Wire): void {
  const method = kvService[methodName];
  if (method === undefined) throw new Error(`no ${methodName}`);
  const expected = method.responseSerialize(oracle);
  t.deepEqual(method.responseDeserialize(bytes), method.responseDeserialize(expected), methodName);
  t.is(method.responseSerialize(bytes), bytes, 'encoded bytes pass through the definition');
  t.true(bytes.length <= expected.length);
}

const ids = new HeaderIds(IDS);

test('range responses: empty, several kvs, keys only, more and count, 64-bit leases', (t) => {
  const cases: RangeResponse[] = [
    { revision: 1, kvs: [], more: false, count: 0 },
    { revision: 9, kvs: [kv({}), kv({ key: new Uint8Array([0, 255]), value: new Uint8Array(0), lease: 0x7fff_ffff_ffff_ffffn })], more: true, count: 2 ** 33 },
    { revision: 9, kvs: [kv({ value: new Uint8Array(0) })], more: false, count: 1 }, // keys only
    { revision: 9, kvs: [], more: false, count: 5 }, // count only
    { revision: 9, kvs: [kv({ value: new Uint8Array(1 << 20).fill(7), lease: -3n, version: 2 ** 45 })], more: false, count: 1 },
  ];
  for (const r of cases) assertSame(t, 'Range', encodeRangeResponse(r, ids, HEADER), rangeResponse(r, wireHead(HEADER)));
});

test('put responses, with and without prev_kv', (t) => {
  const cases: PutResponse[] = [
    { revision: 4, prevKv: null },
    { revision: 4, prevKv: kv({ lease: 42n }) },
  ];
  for (const r of cases) assertSame(t, 'Put', encodePutResponse(r, ids, HEADER), putResponse(r, wireHead(HEADER)));
});

test('delete range responses: nothing deleted, several with prev_kvs', (t) => {
  const cases: DeleteRangeResponse[] = [
    { revision: 4, deleted: 0, prevKvs: [] },
    { revision: 5, deleted: 3, prevKvs: [] },
    { revision: 5, deleted: 2, prevKvs: [kv({}), kv({ key: new TextEncoder().encode('zoo'), modRevision: 2 ** 50 })] },
  ];
  for (const r of cases) assertSame(t, 'DeleteRange', encodeDeleteRangeResponse(r, ids, HEADER), deleteRangeResponse(r, wireHead(HEADER)));
});

test('a header of revision 0 and term 0 still goes out (etcd always sends the header)', (t) => {
  const zero = { revision: 0, raftTerm: 0 };
  const bytes = encodePutResponse({ revision: 0, prevKv: null }, new HeaderIds({ clusterId: '0', memberId: '0' }), zero);
  t.deepEqual([...bytes], [0x0a, 0x00]);
});

test('txn responses: failed and succeeded, every kind of op, nested txns keep an empty header', (t) => {
  const range: RangeResponse = { revision: 9, kvs: [kv({}), kv({ key: new TextEncoder().encode('fop') })], more: true, count: 3 };
  const nested: TxnResponse = {
    revision: 9, succeeded: false,
    responses: [{ put: { revision: 9, prevKv: null } }, { range: { revision: 9, kvs: [], more: false, count: 0 } }],
  };
  const cases: TxnResponse[] = [
    { revision: 8, succeeded: false, responses: [] },
    { revision: 8, succeeded: true, responses: [] },
    {
      revision: 2 ** 36, succeeded: true,
      responses: [
        { range }, { put: { revision: 2 ** 36, prevKv: kv({ lease: -(2n ** 63n) }) } },
        { deleteRange: { revision: 2 ** 36, deleted: 2, prevKvs: [kv({})] } },
        { txn: nested }, { txn: { revision: 9, succeeded: true, responses: [{ txn: nested }] } },
      ],
    },
  ];
  for (const r of cases) assertSame(t, 'Txn', encodeTxnResponse(r, ids, HEADER), txnResponse(r, wireHead(HEADER)));
});
