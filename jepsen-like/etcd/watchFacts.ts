// What watch streams say about the writes at revisions, as facts for the
// checker's fast path (observations.ts takes them beside the responses' own).
//
// The history alone often cannot say which unknown-outcome write made a
// revision nobody read: two timed-out deletes can fill revisions 66 and 68 in
// either order. A watch that heard those revisions can: its events name the
// key, the value, the create revision and the version written at each. And a
// stream that heard events of a key at revisions a < b heard nothing of that
// key in between, so no write touched it there. A linearization that agrees
// with these facts is one the streams can be compared with; when none exists,
// the streams contradict every linearization of the history.
//
// Only events bound a stream's coverage, never progress notifications: a
// notification ahead of its events (etcd #15220) is the watch validator's to
// report, and must not become a false fact here. Filtered streams give their
// events but no silences (a filter hides writes on purpose).

import type { WatchStream } from '../watch/validate.js';

/** A put a watch heard: the write at `revision` put `key` = `value`; the key was created at createRevision and has `version`. */
export interface HeardPut {
  readonly revision: number;
  readonly key: string;
  readonly value: string;
  readonly createRevision: number;
  readonly version: number;
}

/** A delete a watch heard: the write at `revision` deleted `key`. */
export interface HeardDelete {
  readonly revision: number;
  readonly key: string;
}

/** A stream watching [key, rangeEnd) heard every write of that range in (from, to]; `heard` lists, per key, where. */
export interface HeardSpan {
  readonly key: string;
  readonly rangeEnd: string;
  readonly from: number;
  readonly to: number;
  readonly heard: ReadonlyMap<string, readonly number[]>;
}

export interface WatchFacts {
  readonly puts: readonly HeardPut[];
  readonly deletes: readonly HeardDelete[];
  readonly spans: readonly HeardSpan[];
}

export const NO_WATCH_FACTS: WatchFacts = { puts: [], deletes: [], spans: [] };

export function watchFactsOf(streams: readonly WatchStream[]): WatchFacts {
  const puts: HeardPut[] = [];
  const deletes: HeardDelete[] = [];
  const spans: HeardSpan[] = [];
  for (const stream of streams) {
    if (stream.createdRevision <= 0) continue; // never created: it heard nothing
    const heard = new Map<string, number[]>();
    let last = 0;
    for (const response of stream.responses) {
      for (const event of response.events) {
        const { key, modRevision } = event.kv;
        if (typeof key !== 'string' || typeof modRevision !== 'number') continue;
        last = Math.max(last, modRevision);
        const list = heard.get(key);
        if (list === undefined) heard.set(key, [modRevision]);
        else list.push(modRevision);
        if (event.type === 'delete') {
          deletes.push({ revision: modRevision, key });
          continue;
        }
        const { value, createRevision, version } = event.kv;
        if (typeof value === 'string' && typeof createRevision === 'number' && typeof version === 'number') puts.push({ revision: modRevision, key, value, createRevision, version });
      }
    }
    const { request } = stream;
    const start = (request.startRevision ?? 0) > 0 ? (request.startRevision ?? 0) : stream.createdRevision + 1;
    const filtered = (request.filters ?? []).length > 0;
    if (!filtered && last >= start && request.rangeEnd !== undefined && request.rangeEnd !== '') {
      for (const list of heard.values()) list.sort((a, b) => a - b);
      spans.push({ key: request.key, rangeEnd: request.rangeEnd, from: start - 1, to: last, heard });
    }
  }
  return { puts, deletes, spans };
}
