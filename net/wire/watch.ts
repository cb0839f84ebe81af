// Watch requests on the wire → the core's (responses are encoded by watchEncoding.ts).

import type { WatchCreateRequest, WatchFilter } from '../../core/watch/watchHub.js';
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
