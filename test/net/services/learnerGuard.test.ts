// What a learner may serve (etcd 3.4's isRPCSupportedForLearner).
import test from 'ava';
import { supportedForLearner } from '../../../net/services/learnerGuard.js';

test('Status and serializable Ranges only', (t) => {
  t.true(supportedForLearner('/etcdserverpb.Maintenance/Status', {}));
  t.true(supportedForLearner('/etcdserverpb.KV/Range', { key: Buffer.from('k'), serializable: true }));
  t.false(supportedForLearner('/etcdserverpb.KV/Range', { key: Buffer.from('k'), serializable: false }));
  t.false(supportedForLearner('/etcdserverpb.KV/Range', null));
  for (const path of ['/etcdserverpb.KV/Put', '/etcdserverpb.Cluster/MemberList', '/etcdserverpb.Maintenance/HashKV', '/grpc.health.v1.Health/Check']) {
    t.false(supportedForLearner(path, {}), path);
  }
});
