// etcd's errors, as clients see them: a name and an exact message text. Clients
// (clientv3, etcdctl, the npm etcd3 client) match on the text, so the texts here are
// etcd 3.4's, character for character. The gRPC status code each one travels with is
// the wire's business (net/wire/status.ts).

const ERRORS = {
  emptyKey: 'etcdserver: key is not provided',
  keyNotFound: 'etcdserver: key not found',
  valueProvided: 'etcdserver: value is provided',
  leaseProvided: 'etcdserver: lease is provided',
  tooManyOps: 'etcdserver: too many operations in txn request',
  duplicateKey: 'etcdserver: duplicate key given in txn request',
  compacted: 'etcdserver: mvcc: required revision has been compacted',
  futureRev: 'etcdserver: mvcc: required revision is a future revision',
  noSpace: 'etcdserver: mvcc: database space exceeded',
  corrupt: 'etcdserver: corrupt cluster',
  leaseNotFound: 'etcdserver: requested lease not found',
  leaseExist: 'etcdserver: lease already exists',
  leaseTTLTooLarge: 'etcdserver: too large lease TTL',
  requestTooLarge: 'etcdserver: request is too large',
  noLeader: 'etcdserver: no leader',
  notLeader: 'etcdserver: not leader',
  leaderChanged: 'etcdserver: leader changed',
  timeout: 'etcdserver: request timed out',
  tooManyRequests: 'etcdserver: too many requests',
  stopped: 'etcdserver: server stopped',
  memberExist: 'etcdserver: member ID already exist',
  peerURLExist: 'etcdserver: Peer URLs already exists',
  memberBadURLs: 'etcdserver: given member URLs are invalid',
  memberNotFound: 'etcdserver: member not found',
  memberNotLearner: 'etcdserver: can only promote a learner member',
  learnerNotReady: 'etcdserver: can only promote a learner member which is in sync with leader',
  notSupportedForLearner: 'etcdserver: rpc not supported for learner',
  tooManyLearners: 'etcdserver: too many learner members in cluster',
  notEnoughStarted: 'etcdserver: re-configuration failed due to not enough started members',
  /** A removal that would leave fewer connected voters than a quorum (etcd's ErrUnhealthy, code Unavailable). */
  unhealthy: 'etcdserver: unhealthy cluster',
  badLeaderTransferee: 'etcdserver: bad leader transferee',
  timeoutLeaderTransfer: 'etcdserver: request timed out, leader transfer took too long',
  authNotEnabled: 'etcdserver: authentication is not enabled',
  rootUserNotExist: 'etcdserver: root user does not exist',
  userEmpty: 'etcdserver: user name is empty',
  userNotFound: 'etcdserver: user name not found',
  roleEmpty: 'etcdserver: role name is empty',
  roleNotFound: 'etcdserver: role name not found',
  rootRoleNotExist: 'etcdserver: root user does not have root role',
  userAlreadyExist: 'etcdserver: user name already exists',
  roleAlreadyExist: 'etcdserver: role name already exists',
  authFailed: 'etcdserver: authentication failed, invalid user ID or password',
  permissionNotGiven: 'etcdserver: permission not given',
  permissionDenied: 'etcdserver: permission denied',
  roleNotGranted: 'etcdserver: role is not granted to the user',
  permissionNotGranted: 'etcdserver: permission is not granted to the role',
  invalidAuthToken: 'etcdserver: invalid auth token',
  invalidAuthMgmt: 'etcdserver: invalid auth management',
  authOldRevision: 'etcdserver: revision of auth store is old',
  /** etcd 3.4 has no gRPC error for it: it reaches clients with code Unknown and auth/store.go's text. */
  noPasswordUser: 'auth: authentication failed, password was given for no password user',
  /** A JWT member with only a public key cannot sign (etcd's ErrVerifyOnly, code Unknown). */
  tokenVerifyOnly: 'auth: token signing attempted with verify-only key',
  /** The Election service's (clientv3/concurrency's ErrElectionNotLeader; code Unknown): the LeaderKey no longer leads. */
  electionNotLeader: 'election: not leader',
  /** The Election service's Leader with nobody campaigning (ErrElectionNoLeader; code Unknown). */
  electionNoLeader: 'election: no leader',
  /** Proclaim or Resign without a LeaderKey (v3election's ErrMissingLeaderKey; code Unknown). */
  electionMissingLeader: '"leader" field must be provided',
} as const satisfies Record<string, string>;

export type EtcdErrorName = keyof typeof ERRORS;

/** An error a client receives: etcd's name for it and its exact text. */
export interface EtcdError {
  readonly kind: 'etcdError';
  readonly name: EtcdErrorName;
  readonly message: string;
}

const INSTANCES = new Map<EtcdErrorName, EtcdError>(
  (Object.keys(ERRORS) as EtcdErrorName[]).map((name) => {
    return [name, { kind: 'etcdError', name, message: ERRORS[name] }];
  }),
);

export function etcdError(name: EtcdErrorName): EtcdError {
  const e = INSTANCES.get(name);
  if (e === undefined) throw new Error(`unknown etcd error ${name}`);
  return e;
}

export function isEtcdError(value: unknown): value is EtcdError {
  return typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'etcdError';
}
