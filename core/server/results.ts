// What applying one request produced, handed to the member that proposed it.

import type { AlarmMember } from './alarms.js';
import type { LeaseId } from '../lease/leaseId.js';
import type { AuthAnswer } from '../auth/authRequests.js';
import type { EtcdError } from '../errors.js';
import type { CompactionResponse, DeleteRangeResponse, PutResponse, TxnResponse } from '../mvcc/types.js';

export type ApplyResult =
  | { readonly kind: 'put'; readonly response: PutResponse }
  | { readonly kind: 'deleteRange'; readonly response: DeleteRangeResponse }
  | { readonly kind: 'txn'; readonly response: TxnResponse }
  | { readonly kind: 'compact'; readonly response: CompactionResponse }
  | { readonly kind: 'leaseGrant'; readonly id: LeaseId; readonly ttlSeconds: number; readonly revision: number }
  | { readonly kind: 'leaseRevoke'; readonly revision: number }
  | { readonly kind: 'leaseCheckpoint'; readonly revision: number }
  | { readonly kind: 'auth'; readonly answer: AuthAnswer; readonly revision: number }
  | { readonly kind: 'alarm'; readonly alarms: readonly AlarmMember[]; readonly revision: number }
  | { readonly kind: 'memberAttributes'; readonly revision: number }
  | { readonly kind: 'error'; readonly error: EtcdError };
