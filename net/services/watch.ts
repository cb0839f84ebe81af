// etcd's Watch service: one bidirectional stream multiplexes many watchers. Each gRPC
// stream opens one core watch stream; requests (create, cancel, progress) go to it and
// its responses come back in order through the sink. The stream's end — by the client
// or by cancellation — closes the core stream, so no watcher outlives its client.

import type * as grpc from '@grpc/grpc-js';
import { etcdError, type EtcdError } from '../../core/errors.js';
import type { WatchEvent, WatchResponse } from '../../core/watch/watchHub.js';
import { int, type Wire } from '../wire/message.js';
import { goStatusText } from '../wire/status.js';
import { watchCreateRequest } from '../wire/watch.js';
import { CurrentHeaderIds } from '../wire/protoWriter.js';
import { encodeWatchResponse } from '../wire/watchEncoding.js';
import { credentialsOf, failStream, hasLeader, requiresLeader, wireHeader, type CallerView, type ServiceContext } from './context.js';
import type { LeaderMonitor } from './leaderMonitor.js';

/** What the Watch service needs of one stream, whichever transport carries it (grpc-js here, net/grpcDirect). */
export interface WatchChannel {
  /** The call's metadata and auth context (credentials, hasleader). */
  readonly caller: CallerView;
  /** Sends one response: bytes already encoded, or a wire object the method's serializer encodes. */
  send(response: Buffer | Wire): void;
  /** True while sent responses wait in the transport: the hub holds further ones until `drained`. */
  backedUp(): boolean;
  /** Ends the stream OK. */
  end(): void;
  /** Ends the stream with etcd's error as its status. */
  fail(e: EtcdError): void;
}

/** What the transport tells one watch stream. */
export interface WatchStreamEvents {
  request(request: Wire): void;
  /** The client sent its last request. */
  halfClosed(): void;
  /** What waited in the transport went out. */
  drained(): void;
  /** The stream ended (the client left, or its status went out): idempotent. */
  gone(): void;
}

/** Opens one Watch stream over `channel`: serves etcd's Watch, one core watch stream per gRPC stream. */
export type WatchOpener = (channel: WatchChannel) => WatchStreamEvents;

export function watchOpener(context: ServiceContext, monitor: LeaderMonitor): WatchOpener {
  const { server } = context;
  const head = (revision: number): Wire => wireHeader(context, server.header(revision));
  const encoded = watchEncoder(context);
  const ignore: WatchStreamEvents = { request: () => undefined, halfClosed: () => undefined, drained: () => undefined, gone: () => undefined };
  return (channel) => {
    const leaderRequired = requiresLeader(channel.caller);
    if (leaderRequired && !hasLeader(server)) {
      channel.fail(etcdError('noLeader'));
      return ignore;
    }
    let open = true;
    const fragments = new FragmentChoices();
    // Backpressure: while the transport holds unsent responses, take no more from the hub.
    const stream = server.openWatchStream((responses) => {
      if (!open) return;
      for (const r of responses) {
        const fragment = fragments.seen(r);
        for (const part of fragment ? fragmentResponse(r) : [r]) channel.send(encoded(part));
      }
    }, () => !channel.backedUp());
    const release = leaderRequired ? monitor.track(() => {
      close();
      channel.fail(etcdError('noLeader'));
    }) : (): void => undefined;
    const close = (): void => {
      if (!open) return;
      open = false;
      stream.close();
      release();
    };
    const credentials = credentialsOf(context, channel.caller);
    const serve = (request: Wire, done: () => void): void => {
      switch (request['request_union']) {
        case 'create_request': {
          const create = sub(request['create_request']);
          const watch = watchCreateRequest(create);
          server.authApi.watchRefusal(credentials, watch, (refusal) => {
            if (!open) return;
            if (refusal === null) {
              fragments.asked(create['fragment'] === true);
              stream.watch(watch);
            } else {
              channel.send(refusedWatch(head(server.machine.store.currentRevision()), goStatusText(refusal)));
            }
            done();
          });
          return;
        }
        case 'cancel_request': stream.cancel(int(sub(request['cancel_request'])['watch_id'])); break;
        case 'progress_request': stream.requestProgress(); break;
        default: break; // an empty request: etcd ignores it
      }
      done();
    };
    const requests = new SerialRequests(serve);
    return {
      request: (request) => {
        if (!open) return;
        if (!requests.push(request)) {
          close();
          channel.fail(etcdError('tooManyRequests'));
        }
      },
      halfClosed: () => {
        close();
        channel.end();
      },
      drained: () => { stream.resume(); },
      gone: close,
    };
  };
}

/** The Watch service on grpc-js: each call's stream is a WatchChannel. */
export function watchHandlers(open: WatchOpener): grpc.UntypedServiceImplementation {
  const watch: grpc.handleBidiStreamingCall<Wire, Wire | Buffer> = (call) => {
    const events = open({
      caller: call,
      send: (response) => { call.write(response); },
      backedUp: () => call.writableNeedDrain,
      end: () => { call.end(); },
      fail: (e) => { failStream(call, e); },
    });
    call.on('drain', () => { events.drained(); });
    call.on('data', (request: Wire) => { events.request(request); });
    call.on('end', () => { events.halfClosed(); });
    const gone = (): void => { events.gone(); };
    call.on('cancelled', gone);
    call.on('error', gone);
    call.on('close', gone);
  };
  return { Watch: watch };
}

/**
 * The watch responses as protobuf bytes (watchEncoding.ts), the header's ids encoded
 * once per change of ids.
 */
function watchEncoder(context: ServiceContext): (r: WatchResponse & { readonly fragment?: boolean }) => Buffer {
  const { server } = context;
  const headerIds = new CurrentHeaderIds();
  return (r) => {
    // A watcher canceled because its history was compacted carries no header revision in
    // etcd 3.4 (only compact_revision), so Tern sends 0 there as well.
    const compactedAway = r.canceled && r.compactRevision > 0;
    return encodeWatchResponse(r, headerIds.of(context.ids), server.header(compactedAway ? 0 : r.revision));
  };
}

/**
 * etcd's answer to a create the user may not make: created and canceled at once, watch
 * id -1 (clientv3.InvalidWatchID), the auth error's text as the reason.
 */
function refusedWatch(header: Wire, reason: string): Wire {
  return { header, watch_id: '-1', created: true, canceled: true, compact_revision: '0', cancel_reason: reason, fragment: false, events: [] };
}

/** Requests of one stream served one at a time, in order: a create whose token is not known here yet holds the ones after it. */
class SerialRequests {
  /** Invariant: length <= MAX_QUEUED_WATCH_REQUESTS. */
  private readonly queue: Wire[] = [];
  private busy = false;

  constructor(private readonly serve: (request: Wire, done: () => void) => void) {}

  /** false: too many requests waiting (the stream is ended). */
  push(request: Wire): boolean {
    if (this.queue.length >= MAX_QUEUED_WATCH_REQUESTS) return false;
    this.queue.push(request);
    this.pump();
    return true;
  }

  private pumping = false;

  /** A request answered at once is followed in this loop, one answered later restarts it: no recursion. */
  private pump(): void {
    if (this.pumping) return;
    this.pumping = true;
    while (!this.busy) {
      const next = this.queue.shift();
      if (next === undefined) break;
      this.busy = true;
      this.serve(next, () => {
        this.busy = false;
        this.pump();
      });
    }
    this.pumping = false;
  }
}

/** Requests a watch stream may have waiting behind a create whose token is pending. */
const MAX_QUEUED_WATCH_REQUESTS = 1024;

/**
 * Which watchers asked for fragments. Creates are answered in order, so each created
 * (or refused) response takes the next create's choice.
 */
class FragmentChoices {
  private readonly pending: boolean[] = [];
  private readonly chosen = new Set<number>();

  asked(fragment: boolean): void {
    this.pending.push(fragment);
  }

  /** Records what a response says about its watcher; whether its events may be fragmented. */
  seen(r: WatchResponse): boolean {
    if (r.created) {
      const fragment = this.pending.shift() ?? false;
      if (fragment && !r.canceled) this.chosen.add(r.watchId);
    } else if (r.canceled) {
      this.chosen.delete(r.watchId);
    }
    return this.chosen.has(r.watchId);
  }
}

/** A response, or one part of a split one. */
type Fragment = WatchResponse & { readonly fragment?: boolean };

/** etcd's --max-request-bytes default: larger event responses are split for watchers that asked. */
const MAX_REQUEST_BYTES = 1.5 * 1024 * 1024;

/**
 * etcd's sendFragments: a response over the limit with 2+ events goes out as several,
 * each as large as the limit allows (at least one event), `fragment` set on all but the
 * last. Sizes count keys and values, which dominate the encoded size.
 */
export function fragmentResponse(r: WatchResponse, limit = MAX_REQUEST_BYTES): Fragment[] {
  const size = (e: WatchEvent): number => e.kv.key.length + e.kv.value.length + (e.prevKv === null ? 0 : e.prevKv.key.length + e.prevKv.value.length) + 32;
  if (r.events.length < 2 || r.events.reduce((n, e) => n + size(e), 0) < limit) return [r];
  const parts: Fragment[] = [];
  let current: WatchEvent[] = [];
  let bytes = 0;
  for (const e of r.events) {
    if (current.length > 0 && bytes + size(e) >= limit) {
      parts.push({ ...r, events: current, fragment: true });
      current = [];
      bytes = 0;
    }
    current.push(e);
    bytes += size(e);
  }
  parts.push({ ...r, events: current });
  return parts;
}

function sub(value: unknown): Wire {
  return typeof value === 'object' && value !== null ? (value as Wire) : {};
}
