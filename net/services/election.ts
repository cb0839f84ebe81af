// etcd's Election service (v3electionpb.Election): the election recipe run inside the
// member over its own KV and Watch with the caller's credentials, as etcd's v3election
// does with its in-server client. Campaign puts `<name>/<lease hex>` with the value and
// answers once every older campaigner is gone; Proclaim and Resign act only while the
// LeaderKey's create revision still holds; Leader reads the first-created key; Observe
// streams the leader's proclamations and each next leader.

import type * as grpc from '@grpc/grpc-js';
import { etcdError, isEtcdError, type EtcdError } from '../../core/errors.js';
import {
  campaignStart, campaignTxn, leaderOf, proclaimTxn, resignTxn, type Leadership,
} from '../../core/concurrency/election.js';
import { firstCreated, ownKey, recipePrefix } from '../../core/concurrency/keys.js';
import { LeaderObserver, type ObserverAction, type ObserverStep } from '../../core/concurrency/observer.js';
import type { ResponseHeader } from '../../core/server/server.js';
import { keyValue } from '../wire/kv.js';
import { bytes, int, leaseId, wireLeaseId, type Wire } from '../wire/message.js';
import { credentialsOf, failStream, wireHeader, type ServiceContext } from './context.js';
import { abortReason, type RecipeCalls } from './recipeCalls.js';
import { RecipeClient, type OpenWatch } from './recipeClient.js';
import { awaitOlderContenders, recipeUnary, waitingUnary, type RecipeResult } from './recipeRpc.js';

export function electionHandlers(context: ServiceContext, calls: RecipeCalls): grpc.UntypedServiceImplementation {
  const head = (h: ResponseHeader): Wire => wireHeader(context, h);
  const proclaim = async (request: Wire, client: RecipeClient): Promise<Wire | EtcdError> => {
    const held = await resumed(request, client);
    if (isEtcdError(held)) return held;
    const proclaimed = await proclaimAs(client, held, bytes(request['value']));
    return isEtcdError(proclaimed) ? proclaimed : { header: head(proclaimed) };
  };

  const resign = async (request: Wire, client: RecipeClient): Promise<Wire | EtcdError> => {
    const held = await resumed(request, client);
    if (isEtcdError(held)) return held;
    // Whether or not the key still led, etcd answers with the txn's header.
    const resigned = await client.txn(resignTxn(held));
    return isEtcdError(resigned) ? resigned : { header: head(resigned.header) };
  };

  const leader = async (request: Wire, client: RecipeClient): Promise<Wire | EtcdError> => {
    const range = await client.range(firstCreated(recipePrefix(bytes(request['name']))));
    if (isEtcdError(range)) return range;
    const kv = leaderOf(range);
    return kv === null ? etcdError('electionNoLeader') : { header: head(range.header), kv: keyValue(kv) };
  };

  return {
    Campaign: waitingUnary(context, calls, (request, client, signal) => campaignFor(context, request, client, signal)),
    Proclaim: recipeUnary(context, proclaim),
    Leader: recipeUnary(context, leader),
    Observe: observeHandler(context, calls),
    Resign: recipeUnary(context, resign),
  };
}

/**
 * Campaign: puts the own key with the value (or finds it, and proclaims a new value),
 * then waits for every older campaigner to leave; a canceled campaign resigns.
 */
async function campaignFor(context: ServiceContext, request: Wire, client: RecipeClient, signal: AbortSignal): Promise<RecipeResult> {
  const lease = await client.sessionLease(leaseId(request['lease']));
  if (isEtcdError(lease)) return lease;
  const name = bytes(request['name']);
  const value = bytes(request['value']);
  const prefix = recipePrefix(name);
  const key = ownKey(prefix, lease);
  const started = await client.txn(campaignTxn(key, value, lease));
  if (isEtcdError(started)) return started;
  const { rev, proclaim } = campaignStart(started, value);
  const leader: Leadership = { key, rev, leaseId: lease };
  if (proclaim) {
    // The same lease campaigned before with another value: the new value replaces it.
    const proclaimed = await proclaimAs(client, leader, value);
    if (isEtcdError(proclaimed)) {
      await client.txn(resignTxn(leader));
      return proclaimed;
    }
  }
  const waited = await awaitOlderContenders(client, prefix, rev, signal);
  if (waited === 'aborted') {
    // A canceled campaign withdraws (etcd resigns on its context's end).
    await client.txn(resignTxn(leader));
    return waited;
  }
  if (isEtcdError(waited)) return waited;
  // etcd answers with the header of the campaign's own txn, not of the wait.
  return { header: wireHeader(context, started.header), leader: leaderKey(name, leader) };
}

/** The LeaderKey a Proclaim or Resign names, on the lease etcd's session takes (a new one if 0). */
async function resumed(request: Wire, client: RecipeClient): Promise<Leadership | EtcdError> {
  const given = request['leader'];
  if (typeof given !== 'object' || given === null) return etcdError('electionMissingLeader');
  const wire = given as Wire;
  const lease = await client.sessionLease(leaseId(wire['lease']));
  if (isEtcdError(lease)) return lease;
  return { key: bytes(wire['key']), rev: int(wire['rev']), leaseId: lease };
}

function leaderKey(name: Uint8Array, leader: Leadership): Wire {
  return { name: Buffer.from(name), key: Buffer.from(leader.key), rev: String(leader.rev), lease: wireLeaseId(leader.leaseId) };
}

/** Puts the leader's new value if it still leads: the txn's header, or "election: not leader". */
async function proclaimAs(client: RecipeClient, leader: Leadership, value: Uint8Array): Promise<ResponseHeader | EtcdError> {
  const proclaimed = await client.txn(proclaimTxn(leader, value));
  if (isEtcdError(proclaimed)) return proclaimed;
  return proclaimed.succeeded ? proclaimed.header : etcdError('electionNotLeader');
}

/**
 * Observe: runs a LeaderObserver's actions — a range, or one watch at a time — and
 * writes what it reports. Like etcd's, the stream ends with OK when a read or watch
 * fails (a refused permission, a compacted history), and never ends by itself otherwise.
 * While the client reads slowly, the watch's events wait in the member's hub.
 */
function observeHandler(context: ServiceContext, calls: RecipeCalls): grpc.handleServerStreamingCall<Wire, Wire> {
  const { server } = context;
  return (call) => {
    const controller = calls.enter();
    if (typeof controller === 'string') {
      failStream(call, etcdError(controller === 'stopped' ? 'stopped' : 'tooManyRequests'));
      return;
    }
    const client = new RecipeClient(server, credentialsOf(context, call));
    const observer = new LeaderObserver(recipePrefix(bytes(call.request['name'])));
    let watch: (OpenWatch & { resume(): void }) | null = null;
    let done = false;
    const finish = (ending: 'ok' | 'cancelled' | EtcdError): void => {
      if (done) return;
      done = true;
      watch?.close();
      calls.leave(controller);
      if (ending === 'ok') call.end();
      else if (ending !== 'cancelled') failStream(call, ending);
    };
    const step = (s: ObserverStep): void => {
      for (const o of s.send) call.write({ header: wireHeader(context, server.header(o.revision)), kv: keyValue(o.kv) });
      act(s.next);
    };
    const act = (action: ObserverAction): void => {
      if (done) return;
      switch (action.kind) {
        case 'range':
          watch?.close();
          watch = null;
          void client.range(action.request).then((r) => {
            if (done) return;
            if (isEtcdError(r)) finish('ok');
            else step(observer.onRange(r));
          });
          return;
        case 'watch':
          watch?.close();
          watch = client.watch(action.request, {
            onResponse: (r) => { if (!done) step(observer.onWatch(r)); },
            onRefused: () => { finish('ok'); },
            ready: () => !call.writableNeedDrain,
          });
          return;
        case 'keep': return;
        case 'end': finish('ok'); return;
      }
    };
    call.on('drain', () => { watch?.resume(); });
    call.on('cancelled', () => { finish('cancelled'); });
    call.on('error', () => { finish('cancelled'); });
    controller.signal.addEventListener('abort', () => {
      finish(abortReason(controller.signal) === 'stopped' ? etcdError('stopped') : 'cancelled');
    });
    act(observer.start());
  };
}
