// etcd's errors reach clients as etcd 3.4's gRPC codes with etcd's exact text: clients
// retry on Unavailable, and clientv3 maps the text back to its typed errors.
import * as grpc from '@grpc/grpc-js';
import test from 'ava';
import { etcdError, type EtcdErrorName } from '../../../core/errors.js';
import { grpcError } from '../../../net/wire/status.js';

const ETCD_34: readonly [EtcdErrorName, grpc.status][] = [
  ['emptyKey', grpc.status.INVALID_ARGUMENT],
  ['requestTooLarge', grpc.status.INVALID_ARGUMENT],
  ['compacted', grpc.status.OUT_OF_RANGE],
  ['futureRev', grpc.status.OUT_OF_RANGE],
  ['leaseTTLTooLarge', grpc.status.OUT_OF_RANGE],
  ['noSpace', grpc.status.RESOURCE_EXHAUSTED],
  ['leaseNotFound', grpc.status.NOT_FOUND],
  ['memberNotFound', grpc.status.NOT_FOUND],
  ['leaseExist', grpc.status.FAILED_PRECONDITION],
  ['notLeader', grpc.status.FAILED_PRECONDITION],
  ['userNotFound', grpc.status.FAILED_PRECONDITION],
  ['noLeader', grpc.status.UNAVAILABLE],
  ['leaderChanged', grpc.status.UNAVAILABLE],
  ['timeout', grpc.status.UNAVAILABLE],
  ['timeoutLeaderTransfer', grpc.status.UNAVAILABLE],
];

test('each etcd error travels with etcd 3.4\'s gRPC code and its exact text', (t) => {
  for (const [name, code] of ETCD_34) {
    t.deepEqual(grpcError(etcdError(name)), { code, details: etcdError(name).message }, name);
  }
  t.is(grpcError(etcdError('compacted')).details, 'etcdserver: mvcc: required revision has been compacted');
});
