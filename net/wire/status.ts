// etcd's errors as gRPC statuses: the code each etcd 3.4 error travels with
// (etcdserver/api/v3rpc/rpctypes), and etcd's exact text as the details, which is what
// clients match on. The core names the error and holds its text (core/errors.ts); the
// code is a wire concept and lives here. Every error has a row: the type checker refuses
// a new core error until it is given its code.

import * as grpc from '@grpc/grpc-js';
import type { EtcdError, EtcdErrorName } from '../../core/errors.js';

const GRPC_CODES: Readonly<Record<EtcdErrorName, grpc.status>> = {
  emptyKey: grpc.status.INVALID_ARGUMENT,
  keyNotFound: grpc.status.INVALID_ARGUMENT,
  valueProvided: grpc.status.INVALID_ARGUMENT,
  leaseProvided: grpc.status.INVALID_ARGUMENT,
  tooManyOps: grpc.status.INVALID_ARGUMENT,
  duplicateKey: grpc.status.INVALID_ARGUMENT,
  compacted: grpc.status.OUT_OF_RANGE,
  futureRev: grpc.status.OUT_OF_RANGE,
  noSpace: grpc.status.RESOURCE_EXHAUSTED,
  corrupt: grpc.status.DATA_LOSS,
  leaseNotFound: grpc.status.NOT_FOUND,
  leaseExist: grpc.status.FAILED_PRECONDITION,
  leaseTTLTooLarge: grpc.status.OUT_OF_RANGE,
  requestTooLarge: grpc.status.INVALID_ARGUMENT,
  noLeader: grpc.status.UNAVAILABLE,
  notLeader: grpc.status.FAILED_PRECONDITION,
  leaderChanged: grpc.status.UNAVAILABLE,
  timeout: grpc.status.UNAVAILABLE,
  tooManyRequests: grpc.status.RESOURCE_EXHAUSTED,
  stopped: grpc.status.UNAVAILABLE,
  memberExist: grpc.status.FAILED_PRECONDITION,
  peerURLExist: grpc.status.FAILED_PRECONDITION,
  memberBadURLs: grpc.status.INVALID_ARGUMENT,
  memberNotFound: grpc.status.NOT_FOUND,
  memberNotLearner: grpc.status.FAILED_PRECONDITION,
  learnerNotReady: grpc.status.FAILED_PRECONDITION,
  notSupportedForLearner: grpc.status.UNAVAILABLE,
  tooManyLearners: grpc.status.FAILED_PRECONDITION,
  notEnoughStarted: grpc.status.FAILED_PRECONDITION,
  unhealthy: grpc.status.UNAVAILABLE,
  badLeaderTransferee: grpc.status.FAILED_PRECONDITION,
  timeoutLeaderTransfer: grpc.status.UNAVAILABLE,
  authNotEnabled: grpc.status.FAILED_PRECONDITION,
  rootUserNotExist: grpc.status.FAILED_PRECONDITION,
  userEmpty: grpc.status.INVALID_ARGUMENT,
  userNotFound: grpc.status.FAILED_PRECONDITION,
  roleEmpty: grpc.status.INVALID_ARGUMENT,
  roleNotFound: grpc.status.FAILED_PRECONDITION,
  rootRoleNotExist: grpc.status.FAILED_PRECONDITION,
  userAlreadyExist: grpc.status.FAILED_PRECONDITION,
  roleAlreadyExist: grpc.status.FAILED_PRECONDITION,
  authFailed: grpc.status.INVALID_ARGUMENT,
  permissionNotGiven: grpc.status.INVALID_ARGUMENT,
  permissionDenied: grpc.status.PERMISSION_DENIED,
  roleNotGranted: grpc.status.FAILED_PRECONDITION,
  permissionNotGranted: grpc.status.FAILED_PRECONDITION,
  invalidAuthToken: grpc.status.UNAUTHENTICATED,
  invalidAuthMgmt: grpc.status.INVALID_ARGUMENT,
  authOldRevision: grpc.status.INVALID_ARGUMENT,
  noPasswordUser: grpc.status.UNKNOWN,
  tokenVerifyOnly: grpc.status.UNKNOWN,
  electionNotLeader: grpc.status.UNKNOWN,
  electionNoLeader: grpc.status.UNKNOWN,
  electionMissingLeader: grpc.status.UNKNOWN,
};

/** etcd's error as a gRPC status: clients match on the message text. */
export function grpcError(e: EtcdError): Partial<grpc.StatusObject> {
  return { code: GRPC_CODES[e.name], details: e.message };
}

/**
 * An error of etcd's Lock and Election services. etcd runs them over its in-server
 * client, whose errors are plain Go errors by the time the service returns them: every
 * one reaches the client with code Unknown and the error's text (observed on etcd 3.4:
 * Lock with an unknown lease answers Unknown "etcdserver: requested lease not found").
 */
export function recipeError(e: EtcdError): Partial<grpc.StatusObject> {
  return { code: grpc.status.UNKNOWN, details: e.message };
}

/** grpc-go's names of the codes (codes.Code's String()), as Go prints a status error. */
const GO_CODE_NAMES: Readonly<Record<number, string>> = {
  [grpc.status.CANCELLED]: 'Canceled', [grpc.status.UNKNOWN]: 'Unknown', [grpc.status.INVALID_ARGUMENT]: 'InvalidArgument',
  [grpc.status.DEADLINE_EXCEEDED]: 'DeadlineExceeded', [grpc.status.NOT_FOUND]: 'NotFound', [grpc.status.ALREADY_EXISTS]: 'AlreadyExists',
  [grpc.status.PERMISSION_DENIED]: 'PermissionDenied', [grpc.status.RESOURCE_EXHAUSTED]: 'ResourceExhausted',
  [grpc.status.FAILED_PRECONDITION]: 'FailedPrecondition', [grpc.status.ABORTED]: 'Aborted', [grpc.status.OUT_OF_RANGE]: 'OutOfRange',
  [grpc.status.UNIMPLEMENTED]: 'Unimplemented', [grpc.status.INTERNAL]: 'Internal', [grpc.status.UNAVAILABLE]: 'Unavailable',
  [grpc.status.DATA_LOSS]: 'DataLoss', [grpc.status.UNAUTHENTICATED]: 'Unauthenticated',
};

/**
 * An etcd error as Go's status error prints it — "rpc error: code = PermissionDenied
 * desc = etcdserver: permission denied" — which is what etcd puts in a refused watch's
 * cancel_reason (rpctypes.ErrGRPC….Error()).
 */
export function goStatusText(e: EtcdError): string {
  return `rpc error: code = ${GO_CODE_NAMES[GRPC_CODES[e.name]] ?? 'Unknown'} desc = ${e.message}`;
}

/** auth/store.go's own texts, for the calls where etcd 3.4 passes them on unconverted. */
const AUTH_PACKAGE_TEXTS: Partial<Readonly<Record<EtcdErrorName, string>>> = {
  userEmpty: 'auth: user name is empty',
  userNotFound: 'auth: user not found',
  permissionDenied: 'auth: permission denied',
  invalidAuthToken: 'auth: invalid auth token',
  authOldRevision: 'auth: revision in header is old',
};

/**
 * etcd 3.4's Maintenance admin check (authMaintenanceServer.isAuthenticated) returns the
 * auth package's error as is: clients get code Unknown and "auth: permission denied".
 */
export function unconvertedAuthError(e: EtcdError): Partial<grpc.StatusObject> {
  const text = AUTH_PACKAGE_TEXTS[e.name];
  return text === undefined ? grpcError(e) : { code: grpc.status.UNKNOWN, details: text };
}
