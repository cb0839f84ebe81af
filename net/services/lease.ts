// etcd's Lease service: grant and revoke go through Raft; keep-alive is a stream of
// renewals served by the leader; time-to-live and the lease list are linearizable reads.

import type * as grpc from '@grpc/grpc-js';
import { etcdError, isEtcdError, type EtcdError } from '../../core/errors.js';
import type { TimeToLive } from '../../core/lease/lessor.js';
import { fromKey } from '../../core/mvcc/keys.js';
import type { Reply, ResponseHeader } from '../../core/server/server.js';
import { MAX_PENDING_READS } from '../../core/server/limits.js';
import type { LeaseId } from '../../core/lease/leaseId.js';
import { int, leaseId, wireLeaseId, type Wire } from '../wire/message.js';
import { grpcError } from '../wire/status.js';
import {
  failStream, hasLeader, requiresLeader, unary, wireHeader, type ServiceContext, type UnaryHandler,
} from './context.js';
import type { LeaderMonitor } from './leaderMonitor.js';

type Headed<T = object> = { readonly header: ResponseHeader } & T;

export function leaseHandlers(context: ServiceContext, monitor: LeaderMonitor): grpc.UntypedServiceImplementation {
  const { server } = context;
  const leaseKeepAlive = keepAliveStream(context, monitor);

  const askTimeToLive = context.leaseTimeToLive ?? ((id, reply): void => { server.leaseTimeToLive({ id }, reply); });
  const timeToLive: UnaryHandler = (rpc, callback) => {
    askTimeToLive(leaseId(rpc.request['ID']), (r: Headed<TimeToLive> | EtcdError) => {
      if (isEtcdError(r)) {
        callback(grpcError(r));
        return;
      }
      callback(null, {
        header: wireHeader(context, r.header),
        ID: wireLeaseId(r.id),
        TTL: String(r.ttlSeconds),
        grantedTTL: String(r.grantedTtlSeconds),
        keys: rpc.request['keys'] === true ? r.keys.map((k) => Buffer.from(fromKey(k))) : [],
      });
    });
  };

  return {
    LeaseGrant: unary<Headed<{ id: LeaseId; ttlSeconds: number }>>(
      context,
      (w, reply, who) => { server.leaseGrant({ ttlSeconds: int(w['TTL']), id: leaseId(w['ID']) }, reply, who); },
      (r) => ({ header: wireHeader(context, r.header), ID: wireLeaseId(r.id), TTL: String(r.ttlSeconds), error: '' }),
    ),
    LeaseRevoke: unary<Headed>(
      context,
      (w, reply, who) => { server.leaseRevoke({ id: leaseId(w['ID']) }, reply, who); },
      (r) => ({ header: wireHeader(context, r.header) }),
    ),
    LeaseKeepAlive: leaseKeepAlive,
    LeaseTimeToLive: timeToLive,
    LeaseLeases: unary<Headed<{ ids: LeaseId[] }>>(
      context,
      (_w, reply) => { server.leaseLeases(reply); },
      (r) => ({ header: wireHeader(context, r.header), leases: r.ids.map((id) => ({ ID: wireLeaseId(id) })) }),
    ),
  };
}

/**
 * Keep-alives one stream may have read and not yet answered. etcd reads the next request
 * only after answering one; a client that floods a stream far ahead of its answers is
 * refused as etcd refuses too many requests (the server's read limit, limits.ts).
 */
const MAX_KEEPALIVES_WAITING = MAX_PENDING_READS;

/** What a renewal answers: the lease's TTL, or the error that ends the stream. */
type KeepAliveResult = Parameters<Reply<{ id: LeaseId; ttlSeconds: number }>>[0];

/** LeaseKeepAlive: one renewal per request, answered on the stream in request order, by the leader. */
function keepAliveStream(context: ServiceContext, monitor: LeaderMonitor): grpc.handleBidiStreamingCall<Wire, Wire> {
  const { server } = context;
  const keepAlive = context.leaseKeepAlive ?? ((id, reply): void => { server.leaseKeepAlive({ id }, reply); });
  return (call) => {
    if (requiresLeader(call) && !hasLeader(server)) {
      failStream(call, etcdError('noLeader'));
      return;
    }
    let open = true;
    let halfClosed = false;
    const release = requiresLeader(call) ? monitor.track(() => {
      close();
      failStream(call, etcdError('noLeader'));
    }) : (): void => undefined;
    const close = (): void => {
      open = false;
      release();
    };
    const endIfDone = (): void => {
      if (!open || !halfClosed || answers.length > 0) return;
      close();
      call.end();
    };
    // Renewals asked for and not yet sent, in the order read. etcd renews and answers one
    // request at a time, so an answer ready early (an unknown lease's TTL 0) waits for the
    // renewals asked before it; and it answers each request it read before the client's
    // half-close, so a half-close waits for these too (the gateway half-closes right after
    // the body's last request; in a cluster a renewal answers later, from the leader).
    // Invariant: length <= MAX_KEEPALIVES_WAITING.
    const answers: { readonly id: LeaseId; result: KeepAliveResult | null }[] = [];
    const sendReady = (): void => {
      for (let head = answers[0]; head !== undefined && head.result !== null; head = answers[0]) {
        answers.shift();
        const result = head.result;
        if (!open) continue;
        if (isEtcdError(result)) {
          close();
          failStream(call, result);
          continue;
        }
        // Unknown or expired leases answer TTL 0, not an error (clients treat it as lost).
        call.write({ header: wireHeader(context, result.header), ID: wireLeaseId(head.id), TTL: String(result.ttlSeconds) });
      }
      endIfDone();
    };
    call.on('data', (request: Wire) => {
      const id = leaseId(request['ID']);
      if (!open) return;
      if (answers.length >= MAX_KEEPALIVES_WAITING) {
        close();
        failStream(call, etcdError('tooManyRequests'));
        return;
      }
      const answer: { readonly id: LeaseId; result: KeepAliveResult | null } = { id, result: null };
      answers.push(answer);
      keepAlive(id, (result) => {
        answer.result = result;
        sendReady();
      });
    });
    call.on('end', () => {
      halfClosed = true;
      endIfDone();
    });
    call.on('cancelled', close);
    call.on('error', close);
  };
}
