// etcd's errors, as clients see them: a gRPC status code and an exact message text.
// Clients (clientv3, etcdctl, the npm etcd3 client) match on the text, so the texts
// here are etcd 3.4's, character for character.

export type GrpcCode =
  | 'InvalidArgument' | 'OutOfRange' | 'NotFound' | 'FailedPrecondition' | 'ResourceExhausted'
  | 'Unavailable' | 'PermissionDenied' | 'Unauthenticated' | 'Canceled' | 'DataLoss';

const ERRORS = {
  emptyKey: ['InvalidArgument', 'etcdserver: key is not provided'],
  keyNotFound: ['InvalidArgument', 'etcdserver: key not found'],
  valueProvided: ['InvalidArgument', 'etcdserver: value is provided'],
  leaseProvided: ['InvalidArgument', 'etcdserver: lease is provided'],
  tooManyOps: ['InvalidArgument', 'etcdserver: too many operations in txn request'],
  duplicateKey: ['InvalidArgument', 'etcdserver: duplicate key given in txn request'],
  compacted: ['OutOfRange', 'etcdserver: mvcc: required revision has been compacted'],
  futureRev: ['OutOfRange', 'etcdserver: mvcc: required revision is a future revision'],
  noSpace: ['ResourceExhausted', 'etcdserver: mvcc: database space exceeded'],
  leaseNotFound: ['NotFound', 'etcdserver: requested lease not found'],
  leaseExist: ['FailedPrecondition', 'etcdserver: lease already exists'],
  leaseTTLTooLarge: ['OutOfRange', 'etcdserver: too large lease TTL'],
  requestTooLarge: ['InvalidArgument', 'etcdserver: request is too large'],
  noLeader: ['Unavailable', 'etcdserver: no leader'],
  notLeader: ['FailedPrecondition', 'etcdserver: not leader'],
  leaderChanged: ['Unavailable', 'etcdserver: leader changed'],
  timeout: ['Unavailable', 'etcdserver: request timed out'],
  tooManyRequests: ['ResourceExhausted', 'etcdserver: too many requests'],
  stopped: ['Unavailable', 'etcdserver: server stopped'],
  memberExist: ['FailedPrecondition', 'etcdserver: member ID already exist'],
  peerURLExist: ['FailedPrecondition', 'etcdserver: Peer URLs already exists'],
  memberBadURLs: ['InvalidArgument', 'etcdserver: given member URLs are invalid'],
  memberNotFound: ['NotFound', 'etcdserver: member not found'],
  memberNotLearner: ['FailedPrecondition', 'etcdserver: can only promote a learner member'],
  tooManyLearners: ['FailedPrecondition', 'etcdserver: too many learner members in cluster'],
  notEnoughStarted: ['FailedPrecondition', 'etcdserver: re-configuration failed due to not enough started members'],
  badLeaderTransferee: ['FailedPrecondition', 'etcdserver: bad leader transferee'],
  timeoutLeaderTransfer: ['Unavailable', 'etcdserver: request timed out, leader transfer took too long'],
  authNotEnabled: ['FailedPrecondition', 'etcdserver: authentication is not enabled'],
  rootUserNotExist: ['FailedPrecondition', 'etcdserver: root user does not exist'],
  userEmpty: ['InvalidArgument', 'etcdserver: user name is empty'],
  userNotFound: ['FailedPrecondition', 'etcdserver: user name not found'],
  roleEmpty: ['InvalidArgument', 'etcdserver: role name is empty'],
  roleNotFound: ['FailedPrecondition', 'etcdserver: role name not found'],
  rootRoleNotExist: ['FailedPrecondition', 'etcdserver: root user does not have root role'],
  userAlreadyExist: ['FailedPrecondition', 'etcdserver: user name already exists'],
  roleAlreadyExist: ['FailedPrecondition', 'etcdserver: role name already exists'],
  authFailed: ['InvalidArgument', 'etcdserver: authentication failed, invalid user ID or password'],
  permissionNotGiven: ['InvalidArgument', 'etcdserver: permission not given'],
  permissionDenied: ['PermissionDenied', 'etcdserver: permission denied'],
  roleNotGranted: ['FailedPrecondition', 'etcdserver: role is not granted to the user'],
  permissionNotGranted: ['FailedPrecondition', 'etcdserver: permission is not granted to the role'],
  invalidAuthToken: ['Unauthenticated', 'etcdserver: invalid auth token'],
  invalidAuthMgmt: ['InvalidArgument', 'etcdserver: invalid auth management'],
  authOldRevision: ['InvalidArgument', 'etcdserver: revision of auth store is old'],
} as const satisfies Record<string, readonly [GrpcCode, string]>;

export type EtcdErrorName = keyof typeof ERRORS;

/** An error a client receives: etcd's name for it, its gRPC code and exact text. */
export interface EtcdError {
  readonly kind: 'etcdError';
  readonly name: EtcdErrorName;
  readonly code: GrpcCode;
  readonly message: string;
}

const INSTANCES = new Map<EtcdErrorName, EtcdError>(
  (Object.keys(ERRORS) as EtcdErrorName[]).map((name) => {
    const [code, message] = ERRORS[name];
    return [name, { kind: 'etcdError', name, code, message }];
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
