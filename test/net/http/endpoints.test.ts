// HTTP on the client port, beside gRPC, as etcd 3.4 serves it: /version, /health and
// /metrics answer as real etcd's do (compared side by side), gRPC keeps working on the
// same port, and the metrics move with the traffic.
import test from 'ava';
import { httpEndpoints } from '../../../net/http/endpoints.js';
import { etcdctl, freePort, startEtcd, startTern, type Running, startBoth } from '../processes.js';

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly contentType: string | null;
}

async function get(endpoint: string, path: string, method = 'GET'): Promise<Answer> {
  const response = await fetch(`http://${endpoint}${path}`, { method });
  return { status: response.status, body: await response.text(), contentType: response.headers.get('content-type') };
}

/** The value of an unlabelled series, or of the first series whose line starts with `prefix`. */
function sample(metrics: string, prefix: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`${prefix} `) || (prefix.endsWith('}') && l.startsWith(prefix)));
  if (line === undefined) return Number.NaN;
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

async function both<T>(body: (tern: Running, etcd: Running) => Promise<T>): Promise<T> {
  const [tern, etcd] = await startBoth(startTern(), startEtcd());
  try {
    return await body(tern, etcd);
  } finally {
    await Promise.all([tern.stop(), etcd.stop()]);
  }
}

test('/version, /health and unknown paths answer as etcd 3.4 does', async (t) => {
  await both(async (tern, etcd) => {
    for (const [path, method] of [['/version', 'GET'], ['/health', 'GET'], ['/health', 'POST'], ['/version', 'PUT'], ['/nope', 'GET']] as const) {
      const [ours, theirs] = await Promise.all([get(tern.endpoint, path, method), get(etcd.endpoint, path, method)]);
      t.deepEqual(ours, theirs, `${method} ${path}`);
    }
    t.is((await get(tern.endpoint, '/version')).body, '{"etcdserver":"3.4.23","etcdcluster":"3.4.0"}');
    t.is((await get(tern.endpoint, '/health')).body, '{"health":"true"}');
  });
});

test('/metrics carries the series etcd dashboards read, under etcd\'s names and types', async (t) => {
  await both(async (tern, etcd) => {
    const [ours, theirs] = await Promise.all([get(tern.endpoint, '/metrics'), get(etcd.endpoint, '/metrics')]);
    t.is(ours.status, 200);
    t.is(ours.contentType, theirs.contentType);
    const names = [
      'etcd_server_has_leader', 'etcd_server_is_leader', 'etcd_server_leader_changes_seen_total',
      'etcd_server_proposals_committed_total', 'etcd_server_proposals_applied_total', 'etcd_server_proposals_pending',
      'etcd_server_proposals_failed_total', 'etcd_disk_wal_fsync_duration_seconds', 'etcd_disk_backend_commit_duration_seconds',
      'etcd_mvcc_db_total_size_in_bytes', 'etcd_debugging_mvcc_keys_total', 'etcd_network_peer_round_trip_time_seconds',
      'grpc_server_started_total', 'grpc_server_handled_total', 'process_resident_memory_bytes',
    ];
    const typeLine = (text: string, name: string): string | undefined => text.split('\n').find((l) => l.startsWith(`# TYPE ${name} `));
    for (const name of names) {
      t.truthy(typeLine(ours.body, name), `Tern exposes ${name}`);
      // etcd registers the peer RTT histogram only once it has peers.
      if (name !== 'etcd_network_peer_round_trip_time_seconds') t.is(typeLine(ours.body, name), typeLine(theirs.body, name), name);
    }
    // The wal fsync histogram has etcd's buckets.
    const buckets = (text: string): string[] => text.split('\n')
      .filter((l) => l.startsWith('etcd_disk_wal_fsync_duration_seconds_bucket')).map((l) => l.slice(0, l.lastIndexOf(' ')));
    t.deepEqual(buckets(ours.body), buckets(theirs.body));
    t.is(sample(ours.body, 'etcd_server_has_leader'), 1);
    t.is(sample(ours.body, 'etcd_server_is_leader'), 1);
    t.is(sample(ours.body, 'etcd_server_leader_changes_seen_total'), 1);
    // The version gauges, line for line as etcd's.
    for (const line of ['etcd_server_version{server_version="3.4.23"} 1', 'etcd_cluster_version{cluster_version="3.4"} 1']) {
      t.true(theirs.body.split('\n').includes(line), `etcd: ${line}`);
      t.true(ours.body.split('\n').includes(line), `Tern: ${line}`);
    }
  });
});

test('gRPC works on the same port, and the metrics count what it did', async (t) => {
  const tern = await startTern();
  try {
    const before = (await get(tern.endpoint, '/metrics')).body;
    for (let i = 0; i < 5; i++) t.is((await etcdctl(tern.endpoint, ['put', `k${i}`, 'v'])).code, 0);
    t.is((await etcdctl(tern.endpoint, ['get', 'k0', '--print-value-only'])).stdout, 'v\n');
    const after = (await get(tern.endpoint, '/metrics')).body;
    const put = 'grpc_server_handled_total{grpc_code="OK",grpc_method="Put",grpc_service="etcdserverpb.KV",grpc_type="unary"}';
    t.is(sample(after, put), 5);
    t.is(sample(after, 'grpc_server_started_total{grpc_method="Range",grpc_service="etcdserverpb.KV",grpc_type="unary"}'), 1);
    t.is(sample(after, 'etcd_debugging_mvcc_keys_total'), 5);
    t.true(sample(after, 'etcd_server_proposals_applied_total') >= sample(before, 'etcd_server_proposals_applied_total') + 5);
    t.true(sample(after, 'etcd_disk_wal_fsync_duration_seconds_count') > sample(before, 'etcd_disk_wal_fsync_duration_seconds_count'));
    t.true(sample(after, 'etcd_disk_backend_commit_duration_seconds_count') > 0);
    t.true(sample(after, 'etcd_mvcc_db_total_size_in_bytes') > 0);
    t.is(sample(after, 'etcd_server_proposals_pending'), 0);
  } finally {
    await tern.stop();
  }
});

test('--listen-metrics-urls serves /metrics and /health only', async (t) => {
  const port = await freePort();
  const tern = await startTern({ extraArgs: ['--listen-metrics-urls', `http://127.0.0.1:${port}`] });
  try {
    const endpoint = `127.0.0.1:${port}`;
    t.is((await get(endpoint, '/health')).body, '{"health":"true"}');
    t.regex((await get(endpoint, '/metrics')).body, /^etcd_server_has_leader 1$/m);
    t.is((await get(endpoint, '/version')).status, 404);
  } finally {
    await tern.stop();
  }
});

test('/health without a leader: 503 and etcd 3.4\'s body (observed on a member whose peer was stopped)', async (t) => {
  const server = httpEndpoints({ healthy: () => Promise.resolve(false), metrics: () => Promise.resolve({ contentType: 'text/plain', body: '' }) });
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve); });
  try {
    const address = server.address();
    const port = typeof address === 'object' && address !== null ? address.port : 0;
    const response = await fetch(`http://127.0.0.1:${port}/health`);
    t.is(response.status, 503);
    t.is(await response.text(), '{"health":"false"}\n');
    t.is(response.headers.get('x-content-type-options'), 'nosniff');
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => { server.close(resolve); });
  }
});
