// Txn responses on the wire as etcd 3.4 shapes them (etcdserver/apply.go): the
// top-level header carries the txn's revision; every range, put and delete inside
// carries its own; a nested txn's header stays empty (revision 0), as newTxnResp makes
// it. Found by the RBAC differential against real etcd.
import test from 'ava';
import type { TxnResponse } from '../../../core/mvcc/types.js';
import { txnResponse } from '../../../net/wire/kv.js';

test('a nested txn response has an empty header; the ops inside keep their revisions', (t) => {
  const nested: TxnResponse = {
    revision: 7, succeeded: false,
    responses: [{ put: { revision: 7, prevKv: null } }, { range: { revision: 7, kvs: [], more: false, count: 0 } }],
  };
  const wire = txnResponse({ revision: 7, succeeded: true, responses: [{ txn: nested }] }, { revision: '7' });
  t.deepEqual(wire, {
    header: { revision: '7' }, succeeded: true,
    responses: [{
      response_txn: {
        header: {}, succeeded: false,
        responses: [
          { response_put: { header: { revision: '7' } } },
          { response_range: { header: { revision: '7' }, kvs: [], more: false, count: '0' } },
        ],
      },
    }],
  });
});
