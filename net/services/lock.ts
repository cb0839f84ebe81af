// etcd's Lock service (v3lockpb.Lock): the mutex recipe run inside the member, over
// its own KV and Watch with the caller's credentials, as etcd's v3lock does with its
// in-server client. Lock puts `<name>/<lease hex>` attached to the caller's lease (a new
// 60 s lease if 0) and answers once every older contender's key is gone; Unlock deletes
// the key. A Lock whose client cancels removes its own key, as etcd's mutex does.

import type * as grpc from '@grpc/grpc-js';
import { isEtcdError, type EtcdError } from '../../core/errors.js';
import { ownKey, recipePrefix } from '../../core/concurrency/keys.js';
import { lockStart, lockTxn } from '../../core/concurrency/mutex.js';
import { bytes, leaseId, type Wire } from '../wire/message.js';
import { wireHeader, type ServiceContext } from './context.js';
import type { RecipeCalls } from './recipeCalls.js';
import type { RecipeClient } from './recipeClient.js';
import { awaitOlderContenders, recipeUnary, waitingUnary, type RecipeResult } from './recipeRpc.js';

export function lockHandlers(context: ServiceContext, calls: RecipeCalls): grpc.UntypedServiceImplementation {
  const lock = async (request: Wire, client: RecipeClient, signal: AbortSignal): Promise<RecipeResult> => {
    const lease = await client.sessionLease(leaseId(request['lease']));
    if (isEtcdError(lease)) return lease;
    const prefix = recipePrefix(bytes(request['name']));
    const key = ownKey(prefix, lease);
    const started = await client.txn(lockTxn(prefix, key, lease));
    if (isEtcdError(started)) return started;
    const { myRev, holds } = lockStart(started);
    const held = holds && !signal.aborted ? started.header : await awaitOlderContenders(client, prefix, myRev, signal);
    if (held === 'aborted' || isEtcdError(held)) {
      // The waiter leaves the queue (a canceled Lock must not take the lock later).
      await client.deleteRange({ key });
      return held;
    }
    return { header: wireHeader(context, held), key: Buffer.from(key) };
  };
  const unlock = async (request: Wire, client: RecipeClient): Promise<Wire | EtcdError> => {
    const deleted = await client.deleteRange({ key: bytes(request['key']) });
    return isEtcdError(deleted) ? deleted : { header: wireHeader(context, deleted.header) };
  };
  return { Lock: waitingUnary(context, calls, lock), Unlock: recipeUnary(context, unlock) };
}
