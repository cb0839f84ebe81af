// Watch messages on the wire ↔ the core's watch requests and responses.

import type { WatchCreateRequest, WatchFilter, WatchResponse } from '../../core/watch/watchHub.js';
import { keyValue } from './kv.js';
import { bytes, int, type Wire } from './message.js';

const FILTERS: Record<string, WatchFilter> = { NOPUT: 'noPut', NODELETE: 'noDelete' };

/** etcd treats an empty watch key as "\0" (unlike Range, where it is an error). */
const NUL = new Uint8Array([0]);

export function watchCreateRequest(w: Wire): WatchCreateRequest {
  const key = bytes(w['key']);
  const filters = (Array.isArray(w['filters']) ? (w['filters'] as unknown[]) : [])
    .map((f) => FILTERS[String(f)])
    .filter((f): f is WatchFilter => f !== undefined);
  return {
    key: key.length === 0 ? NUL : key,
    rangeEnd: bytes(w['range_end']),
    startRevision: int(w['start_revision']),
    filters,
    prevKv: w['prev_kv'] === true,
    progressNotify: w['progress_notify'] === true,
    watchId: int(w['watch_id']),
  };
}

/**
 * A core watch response on the wire. `head` builds the response header for a revision.
 * A watcher canceled because its history was compacted carries no header revision in
 * etcd 3.4 (only compact_revision), so Tern sends 0 there as well.
 */
export function watchResponse(r: WatchResponse & { readonly fragment?: boolean }, head: (revision: number) => Wire): Wire {
  const compactedAway = r.canceled && r.compactRevision > 0;
  return {
    header: head(compactedAway ? 0 : r.revision),
    watch_id: String(r.watchId),
    created: r.created,
    canceled: r.canceled,
    compact_revision: String(r.compactRevision),
    cancel_reason: r.cancelReason ?? '',
    fragment: r.fragment === true,
    events: r.events.map((e) => {
      const event: Wire = { type: e.type === 'put' ? 'PUT' : 'DELETE', kv: keyValue(e.kv) };
      if (e.prevKv !== null) event['prev_kv'] = keyValue(e.prevKv);
      return event;
    }),
  };
}
