// The watch validator: recorded watch streams against the committed changes
// (the event log of the linearization the KV check found, or of the Raft log).
// Each property is one pass over a stream; a violation points at a response.
//
// Checked per stream (etcd's robustness suite checks the same list):
// - ordered: event revisions never decrease, and strictly increase across responses;
// - unique: no (key, revision) event twice;
// - atomic: all events of one revision arrive in one response;
// - reliable: from the start revision up to the last revision the stream vouched for
//   (its last event or progress notification), every matching change arrived, with
//   nothing extra: no gap, no event outside the range or filtered out;
// - bookmarkable: a progress notification at r is never behind a delivered event, and
//   no event at or below r arrives after it (etcd's #15220: a notification sent
//   before the watcher's pending events);
// - contents: key, value, revisions, version, lease equal the log's, prev_kv is
//   right when asked for and absent when not, and isCreate flags first versions;
// - compaction: a stream canceled for compaction started below the compact revision.
// Resumption is a new stream whose start revision is the old one's last + 1; the
// same checks then cover it.

import type { StoreEvent } from '../etcd/store.js';
import type { Json, KeyValue } from '../etcd/types.js';
import { responseMatches } from '../etcd/types.js';

export interface WatchRequest {
  readonly key: string;
  readonly rangeEnd?: string;
  /** <= 0 or absent: from the revision after the created response's header. */
  readonly startRevision?: number;
  readonly prevKv?: boolean;
  readonly filters?: readonly ('noPut' | 'noDelete')[];
}

export interface RecordedEvent {
  readonly type: 'put' | 'delete';
  /** Partial: the fields present are checked. */
  readonly kv: Partial<KeyValue>;
  readonly prevKv?: Partial<KeyValue> | null;
  readonly isCreate?: boolean;
}

export interface WatchResponse {
  /** Header revision. */
  readonly revision: number;
  readonly events: readonly RecordedEvent[];
  /** True for a progress notification (no events). */
  readonly progress?: boolean;
  readonly canceled?: boolean;
  readonly compactRevision?: number;
}

export interface WatchStream {
  readonly request: WatchRequest;
  /** Header revision of the created response. */
  readonly createdRevision: number;
  readonly responses: readonly WatchResponse[];
}

export type WatchProperty = 'ordered' | 'unique' | 'atomic' | 'reliable' | 'bookmarkable' | 'contents' | 'compaction';

export interface WatchViolation {
  readonly stream: number;
  /** Index of the response at fault, or -1 for the stream as a whole. */
  readonly response: number;
  readonly property: WatchProperty;
  readonly message: string;
}

function inRange(request: WatchRequest, key: string): boolean {
  const end = request.rangeEnd;
  if (end === undefined || end === '') return key === request.key;
  if (request.key === '\u0000' && end === '\u0000') return true;
  return key >= request.key && (end === '\u0000' || key < end);
}

function selected(request: WatchRequest, event: StoreEvent): boolean {
  if (!inRange(request, event.kv.key)) return false;
  const filters = request.filters ?? [];
  return !(event.type === 'put' ? filters.includes('noPut') : filters.includes('noDelete'));
}

function kvJson(kv: KeyValue | null): Json {
  return kv === null ? null : { ...kv };
}

export interface ValidateOptions {
  /**
   * The highest compact revision the watched members had when they sent events. etcd
   * fills an event's prev_kv by reading the key at revision - 1, which a compaction at or
   * above the event's revision has removed: prev_kv may then be missing (null), as etcd's
   * robustness suite allows. Absent: prev_kv must always be there.
   */
  readonly compactRevision?: number;
}

type Flag = (response: number, property: WatchProperty, message: string) => void;

/** A delivered event and the index of the response that carried it. */
interface Delivered {
  readonly event: RecordedEvent;
  readonly response: number;
}

/** What one pass over a stream's responses found: its events, and how far it vouched. */
interface StreamScan {
  readonly delivered: readonly Delivered[];
  /** The last revision the stream vouched for (last event or progress notification). */
  readonly vouchedUpTo: number;
}

function streamStart(stream: WatchStream): number {
  const requested = stream.request.startRevision ?? 0;
  return requested > 0 ? requested : stream.createdRevision + 1;
}

function eventId(event: RecordedEvent): string {
  return `${event.kv.key ?? ''}@${event.kv.modRevision ?? -1}`;
}

function checkCanceled(response: WatchResponse, r: number, start: number, flag: Flag): void {
  if (response.compactRevision !== undefined && response.compactRevision > 0 && start >= response.compactRevision) {
    flag(r, 'compaction', `canceled for compaction at ${response.compactRevision}, but the stream started at ${start}`);
  }
  if (response.events.length > 0) flag(r, 'compaction', 'a canceled response carries events');
}

/**
 * One pass over a stream's responses: ordered, unique, atomic, bookmarkable and
 * compaction are checked here; the delivered events are kept for the log comparison.
 */
function scanResponses(stream: WatchStream, start: number, flag: Flag): StreamScan {
  const seen = new Set<string>();
  const responseOfRevision = new Map<number, number>();
  let lastRevision = 0;
  let lastProgress = 0;
  let vouchedUpTo = start - 1;
  const delivered: Delivered[] = [];
  stream.responses.forEach((response, r) => {
    if (response.canceled === true) {
      checkCanceled(response, r, start, flag);
      return;
    }
    if (response.progress === true && response.events.length === 0) {
      if (response.revision < lastRevision) {
        flag(r, 'bookmarkable', `progress at ${response.revision} is behind the delivered event at ${lastRevision}`);
      }
      vouchedUpTo = Math.max(vouchedUpTo, response.revision);
      lastProgress = Math.max(lastProgress, response.revision);
      return;
    }
    for (const event of response.events) {
      const rev = event.kv.modRevision;
      if (typeof rev !== 'number' || typeof event.kv.key !== 'string') {
        flag(r, 'contents', 'an event without key or modRevision');
        continue;
      }
      if (rev < lastRevision) flag(r, 'ordered', `event at revision ${rev} after one at ${lastRevision}`);
      if (rev <= lastProgress) flag(r, 'bookmarkable', `event at revision ${rev} after a progress notification at ${lastProgress}`);
      const id = `${event.kv.key}@${rev}`;
      if (seen.has(id)) flag(r, 'unique', `${event.kv.key} at revision ${rev} delivered twice`);
      seen.add(id);
      const owner = responseOfRevision.get(rev);
      if (owner !== undefined && owner !== r) flag(r, 'atomic', `revision ${rev} split between responses ${owner} and ${r}`);
      responseOfRevision.set(rev, r);
      lastRevision = Math.max(lastRevision, rev);
      delivered.push({ event, response: r });
    }
    vouchedUpTo = Math.max(vouchedUpTo, lastRevision);
  });
  return { delivered, vouchedUpTo };
}

/** Contents: one delivered event against the log's change it stands for. */
function checkContents(request: WatchRequest, { event, response }: Delivered, truth: StoreEvent, compactRevision: number, flag: Flag): void {
  if (truth.type !== event.type || !responseMatches(kvJson(truth.kv), { ...event.kv })) {
    flag(response, 'contents', `${event.kv.key ?? '?'} at ${truth.revision}: expected ${truth.type} ${JSON.stringify(truth.kv)}`);
  }
  if (request.prevKv === true) {
    if (event.prevKv === null && truth.revision <= compactRevision) {
      // Compacted away before it was read: etcd sends the event without prev_kv.
    } else if (event.prevKv === undefined || !responseMatches(kvJson(truth.prevKv), (event.prevKv === null ? null : { ...event.prevKv }))) {
      flag(response, 'contents', `${event.kv.key ?? '?'} at ${truth.revision}: prev_kv should be ${JSON.stringify(truth.prevKv)}`);
    }
  } else if (event.prevKv !== undefined && event.prevKv !== null) {
    flag(response, 'contents', `${event.kv.key ?? '?'} at ${truth.revision}: prev_kv sent but not asked for`);
  }
  if (event.isCreate !== undefined && event.isCreate !== (truth.type === 'put' && truth.kv.version === 1)) {
    flag(response, 'contents', `${event.kv.key ?? '?'} at ${truth.revision}: isCreate should be ${!event.isCreate}`);
  }
}

/**
 * Reliable and contents: the delivered events must be exactly the log's
 * matching events in [start, vouchedUpTo], in order.
 */
function checkAgainstLog(log: readonly StoreEvent[], request: WatchRequest, start: number, scan: StreamScan, compactRevision: number, flag: Flag): void {
  const { delivered, vouchedUpTo } = scan;
  const expected = log.filter((e) => e.revision >= start && e.revision <= vouchedUpTo && selected(request, e));
  const expectedById = new Map(expected.map((e) => [`${e.kv.key}@${e.revision}`, e]));
  for (const item of delivered) {
    const { event, response } = item;
    const truth = expectedById.get(eventId(event));
    if (truth === undefined) {
      flag(response, 'reliable', `${event.type} of ${event.kv.key ?? '?'} at ${event.kv.modRevision ?? '?'} is not a change this watch should see`);
      continue;
    }
    checkContents(request, item, truth, compactRevision, flag);
  }
  const deliveredIds = new Set(delivered.map(({ event }) => eventId(event)));
  const missing = expected.find((e) => !deliveredIds.has(`${e.kv.key}@${e.revision}`));
  if (missing !== undefined) {
    flag(-1, 'reliable', `${missing.type} of ${missing.kv.key} at revision ${missing.revision} never arrived (stream vouched up to ${vouchedUpTo})`);
  }
}

export function validateWatches(log: readonly StoreEvent[], streams: readonly WatchStream[], options: ValidateOptions = {}): WatchViolation[] {
  const compactRevision = options.compactRevision ?? -1;
  const violations: WatchViolation[] = [];
  streams.forEach((stream, s) => {
    const flag: Flag = (response, property, message) => {
      violations.push({ stream: s, response, property, message });
    };
    const start = streamStart(stream);
    const scan = scanResponses(stream, start, flag);
    checkAgainstLog(log, stream.request, start, scan, compactRevision, flag);
  });
  return violations;
}
