// The gateway's paths, as etcd 3.4's generated gateways (rpc.pb.gw.go, v3lock.pb.gw.go,
// v3election.pb.gw.go) bind them: every RPC of KV, Watch, Lease, Cluster, Maintenance,
// Auth, Lock and Election, POST only, under /v3/ (the
// server rewrites /v3beta/ to /v3/ first; /v3alpha/ is not served by 3.4). The paths are
// etcd's choice and not derivable from the protos (compaction, deleterange, changepw,
// transfer-leadership), so they are listed; everything else comes from the descriptors.
//
// Quirks kept: three lease RPCs also answer under /v3/kv/lease/, and Hash and HashKV
// share /v3/maintenance/hash, where Hash (registered first) wins: 3.4's gateway cannot
// reach HashKV.

const KV = 'etcdserverpb.KV';
const LEASE = 'etcdserverpb.Lease';
const CLUSTER = 'etcdserverpb.Cluster';
const MAINTENANCE = 'etcdserverpb.Maintenance';
const AUTH = 'etcdserverpb.Auth';
const LOCK = 'v3lockpb.Lock';
const ELECTION = 'v3electionpb.Election';

const TABLE: readonly (readonly [string, string, string])[] = [
  ['kv/range', KV, 'Range'], ['kv/put', KV, 'Put'], ['kv/deleterange', KV, 'DeleteRange'], ['kv/txn', KV, 'Txn'], ['kv/compaction', KV, 'Compact'],
  ['watch', 'etcdserverpb.Watch', 'Watch'],
  ['lease/grant', LEASE, 'LeaseGrant'], ['lease/revoke', LEASE, 'LeaseRevoke'], ['kv/lease/revoke', LEASE, 'LeaseRevoke'],
  ['lease/keepalive', LEASE, 'LeaseKeepAlive'], ['lease/timetolive', LEASE, 'LeaseTimeToLive'], ['kv/lease/timetolive', LEASE, 'LeaseTimeToLive'],
  ['lease/leases', LEASE, 'LeaseLeases'], ['kv/lease/leases', LEASE, 'LeaseLeases'],
  ['cluster/member/add', CLUSTER, 'MemberAdd'], ['cluster/member/remove', CLUSTER, 'MemberRemove'], ['cluster/member/update', CLUSTER, 'MemberUpdate'],
  ['cluster/member/list', CLUSTER, 'MemberList'], ['cluster/member/promote', CLUSTER, 'MemberPromote'],
  ['maintenance/alarm', MAINTENANCE, 'Alarm'], ['maintenance/status', MAINTENANCE, 'Status'], ['maintenance/defragment', MAINTENANCE, 'Defragment'],
  ['maintenance/hash', MAINTENANCE, 'Hash'], ['maintenance/snapshot', MAINTENANCE, 'Snapshot'], ['maintenance/transfer-leadership', MAINTENANCE, 'MoveLeader'],
  ['auth/enable', AUTH, 'AuthEnable'], ['auth/disable', AUTH, 'AuthDisable'], ['auth/authenticate', AUTH, 'Authenticate'],
  ['auth/user/add', AUTH, 'UserAdd'], ['auth/user/get', AUTH, 'UserGet'], ['auth/user/list', AUTH, 'UserList'], ['auth/user/delete', AUTH, 'UserDelete'],
  ['auth/user/changepw', AUTH, 'UserChangePassword'], ['auth/user/grant', AUTH, 'UserGrantRole'], ['auth/user/revoke', AUTH, 'UserRevokeRole'],
  ['auth/role/add', AUTH, 'RoleAdd'], ['auth/role/get', AUTH, 'RoleGet'], ['auth/role/list', AUTH, 'RoleList'], ['auth/role/delete', AUTH, 'RoleDelete'],
  ['auth/role/grant', AUTH, 'RoleGrantPermission'], ['auth/role/revoke', AUTH, 'RoleRevokePermission'],
  ['lock/lock', LOCK, 'Lock'], ['lock/unlock', LOCK, 'Unlock'],
  ['election/campaign', ELECTION, 'Campaign'], ['election/proclaim', ELECTION, 'Proclaim'], ['election/leader', ELECTION, 'Leader'],
  ['election/observe', ELECTION, 'Observe'], ['election/resign', ELECTION, 'Resign'],
];

export interface Route {
  /** The proto service's full name (etcdserverpb.KV). */
  readonly service: string;
  readonly method: string;
  /** The gRPC method path (/etcdserverpb.KV/Range). */
  readonly grpcPath: string;
}

/** Every gateway path (/v3/kv/range) and the RPC it calls. */
export const ROUTES: ReadonlyMap<string, Route> = new Map(TABLE.map(([path, service, method]) => [
  `/v3/${path}`, { service, method, grpcPath: `/${service}/${method}` },
]));
