// Watch streams over the member's watch hub: what a host (a gRPC Watch stream, a
// simulated watch client) opens to watch keys. The hub is pull-based; this module
// pushes: after every applied entry, every tick and every request on a stream, each
// stream's ready responses go to its sink, in order.

import { invariant } from '../util/invariant.js';
import type { WatchCreateRequest, WatchHub, WatchResponse } from '../watch/watchHub.js';

/**
 * Rounds one flush may take when sinks flush again from inside (a host that resumes or
 * creates a watcher as it receives). Each round hands over what became ready; a host that
 * keeps re-entering forever breaks the sink's contract, and the loop stops loudly.
 */
export const MAX_FLUSH_ROUNDS = 1000;

/** Receives a stream's responses, in order. Must not call back into the stream synchronously. */
export type WatchSink = (responses: readonly WatchResponse[]) => void;

export interface WatchStream {
  /** Creates a watcher; its `created` response (or refusal) and events arrive at the sink. */
  watch(request: WatchCreateRequest): void;
  /** Cancels a watcher; a `canceled` response follows only if it existed (as etcd). */
  cancel(watchId: number): void;
  /** Asks for a progress response (watch id -1) once every watcher of the stream is synced. */
  requestProgress(): void;
  /** The host can take responses again (after `ready` said no): hands over what waits. */
  resume(): void;
  /** Closes the stream: no more responses. */
  close(): void;
}

export class WatchStreams {
  private readonly hub: () => WatchHub;
  private readonly sinks = new Map<number, WatchSink>();
  private readonly readiness = new Map<number, () => boolean>();
  private flushing = false;
  private flushAgain = false;

  /** `hub` is read on every use: the state machine owns it. */
  constructor(hub: () => WatchHub) {
    this.hub = hub;
  }

  /**
   * `ready`: whether the host can take responses now. While it says no, the stream's
   * responses stay in the hub, whose per-watcher bound turns a slow client's watchers
   * into catching-up ones (read from history later) instead of growing a send buffer.
   */
  open(sink: WatchSink, ready: () => boolean = () => true): WatchStream {
    const id = this.hub().openStream();
    invariant(!this.sinks.has(id), () => `watch stream ${id} opened twice`);
    this.sinks.set(id, sink);
    this.readiness.set(id, ready);
    const live = (): boolean => this.sinks.has(id);
    return {
      watch: (request) => {
        if (!live()) return;
        this.hub().watch(id, request);
        this.flush();
      },
      cancel: (watchId) => {
        if (!live()) return;
        this.hub().cancel(id, watchId);
        this.flush();
      },
      requestProgress: () => {
        if (!live()) return;
        this.hub().requestProgress(id);
        this.flush();
      },
      resume: () => {
        if (live()) this.flush();
      },
      close: () => {
        if (!this.sinks.delete(id)) return;
        this.readiness.delete(id);
        this.hub().closeStream(id);
        invariant(this.readiness.size === this.sinks.size, 'watch stream sinks and readiness disagree');
      },
    };
  }

  get size(): number {
    return this.sinks.size;
  }

  /** Periodic progress notifications for the watchers that asked for them. */
  notifyProgress(): void {
    if (this.sinks.size === 0) return;
    this.hub().notifyProgress();
    this.flush();
  }

  /** A sink flushed while we were flushing (read through a call: TypeScript narrows fields). */
  private reentered(): boolean {
    return this.flushAgain;
  }

  /** Hands every stream's ready responses to its sink (re-entrant calls run after). */
  flush(): void {
    if (this.sinks.size === 0) return;
    if (this.flushing) {
      this.flushAgain = true;
      return;
    }
    this.flushing = true;
    let rounds = 0;
    try {
      do {
        rounds++;
        invariant(rounds <= MAX_FLUSH_ROUNDS, 'watch sinks kept flushing from inside a flush');
        this.flushAgain = false;
        for (const [id, sink] of [...this.sinks]) {
          if (!this.sinks.has(id)) continue; // closed by an earlier sink
          if (this.readiness.get(id)?.() === false) continue; // the host is not taking any
          const responses = this.hub().take(id);
          if (responses.length > 0) sink(responses);
        }
      } while (this.reentered());
    } finally {
      this.flushing = false;
    }
  }
}
