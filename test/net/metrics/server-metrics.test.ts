// etcd 3.4's server, lease, health, auth, gRPC-message, gRPC-byte and fd families on Tern, beside
// real etcd: the same etcdctl session (a put, a get, a lease granted, renewed once and
// left to expire, a /health) leaves the same values on both, and each family has
// etcd's help and type lines. The member id and the fd counts differ by nature: for
// them only the shape of the line is compared.

import test from 'ava';
import { etcdctl, startEtcd, startTern, type Running, startBoth } from '../processes.js';

const COMPARED = [
  'etcd_server_is_learner', 'etcd_server_health_success', 'etcd_server_health_failures', 'etcd_debugging_auth_revision',
  'etcd_debugging_lease_granted_total', 'etcd_debugging_lease_revoked_total', 'etcd_debugging_lease_renewed_total',
  'etcd_debugging_server_lease_expired_total',
  'etcd_server_client_requests_total{client_api_version="3.4",type="unary"}',
  'etcd_server_client_requests_total{client_api_version="3.4",type="stream"}',
  ...['Put', 'Range', 'LeaseGrant'].flatMap((m) => ['received', 'sent'].map((way) =>
    `grpc_server_msg_${way}_total{grpc_method="${m}",grpc_service="etcdserverpb.${m === 'LeaseGrant' ? 'Lease' : 'KV'}",grpc_type="unary"}`)),
  ...['received', 'sent'].map((way) =>
    `grpc_server_msg_${way}_total{grpc_method="LeaseKeepAlive",grpc_service="etcdserverpb.Lease",grpc_type="bidi_stream"}`),
];
/** Lines whose value is the process's own: compared as a pattern. */
const SHAPED: readonly (readonly [string, RegExp])[] = [
  ['etcd_server_id', /^etcd_server_id\{server_id="[0-9a-f]+"\} 1$/],
  ['os_fd_used', /^os_fd_used [1-9][0-9]*$/],
  ['os_fd_limit', /^os_fd_limit [1-9][0-9]*$/],
];
const FAMILIES = [
  'etcd_server_id', 'etcd_server_is_learner', 'etcd_server_health_success', 'etcd_server_health_failures',
  'etcd_debugging_auth_revision', 'etcd_debugging_lease_granted_total', 'etcd_debugging_lease_revoked_total',
  'etcd_debugging_lease_renewed_total', 'etcd_debugging_server_lease_expired_total', 'etcd_server_client_requests_total',
  'grpc_server_msg_received_total', 'grpc_server_msg_sent_total', 'os_fd_used', 'os_fd_limit',
  'etcd_network_client_grpc_received_bytes_total', 'etcd_network_client_grpc_sent_bytes_total',
];
/** Bytes: the requests are etcdctl's (the same on both but for the lease id etcdctl echoes); the answers carry each server's headers. */
const BYTES = ['etcd_network_client_grpc_received_bytes_total', 'etcd_network_client_grpc_sent_bytes_total'];
/** A lease that etcd (and Tern) revokes soon after: the minimum TTL with the default election timeout. */
const TTL_SECONDS = 2;
/** How long a lease may take to be revoked on a loaded machine before the test gives up. */
const EXPIRY_LIMIT_MS = 60_000;

async function scrape(endpoint: string): Promise<string[]> {
  return (await (await fetch(`http://${endpoint}/metrics`)).text()).split('\n');
}

async function session(server: Running): Promise<{ values: string[]; shapes: boolean[]; described: string[]; bytes: number[] }> {
  const ep = server.endpoint;
  const run = async (args: string[]): Promise<string> => {
    const out = await etcdctl(ep, args);
    if (out.code !== 0) throw new Error(`etcdctl ${args.join(' ')} failed on ${ep}: ${out.stderr}`);
    return out.stdout;
  };
  await run(['put', 'a', 'b']);
  await run(['get', 'a']);
  const lease = /lease ([0-9a-f]+) granted/.exec(await run(['lease', 'grant', String(TTL_SECONDS)]))?.[1] ?? 'none';
  await run(['lease', 'keep-alive', '--once', lease]);
  // Wait for the revoke of the expired lease by reading the metric itself (no sleeping on a guess).
  const until = Date.now() + EXPIRY_LIMIT_MS;
  while (!(await scrape(ep)).includes('etcd_debugging_server_lease_expired_total 1')) {
    if (Date.now() > until) throw new Error(`${ep}: lease ${lease} not revoked within ${EXPIRY_LIMIT_MS} ms`);
    await new Promise((resolve) => { setTimeout(resolve, 200); });
  }
  if ((await fetch(`http://${ep}/health`)).status !== 200) throw new Error(`${ep} is not healthy`);
  const lines = await scrape(ep);
  return {
    values: COMPARED.map((name) => lines.find((l) => l.startsWith(`${name} `)) ?? `${name} MISSING`),
    shapes: SHAPED.map(([name, shape]) => lines.some((l) => l.startsWith(name) && shape.test(l))),
    bytes: BYTES.map((name) => Number(lines.find((l) => l.startsWith(`${name} `))?.slice(name.length + 1) ?? 'NaN')),
    described: FAMILIES.flatMap((name) => lines.filter((l) => l.startsWith(`# HELP ${name} `) || l.startsWith(`# TYPE ${name} `))),
  };
}

test('the server, lease, health, auth, gRPC message and fd families read on Tern as on etcd 3.4', async (t) => {
  const [tern, etcd] = await startBoth(startTern(), startEtcd());
  t.teardown(async () => { await Promise.all([tern.stop(), etcd.stop()]); });
  const [ours, theirs] = await Promise.all([session(tern), session(etcd)]);
  t.deepEqual(ours.values, theirs.values);
  t.deepEqual(theirs.shapes, SHAPED.map(() => true), 'etcd prints these lines so');
  t.deepEqual(ours.shapes, theirs.shapes);
  t.deepEqual(ours.described, theirs.described);
  t.is(ours.described.length, FAMILIES.length * 2);
  // etcdctl's requests are byte for byte the same on both here (the lease ids both servers
  // draw take as many varint bytes); the answers' headers (member id, term) differ in size.
  t.is(ours.bytes[0], theirs.bytes[0], 'bytes received');
  t.true((ours.bytes[1] ?? 0) > 0 && (theirs.bytes[1] ?? 0) > 0, `bytes sent: Tern ${String(ours.bytes[1])}, etcd ${String(theirs.bytes[1])}`);
  // What etcd 3.4.23 printed for this session, so that a drift on both sides shows too.
  t.deepEqual(ours.values.slice(0, 10), [
    'etcd_server_is_learner 0', 'etcd_server_health_success 1', 'etcd_server_health_failures 0', 'etcd_debugging_auth_revision 1',
    'etcd_debugging_lease_granted_total 1', 'etcd_debugging_lease_revoked_total 1', 'etcd_debugging_lease_renewed_total 1',
    'etcd_debugging_server_lease_expired_total 1',
    'etcd_server_client_requests_total{client_api_version="3.4",type="unary"} 3',
    'etcd_server_client_requests_total{client_api_version="3.4",type="stream"} 1',
  ]);
});
