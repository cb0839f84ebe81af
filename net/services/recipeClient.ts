// The calls etcd's Lock and Election services make, as etcd makes them through its
// in-server client (v3client): the member's own KV, Lease and Watch, each with the
// caller's credentials, so that a user's permissions hold for the recipe's keys exactly
// as for its own requests. Unary calls answer once (the core bounds them by its request
// timeout); a watch is opened on the member's hub and closed by whoever opened it.

import { etcdError, isEtcdError, type EtcdError } from '../../core/errors.js';
import { NO_LEASE, type LeaseId } from '../../core/lease/leaseId.js';
import type {
  DeleteRangeRequest, DeleteRangeResponse, RangeRequest, RangeResponse, TxnRequest, TxnResponse,
} from '../../core/mvcc/types.js';
import type { Credentials } from '../../core/server/authGate.js';
import type { EtcdServer, ResponseHeader } from '../../core/server/server.js';
import type { WatchCreateRequest, WatchResponse } from '../../core/watch/watchHub.js';

export type Headed<T> = { readonly header: ResponseHeader } & T;

/** etcd's session TTL (concurrency.defaultSessionTTL): a call with lease 0 gets a new lease of this many seconds. */
export const SESSION_TTL_SECONDS = 60;

/** How an await on a watch ended. */
export type AwaitOutcome = 'deleted' | 'aborted' | EtcdError;

/** An open watch: stop it once its answers are no longer wanted. */
export interface OpenWatch {
  close(): void;
}

export class RecipeClient {
  constructor(private readonly server: EtcdServer, private readonly credentials: Credentials | undefined) {}

  txn(request: TxnRequest): Promise<Headed<TxnResponse> | EtcdError> {
    return new Promise((resolve) => { this.server.txn(request, resolve, this.credentials); });
  }

  range(request: RangeRequest): Promise<Headed<RangeResponse> | EtcdError> {
    return new Promise((resolve) => { this.server.range(request, resolve, this.credentials); });
  }

  deleteRange(request: DeleteRangeRequest): Promise<Headed<DeleteRangeResponse> | EtcdError> {
    return new Promise((resolve) => { this.server.deleteRange(request, resolve, this.credentials); });
  }

  /**
   * The lease a recipe attaches its key to (concurrency.NewSession with WithLease):
   * the caller's, or — lease 0 — a new one of SESSION_TTL_SECONDS that nobody renews
   * (etcd's service orphans the session at once, so such a key lives a minute).
   */
  async sessionLease(leaseId: LeaseId): Promise<LeaseId | EtcdError> {
    if (leaseId !== NO_LEASE) return leaseId;
    const granted = await new Promise<Headed<{ id: LeaseId; ttlSeconds: number }> | EtcdError>((resolve) => {
      this.server.leaseGrant({ ttlSeconds: SESSION_TTL_SECONDS, id: NO_LEASE }, resolve, this.credentials);
    });
    return isEtcdError(granted) ? granted : granted.id;
  }

  /**
   * Watches as the caller (a watch the caller may not make is refused with its auth
   * error, delivered to `onRefused`). `ready`: whether the receiver takes responses now;
   * while it says no they wait in the hub (call `resume` on the returned handle's owner).
   */
  watch(
    request: WatchCreateRequest, handlers: { onResponse: (r: WatchResponse) => void; onRefused: (e: EtcdError) => void; ready?: () => boolean },
  ): OpenWatch & { resume(): void } {
    let open = true;
    const stream = this.server.openWatchStream((responses) => {
      for (const r of responses) {
        if (!open) return;
        handlers.onResponse(r);
      }
    }, handlers.ready);
    const close = (): void => {
      if (!open) return;
      open = false;
      stream.close();
    };
    this.server.authApi.watchRefusal(this.credentials, request, (refusal) => {
      if (!open) return;
      if (refusal === null) {
        stream.watch(request);
        return;
      }
      close();
      handlers.onRefused(refusal);
    });
    return { close, resume: () => { if (open) stream.resume(); } };
  }

  /**
   * Waits until `key` is deleted, watching from `revision` (concurrency's waitDelete):
   * 'deleted', 'aborted' once `signal` aborts, or the error that ended the watch.
   */
  awaitDelete(key: Uint8Array, revision: number, signal: AbortSignal): Promise<AwaitOutcome> {
    return new Promise((resolve) => {
      let watch: OpenWatch | null = null;
      let settled = false;
      const settle = (outcome: AwaitOutcome): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        watch?.close();
        resolve(outcome);
      };
      const onAbort = (): void => { settle('aborted'); };
      if (signal.aborted) {
        settle('aborted');
        return;
      }
      signal.addEventListener('abort', onAbort);
      watch = this.watch({ key, startRevision: revision }, {
        onRefused: settle,
        onResponse: (r) => {
          // A watcher canceled by the server: its history was compacted away.
          if (r.canceled) settle(r.compactRevision > 0 ? etcdError('compacted') : etcdError('stopped'));
          else if (r.events.some((e) => e.type === 'delete')) settle('deleted');
        },
      });
    });
  }
}
