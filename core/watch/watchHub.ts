// Watches (etcd's watchableStore), pure. Each watcher remembers the next revision it
// needs. While it keeps up ("synced"), live events from applied writes are buffered
// for it; when its buffer is full, or it starts in the past, it is "unsynced" and
// catches up by reading history from the backend in bounded steps. So a slow watcher
// never loses an event: it falls back to history instead of dropping (a watcher
// whose needed history was compacted away is canceled with the compact revision, as
// etcd does).
//
// Guarantees kept (etcd's "watch guarantees"): events are ordered by revision, never
// duplicated, never skipped, and all events of one revision travel in one response.

import { invariant } from '../util/invariant.js';
import type { MvccBackend, StoredKv } from '../mvcc/backend.js';
import { fromKey, inRange, keyRange, toKey, type KeyRange } from '../mvcc/keys.js';
import { rev, type Rev } from '../mvcc/revision.js';
import type { MvccEvent } from '../mvcc/store.js';
import type { KeyValue } from '../mvcc/types.js';
import type { PlantedBugs } from '../raft/plantedBugs.js';

export type WatchFilter = 'noPut' | 'noDelete';

export interface WatchCreateRequest {
  readonly key: Uint8Array;
  readonly rangeEnd?: Uint8Array;
  /** 0: from the next revision (current + 1). */
  readonly startRevision?: number;
  readonly filters?: readonly WatchFilter[];
  readonly prevKv?: boolean;
  readonly progressNotify?: boolean;
  /** A client-chosen id (etcd 3.4's watch_id); 0 or absent: the next free id. */
  readonly watchId?: number;
}

export interface WatchEvent {
  readonly type: 'put' | 'delete';
  readonly kv: KeyValue;
  readonly prevKv: KeyValue | null;
}

export interface WatchResponse {
  readonly watchId: number;
  /** Header revision: for events, the store's revision; for progress, all events ≤ it were sent. */
  readonly revision: number;
  readonly created: boolean;
  readonly canceled: boolean;
  readonly compactRevision: number;
  /** Why the server canceled the watcher, when it says (etcd 3.4's cancel_reason). */
  readonly cancelReason?: string;
  readonly events: readonly WatchEvent[];
}

/** What the hub needs from the store it watches. */
export interface WatchedStore {
  currentRevision(): number;
  compactRevision(): number;
  readonly backend: MvccBackend;
  /** The key's version at a revision, for prev_kv on history replay. */
  previous(key: string, beforeMainRevision: number): StoredKv | null;
}

/** The hub's bounds (the simulator draws small ones so that slow watchers catch up). */
export interface WatchHubLimits {
  /** Events buffered per watcher before it falls back to catching up from history. */
  readonly maxBufferedEvents?: number;
  /** Revisions a catch-up step reads per watcher. */
  readonly catchUpRevisionsPerStep?: number;
}

export interface WatchHubOptions extends WatchHubLimits {
  /** Test-only: the watch bugs of etcd's regression list (plantedBugs.ts). Production sets none. */
  readonly bugs?: PlantedBugs;
}

interface Watcher {
  readonly id: number;
  readonly range: KeyRange;
  readonly filters: ReadonlySet<WatchFilter>;
  readonly prevKv: boolean;
  readonly progressNotify: boolean;
  /** The next main revision this watcher needs; everything before is buffered or sent. */
  nextRevision: number;
  synced: boolean;
  /** Events not yet handed out, whole revisions only. */
  buffer: WatchEvent[];
  /** Events went out since the last progress notification (etcd skips busy watchers). */
  active: boolean;
}

interface Stream {
  readonly watchers: Map<number, Watcher>;
  nextWatchId: number;
  /** Control responses (created, canceled, progress) waiting to go out, in order. */
  readonly control: WatchResponse[];
  /** A progress request arrived; answer once every watcher of the stream is synced. */
  progressRequested: boolean;
}

const NO_EVENTS: readonly WatchEvent[] = [];

export class WatchHub {
  private readonly streams = new Map<number, Stream>();
  private nextStreamId = 1;
  private store: WatchedStore;
  private readonly maxBufferedEvents: number;
  private readonly catchUpRevisionsPerStep: number;
  private readonly bugs: PlantedBugs;
  /** Events handed out to watchers since start (etcd_debugging_mvcc_events_total). */
  eventsSent = 0;

  constructor(store: WatchedStore, options: WatchHubOptions = {}) {
    this.store = store;
    this.bugs = options.bugs ?? {};
    this.maxBufferedEvents = options.maxBufferedEvents ?? 1024;
    this.catchUpRevisionsPerStep = options.catchUpRevisionsPerStep ?? 256;
    invariant(this.maxBufferedEvents > 0 && this.catchUpRevisionsPerStep > 0, 'watch limits must be positive');
  }

  openStream(): number {
    const id = this.nextStreamId++;
    this.streams.set(id, { watchers: new Map(), nextWatchId: 0, control: [], progressRequested: false });
    return id;
  }

  closeStream(streamId: number): void {
    this.streams.delete(streamId);
  }

  /**
   * Creates a watcher; its `created` response (and any events) come out of `take`.
   * Returns its id, or -1 when it was refused (the refusal is in `take` too).
   */
  watch(streamId: number, request: WatchCreateRequest): number {
    const stream = this.stream(streamId);
    const current = this.store.currentRevision();
    if (isEmptyWatchRange(request)) {
      // etcd's watchStream.Watch refuses it before anything else: created and canceled, id -1.
      stream.control.push(control(-1, current, { created: true, canceled: true, cancelReason: EMPTY_RANGE_REASON }));
      return -1;
    }
    const asked = request.startRevision ?? 0;
    if (asked < 0) {
      // etcd: created and canceled at once, with no watcher id.
      stream.control.push(control(-1, current, { created: true, canceled: true, cancelReason: COMPACTED_REASON }));
      return -1;
    }
    const wanted = request.watchId ?? 0;
    if (wanted > 0 && stream.watchers.has(wanted)) {
      stream.control.push(control(wanted, current, { created: true, canceled: true, cancelReason: DUPLICATE_ID_REASON }));
      return -1;
    }
    const id = wanted > 0 ? wanted : this.freeId(stream);
    // Planted bug watchBackInTime: a start this member has not reached is taken for "now".
    const backInTime = this.bugs.watchBackInTime === true && asked > current + 1;
    const start = asked === 0 || backInTime ? current + 1 : asked;
    const watcher: Watcher = {
      id,
      range: keyRange(toKey(request.key), toKey(request.rangeEnd ?? new Uint8Array(0))),
      filters: new Set(request.filters ?? []),
      prevKv: request.prevKv === true,
      progressNotify: request.progressNotify === true,
      nextRevision: start,
      synced: start > current,
      buffer: [],
      active: false,
    };
    stream.watchers.set(id, watcher);
    stream.control.push(control(id, current, { created: true }));
    return id;
  }

  /** etcd's AutoWatchID: the lowest id from the stream's counter on that is not taken. */
  private freeId(stream: Stream): number {
    while (stream.watchers.has(stream.nextWatchId)) stream.nextWatchId++;
    return stream.nextWatchId++;
  }

  cancel(streamId: number, watchId: number): boolean {
    const stream = this.stream(streamId);
    if (!stream.watchers.delete(watchId)) return false;
    stream.control.push(control(watchId, this.store.currentRevision(), { canceled: true }));
    return true;
  }

  /** A progress request (etcd 3.6 semantics): answered with watch id -1 once all are synced. */
  requestProgress(streamId: number): void {
    const stream = this.stream(streamId);
    if (this.bugs.progressNotifyAhead === true) {
      // Planted bug (etcd #15220): answered at once with the store's revision, ahead of
      // the events still buffered or to be caught up on this stream.
      stream.control.push(control(-1, this.store.currentRevision(), {}));
      return;
    }
    stream.progressRequested = true;
  }

  /** The MVCC store applied a write: hand its events to the synced watchers. */
  onEvents(events: readonly MvccEvent[], mainRevision: number): void {
    for (const stream of this.streams.values()) {
      for (const w of stream.watchers.values()) {
        if (!w.synced) continue;
        // A watcher created for a future revision waits until the store reaches it.
        if (mainRevision < w.nextRevision) continue;
        invariant(w.nextRevision === mainRevision,
          () => `synced watcher ${w.id} expected revision ${w.nextRevision}, got ${mainRevision}`);
        if (this.bugs.watchSkipsHundredthRevision === true && mainRevision % 100 === 0) {
          w.nextRevision = mainRevision + 1;
          continue;
        }
        const matching = this.matching(w, events.map((e) => ({ kv: e.kv, prevKv: e.prevKv, type: e.type })));
        if (w.buffer.length + matching.length > this.maxBufferedEvents) {
          // Too far behind: stop buffering and read this revision from history later.
          w.synced = false;
          // Planted bug slowWatcherDropsEvents (etcd #17529): the revision is skipped instead.
          if (this.bugs.slowWatcherDropsEvents === true) w.nextRevision = mainRevision + 1;
          continue;
        }
        w.buffer.push(...matching);
        w.nextRevision = mainRevision + 1;
      }
    }
  }

  /**
   * The store was replaced wholesale (a Raft snapshot was installed). Watchers keep
   * their place: each catches up from the new store's history from the revision it
   * needs next — or is canceled with the compact revision if that history is gone.
   */
  rebind(store: WatchedStore): void {
    this.store = store;
    const current = store.currentRevision();
    // Planted bug futureWatchOldEvents (etcd #20281's cause): every watcher is moved to
    // catching up, and the catch-up step sets a future watcher's place to current + 1.
    const lowerFuture = this.bugs.futureWatchOldEvents === true;
    for (const stream of this.streams.values()) {
      for (const w of stream.watchers.values()) w.synced = !lowerFuture && w.nextRevision > current;
    }
  }

  /**
   * Responses ready for a stream: control responses first, then each watcher's buffered
   * events (whole revisions) in one response per watcher, then a progress answer.
   * Catches unsynced watchers up a bounded step first.
   */
  take(streamId: number): WatchResponse[] {
    const stream = this.stream(streamId);
    this.catchUp(stream);
    const out = stream.control.splice(0);
    const current = this.store.currentRevision();
    for (const w of stream.watchers.values()) {
      if (w.buffer.length === 0) continue;
      out.push({ watchId: w.id, revision: current, created: false, canceled: false, compactRevision: 0, events: w.buffer });
      this.eventsSent += w.buffer.length;
      w.buffer = [];
      w.active = true;
    }
    if (stream.progressRequested && [...stream.watchers.values()].every((w) => w.synced && !this.inFuture(w, current))) {
      stream.progressRequested = false;
      out.push(control(-1, current, {}));
    }
    return out;
  }

  /**
   * Periodic progress notification (the host calls it every progress interval): each
   * watcher that asked for it, is synced and got no events since the last round hears
   * the current revision under its own id.
   */
  notifyProgress(): void {
    const current = this.store.currentRevision();
    for (const stream of this.streams.values()) {
      for (const w of stream.watchers.values()) {
        const quiet = w.progressNotify && w.synced && w.buffer.length === 0 && !w.active;
        if (quiet && !this.inFuture(w, current)) stream.control.push(control(w.id, current, {}));
        w.active = false;
      }
    }
  }

  /**
   * A watcher created for a revision the store has not reached: a notification now
   * would carry a revision below its start, which its client takes for its position
   * (etcd #20221, fixed in 3.6.2 by skipping such watchers; 3.4 sends them). It hears
   * progress once the store reaches its start - 1.
   */
  private inFuture(w: Watcher, current: number): boolean {
    return w.nextRevision > current + 1 && this.bugs.futureWatchOldEvents !== true;
  }

  private catchUp(stream: Stream): void {
    const current = this.store.currentRevision();
    const compacted = this.store.compactRevision();
    for (const w of [...stream.watchers.values()]) {
      if (w.synced) continue;
      if (w.nextRevision < compacted) {
        // The history it needs is gone: cancel, telling the client where history starts.
        stream.watchers.delete(w.id);
        stream.control.push(control(w.id, current, { canceled: true, compactRevision: compacted }));
        continue;
      }
      if (w.buffer.length >= this.maxBufferedEvents) continue; // wait for the client to drain
      const until = Math.min(current, w.nextRevision + this.catchUpRevisionsPerStep - 1);
      const events: { kv: StoredKv; prevKv: StoredKv | null; type: 'put' | 'delete' }[] = [];
      this.store.backend.scan(rev(w.nextRevision, 0), rev(until + 1, 0), (_r: Rev, kv) => {
        if (inRange(w.range, kv.key)) {
          const prevKv = w.prevKv ? this.store.previous(kv.key, kv.modRevision) : null;
          events.push({ kv, prevKv, type: kv.tombstone ? 'delete' : 'put' });
        }
        return true;
      });
      w.buffer.push(...this.matching(w, events));
      invariant(until + 1 >= w.nextRevision || this.bugs.futureWatchOldEvents === true,
        () => `watcher ${w.id} would move back from ${w.nextRevision} to ${until + 1}`);
      w.nextRevision = until + 1;
      w.synced = w.nextRevision > current;
    }
  }

  private matching(
    w: Watcher,
    events: readonly { kv: StoredKv; prevKv: StoredKv | null; type: 'put' | 'delete' }[],
  ): WatchEvent[] {
    const out: WatchEvent[] = [];
    for (const e of events) {
      if (!inRange(w.range, e.kv.key)) continue;
      if (e.type === 'put' && w.filters.has('noPut')) continue;
      if (e.type === 'delete' && w.filters.has('noDelete')) continue;
      out.push({
        type: e.type,
        kv: e.type === 'delete' ? deletedKv(e.kv) : toKeyValue(e.kv),
        prevKv: w.prevKv && e.prevKv !== null ? toKeyValue(e.prevKv) : null,
      });
    }
    return out;
  }

  private stream(streamId: number): Stream {
    const stream = this.streams.get(streamId);
    invariant(stream !== undefined, () => `no watch stream ${streamId}`);
    return stream;
  }

  /** Open watch streams (etcd_debugging_mvcc_watch_stream_total). */
  streamCount(): number {
    return this.streams.size;
  }

  /** Watchers on every stream (etcd_debugging_mvcc_watcher_total). */
  watcherCount(): number {
    let n = 0;
    for (const s of this.streams.values()) n += s.watchers.size;
    return n;
  }

  /** For tests and metrics: how many watchers are catching up. */
  unsyncedCount(): number {
    let n = 0;
    for (const s of this.streams.values()) for (const w of s.watchers.values()) if (!w.synced) n++;
    return n;
  }
}

const COMPACTED_REASON = 'etcdserver: mvcc: required revision has been compacted';
const DUPLICATE_ID_REASON = 'mvcc: duplicate watch ID provided on the WatchStream';
const EMPTY_RANGE_REASON = 'mvcc: watcher range is empty';

/**
 * etcd refuses a watch on [key, range_end) with key ≥ range_end: it could never fire.
 * range_end "" (one key) and "\0" (from the key on) are not ranges here; an empty key
 * is "\0" to etcd's watch service.
 */
function isEmptyWatchRange(request: WatchCreateRequest): boolean {
  const end = toKey(request.rangeEnd ?? new Uint8Array(0));
  if (end === '' || end === '\0') return false;
  const key = request.key.length === 0 ? '\0' : toKey(request.key);
  return key >= end;
}

interface ControlFlags {
  readonly created?: boolean;
  readonly canceled?: boolean;
  readonly compactRevision?: number;
  readonly cancelReason?: string;
}

function control(watchId: number, revision: number, flags: ControlFlags): WatchResponse {
  const response = {
    watchId, revision, created: flags.created === true, canceled: flags.canceled === true,
    compactRevision: flags.compactRevision ?? 0, events: NO_EVENTS,
  };
  return flags.cancelReason === undefined ? response : { ...response, cancelReason: flags.cancelReason };
}

function toKeyValue(kv: StoredKv): KeyValue {
  return {
    key: fromKey(kv.key), createRevision: kv.createRevision, modRevision: kv.modRevision,
    version: kv.version, value: kv.value, lease: kv.lease,
  };
}

/** A DELETE event's kv carries only the key and the deletion revision (etcd). */
function deletedKv(kv: StoredKv): KeyValue {
  return { key: fromKey(kv.key), createRevision: 0, modRevision: kv.modRevision, version: 0, value: new Uint8Array(0), lease: 0n };
}

