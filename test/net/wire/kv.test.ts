// Txn responses on the wire as etcd 3.4 shapes them (etcdserver/apply.go): the
// top-level header carries the txn's revision and the member's ids and term; every
// range, put and delete inside carries its own revision only; a nested txn's header
// stays empty (revision 0), as newTxnResp makes it. Found by the RBAC differential
// against real etcd. Checked on the bytes the KV service sends (kvEncoding.ts).
import test from 'ava';
import type { TxnResponse } from '../../../core/mvcc/types.js';
import { loadEtcdServices } from '../../../net/proto/load.js';
import { encodeTxnResponse } from '../../../net/wire/kvEncoding.js';
import { HeaderIds } from '../../../net/wire/protoWriter.js';

test('a nested txn response has an empty header; the ops inside keep their revisions', (t) => {
  const nested: TxnResponse = {
    revision: 7, succeeded: false,
    responses: [{ put: { revision: 7, prevKv: null } }, { range: { revision: 7, kvs: [], more: false, count: 0 } }],
  };
  const bytes = encodeTxnResponse({ revision: 7, succeeded: true, responses: [{ txn: nested }] },
    new HeaderIds({ clusterId: '11', memberId: '22' }), { revision: 7, raftTerm: 3 });
  const txn = loadEtcdServices().kv['Txn'];
  if (txn === undefined) throw new Error('no Txn method');
  const noIds = { cluster_id: '0', member_id: '0', raft_term: '0' };
  t.deepEqual(txn.responseDeserialize(bytes), {
    header: { cluster_id: '11', member_id: '22', revision: '7', raft_term: '3' }, succeeded: true,
    responses: [{
      response: 'response_txn',
      response_txn: {
        header: { ...noIds, revision: '0' }, succeeded: false,
        responses: [
          { response: 'response_put', response_put: { header: { ...noIds, revision: '7' }, prev_kv: null } },
          { response: 'response_range', response_range: { header: { ...noIds, revision: '7' }, kvs: [], more: false, count: '0' } },
        ],
      },
    }],
  });
});
