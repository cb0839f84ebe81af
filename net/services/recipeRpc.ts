// Shared by the Lock and Election services: the wait both recipes do (concurrency's
// waitDeletes), and a unary handler for a call that may wait without end.

import * as grpc from '@grpc/grpc-js';
import { etcdError, isEtcdError, type EtcdError } from '../../core/errors.js';
import { newestCreatedBefore } from '../../core/concurrency/keys.js';
import { nextToAwait } from '../../core/concurrency/mutex.js';
import type { ResponseHeader } from '../../core/server/server.js';
import type { Wire } from '../wire/message.js';
import { grpcError, recipeError } from '../wire/status.js';
import { credentialsOf, type ServiceContext, type UnaryHandler } from './context.js';
import { abortReason, type RecipeCalls } from './recipeCalls.js';
import { RecipeClient } from './recipeClient.js';

/**
 * Contenders one wait may see leave before its own turn. Each round waits for one
 * older contender's deletion, so the rounds are bounded by the contenders ahead, which
 * the member's call limit bounds in turn; a count past this is a bug in the recipe.
 */
const MAX_AWAIT_ROUNDS = 1_000_000;

/**
 * Waits until no key under `prefix` has a create revision below `myRev`: asks for the
 * newest older one and awaits its deletion, again until none is left. The header of the
 * last (empty) range is what a Lock answers with.
 */
export async function awaitOlderContenders(
  client: RecipeClient, prefix: Uint8Array, myRev: number, signal: AbortSignal,
): Promise<ResponseHeader | EtcdError | 'aborted'> {
  for (let round = 0; round < MAX_AWAIT_ROUNDS; round++) {
    if (signal.aborted) return 'aborted';
    const older = await client.range(newestCreatedBefore(prefix, myRev));
    if (isEtcdError(older)) return older;
    const next = nextToAwait(older);
    if (next === null) return older.header;
    const outcome = await client.awaitDelete(next, older.header.revision, signal);
    if (outcome !== 'deleted') return outcome;
  }
  throw new Error(`waited for more than ${MAX_AWAIT_ROUNDS} contenders to leave`);
}

/** A recipe's answer: a response, an error for the client, or nothing (the call was aborted). */
export type RecipeResult = Wire | EtcdError | 'aborted';

/**
 * A unary call that may wait (Lock, Campaign): it takes a place among the member's
 * recipe calls, its client's cancel aborts it (the recipe then removes its own key), and
 * the member's stop answers it at once with "etcdserver: server stopped". The place is
 * freed when the recipe is done, cleanup included.
 */
export function waitingUnary(
  context: ServiceContext, calls: RecipeCalls, recipe: (request: Wire, client: RecipeClient, signal: AbortSignal) => Promise<RecipeResult>,
): UnaryHandler {
  return (rpc, callback) => {
    const controller = calls.enter();
    if (typeof controller === 'string') {
      callback(grpcError(etcdError(controller === 'stopped' ? 'stopped' : 'tooManyRequests')));
      return;
    }
    let answered = false;
    const answer = (error: Partial<grpc.StatusObject> | null, response?: Wire): void => {
      if (answered) return;
      answered = true;
      if (error === null) callback(null, response);
      else callback(error);
    };
    rpc.on('cancelled', () => { controller.abort('cancelled'); });
    controller.signal.addEventListener('abort', () => {
      if (abortReason(controller.signal) === 'stopped') answer(grpcError(etcdError('stopped')));
    });
    recipe(rpc.request, new RecipeClient(context.server, credentialsOf(context, rpc)), controller.signal).then((result) => {
      calls.leave(controller);
      if (result === 'aborted') answer({ code: grpc.status.CANCELLED, details: 'context canceled' });
      else if (isEtcdError(result)) answer(recipeError(result));
      else answer(null, result);
    }, (e: unknown) => {
      calls.leave(controller);
      answer({ code: grpc.status.INTERNAL, details: e instanceof Error ? e.message : String(e) });
    });
  };
}

/** A unary recipe call that answers after a few core calls (Unlock, Proclaim, Resign, Leader). */
export function recipeUnary(context: ServiceContext, recipe: (request: Wire, client: RecipeClient) => Promise<Wire | EtcdError>): UnaryHandler {
  return (rpc, callback) => {
    recipe(rpc.request, new RecipeClient(context.server, credentialsOf(context, rpc))).then((result) => {
      if (isEtcdError(result)) callback(recipeError(result));
      else callback(null, result);
    }, (e: unknown) => {
      callback({ code: grpc.status.INTERNAL, details: e instanceof Error ? e.message : String(e) });
    });
  };
}
