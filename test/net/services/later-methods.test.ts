// etcd 3.5's AuthStatus and Downgrade on a server that, as etcd 3.4, does not serve
// them: grpc-go's UNIMPLEMENTED text, not grpc-js's, and no gRPC metrics for the call.
import test from 'ava';
import * as grpc from '@grpc/grpc-js';
import { grpcMetricsInterceptor } from '../../../net/metrics/grpcMetrics.js';
import { MemberMetrics } from '../../../net/metrics/memberMetrics.js';
import { addLaterMethods, unknownMethodText } from '../../../net/services/laterMethods.js';

function call(client: grpc.Client, path: string): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => {
    const bytes = (b: Buffer): Buffer => b;
    client.makeUnaryRequest(path, bytes, bytes, Buffer.alloc(0), (error) => { resolve(error); });
  });
}

test('unknownMethodText is grpc-go\'s', (t) => {
  t.is(unknownMethodText('/etcdserverpb.Auth/AuthStatus'), 'unknown method AuthStatus for service etcdserverpb.Auth');
});

test('AuthStatus and Downgrade answer as etcd 3.4 does, and are not counted', async (t) => {
  const metrics = new MemberMetrics();
  const server = new grpc.Server({ interceptors: [grpcMetricsInterceptor(metrics)] });
  addLaterMethods(server);
  t.throws(() => { addLaterMethods(server); }, { message: /already served/ });
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => { if (e === null) resolve(p); else reject(e); });
  });
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  t.teardown(() => { client.close(); server.forceShutdown(); });
  const status = await call(client, '/etcdserverpb.Auth/AuthStatus');
  t.is(status?.code, grpc.status.UNIMPLEMENTED);
  t.is(status?.details, 'unknown method AuthStatus for service etcdserverpb.Auth');
  const downgrade = await call(client, '/etcdserverpb.Maintenance/Downgrade');
  t.is(downgrade?.code, grpc.status.UNIMPLEMENTED);
  t.is(downgrade?.details, 'unknown method Downgrade for service etcdserverpb.Maintenance');
  const { body } = await metrics.exposition();
  t.false(body.includes('AuthStatus'));
  t.false(body.includes('Downgrade'));
});
