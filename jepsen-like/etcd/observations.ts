// Facts about the writes at revisions, read off the ok responses. Each holds in
// every legal linearization, because every response with a header revision
// shows the store exactly as it was at a known revision: a key-value shown live
// at revision `at` with create revision c and mod revision m means
//   - the write at m put that key (with that value, unless keys-only hid it),
//   - the write at c put that key (it created it),
//   - nothing wrote the key in (m, at], and nothing deleted it in (c, at].
// The gap search (gap-search.ts) uses them to refuse a filler at once instead of
// discovering the contradiction many revisions later; the replay still checks
// every response, so a fact that is missing costs time, never soundness.

import type { Operation } from '../history.js';
import { countBelow } from './sorted.js';
import type { EtcdRequest, EtcdResponse, Json, RequestOp } from './types.js';
import { NO_WATCH_FACTS, type WatchFacts } from './watchFacts.js';

type EtcdOp = Operation<EtcdRequest, EtcdResponse>;

/** What the write at a revision must have put. */
export interface RequiredPut {
  readonly key: string;
  /** Absent when the response that shows the write hid the value (keys only) or showed only the creation. */
  readonly value?: string;
}

/** A key seen live at revision `at`: created at c, last put at m, put v times since c. */
export interface Sighting {
  readonly at: number;
  readonly createRevision: number;
  readonly modRevision: number;
  readonly version: number;
}

/** Records that nothing of some kind happened to `key` in (lo, hi]. */
type AddInterval = (key: string, lo: number, hi: number) => void;

/** Disjoint, sorted half-open-on-the-left intervals (lo, hi] of revisions. */
type Intervals = readonly (readonly [number, number])[];

export class Observations {
  /** For each revision, the puts its writer must have made. */
  readonly putsAt = new Map<number, RequiredPut[]>();
  /** `${key}\u0000${value}` for every key-value some response shows (such a value is not anonymous). */
  readonly shown = new Set<string>();
  /** Keys some compare (of any op) reads the value of: their values are never anonymous. */
  readonly valueCompared = new Set<string>();
  /** Keys two responses show written at one revision with different values (no legal linearization does that). */
  readonly conflicts: { readonly revision: number; readonly key: string }[] = [];
  /** Each key's sightings, by revision. */
  readonly sightings = new Map<string, Sighting[]>();
  /** Revisions at which a key was seen absent (a read that covered it and found nothing there), ascending. */
  readonly absences = new Map<string, number[]>();
  /** For each revision, the keys its writer must have deleted (a watch heard it). */
  readonly deletesAt = new Map<number, string[]>();
  private readonly noWrite: Map<string, Intervals>;
  private readonly noDelete: Map<string, Intervals>;

  /** `watch`: what watch streams heard (watchFacts.ts), facts of the same standing as the responses'. */
  constructor(history: readonly EtcdOp[], watch: WatchFacts = NO_WATCH_FACTS) {
    const noWrite = new Map<string, [number, number][]>();
    const noDelete = new Map<string, [number, number][]>();
    const add = (map: Map<string, [number, number][]>, key: string, lo: number, hi: number): void => {
      if (hi <= lo) return;
      const list = map.get(key);
      if (list === undefined) map.set(key, [[lo, hi]]);
      else list.push([lo, hi]);
    };
    const universe = keysEverPut(history);
    for (const op of history) {
      if (op.input.type === 'txn') for (const c of op.input.compare) if (c.target === 'value') this.valueCompared.add(c.key);
      if (op.outcome !== 'ok' || op.output === undefined) continue;
      for (const { key, at } of absencesShown(op.input, op.output, universe)) {
        const list = this.absences.get(key);
        if (list === undefined) this.absences.set(key, [at]);
        else list.push(at);
      }
      for (const { kv, at, valueShown } of keyValuesShown(op.input, op.output)) {
        const { key, value, modRevision, createRevision } = kv;
        // Every key-value a response shows makes its value not anonymous (keys-only adds "", harmlessly).
        if (typeof key === 'string' && typeof value === 'string') this.shown.add(`${key}\u0000${value}`);
        if (typeof key !== 'string' || typeof modRevision !== 'number' || typeof createRevision !== 'number') continue;
        const shownValue = valueShown && typeof value === 'string' ? value : undefined;
        this.require(modRevision, shownValue === undefined ? { key } : { key, value: shownValue });
        if (createRevision !== modRevision) this.require(createRevision, { key });
        if (at === undefined) continue; // seen inside a txn between its writes: when exactly is unclear
        add(noWrite, key, modRevision, at);
        const version = kv['version'];
        if (typeof version === 'number') {
          const list = this.sightings.get(key);
          const sighting = { at, createRevision, modRevision, version };
          if (list === undefined) this.sightings.set(key, [sighting]);
          else list.push(sighting);
        }
        add(noDelete, key, createRevision, at);
      }
    }
    this.addWatchFacts(watch, universe, (key, lo, hi) => { add(noWrite, key, lo, hi); }, (key, lo, hi) => { add(noDelete, key, lo, hi); });
    for (const list of this.sightings.values()) list.sort((a, b) => a.at - b.at);
    for (const list of this.absences.values()) list.sort((a, b) => a - b);
    this.noWrite = new Map([...noWrite].map(([k, v]) => [k, merge(v)]));
    this.noDelete = new Map([...noDelete].map(([k, v]) => [k, merge(v)]));
  }

  /** True when some response shows that `key` was not put (or deleted) at `revision`. */
  forbids(key: string, revision: number, deleted: boolean): boolean {
    return within(this.noWrite.get(key), revision) || (deleted && within(this.noDelete.get(key), revision));
  }

  /** The first sighting of `key` at or after `revision`. */
  nextSighting(key: string, revision: number): Sighting | undefined {
    const list = this.sightings.get(key);
    return list === undefined ? undefined : list[countBelow(list, (s) => s.at < revision)];
  }

  /** The first revision at or after `revision` at which `key` was seen absent. */
  nextAbsence(key: string, revision: number): number | undefined {
    const list = this.absences.get(key);
    return list === undefined ? undefined : list[countBelow(list, (at) => at < revision)];
  }

  /**
   * A put heard at r: the write at r put that value, the one at its create
   * revision put the key, and the key was live at r as the event shows it. A
   * delete heard at r: the write at r deleted the key. A span: no write touched
   * a key of the watched range in it, except where the stream heard one.
   */
  private addWatchFacts(watch: WatchFacts, universe: readonly string[], noWrite: AddInterval, noDelete: AddInterval): void {
    for (const { revision, key, value, createRevision, version } of watch.puts) {
      this.shown.add(`${key}\u0000${value}`);
      this.require(revision, { key, value });
      if (createRevision !== revision) this.require(createRevision, { key });
      const sighting = { at: revision, createRevision, modRevision: revision, version };
      const list = this.sightings.get(key);
      if (list === undefined) this.sightings.set(key, [sighting]);
      else list.push(sighting);
      noDelete(key, createRevision, revision);
    }
    for (const { revision, key } of watch.deletes) {
      const list = this.absences.get(key);
      if (list === undefined) this.absences.set(key, [revision]);
      else list.push(revision);
      const keys = this.deletesAt.get(revision);
      if (keys === undefined) this.deletesAt.set(revision, [key]);
      else if (!keys.includes(key)) keys.push(key);
    }
    for (const span of watch.spans) {
      for (const key of keysInRange(universe, span.key, span.rangeEnd)) {
        let lo = span.from;
        for (const r of span.heard.get(key) ?? []) {
          noWrite(key, lo, r - 1);
          lo = Math.max(lo, r);
        }
        noWrite(key, lo, span.to);
      }
    }
  }

  private require(revision: number, put: RequiredPut): void {
    const list = this.putsAt.get(revision);
    if (list === undefined) {
      this.putsAt.set(revision, [put]);
      return;
    }
    const same = list.find((p) => p.key === put.key);
    if (same === undefined) list.push(put);
    else if (same.value === undefined) list[list.indexOf(same)] = put;
    else if (put.value !== undefined && put.value !== same.value) this.conflicts.push({ revision, key: put.key });
  }
}

type Obj = { readonly [key: string]: Json };
const isObj = (x: Json | undefined): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const objects = (x: Json | undefined): Obj[] => (Array.isArray(x) ? (x as readonly Json[]).filter(isObj) : []);

/**
 * The key-values a response shows, each with the revision it was live at when
 * that is certain (undefined for a range inside a txn between its writes).
 */
function keyValuesShown(request: EtcdRequest, response: EtcdResponse): { kv: Obj; at: number | undefined; valueShown: boolean }[] {
  const p = response['revision'];
  if (typeof p !== 'number' || response['error'] !== undefined) return [];
  const out: { kv: Obj; at: number | undefined; valueShown: boolean }[] = [];
  /** `current`: the revision a latest read sees; `before`: the one a write's prev values show (undefined: unclear). */
  const ofOp = (op: RequestOp, sub: Obj, current: number | undefined, before: number | undefined): void => {
    switch (op.type) {
      case 'range': {
        // A range at a past revision shows that revision; otherwise the current one.
        const past = (op.revision ?? 0) > 0 && (op.revision ?? 0) < p ? op.revision : undefined;
        for (const kv of objects(sub['kvs'])) out.push({ kv, at: past ?? current, valueShown: op.keysOnly !== true });
        return;
      }
      case 'put': {
        const prev = sub['prevKv'];
        if (isObj(prev)) out.push({ kv: prev, at: before, valueShown: true });
        return;
      }
      case 'delete':
        // prev_kvs are what the delete removed: live just before its revision.
        for (const kv of objects(sub['prevKvs'])) out.push({ kv, at: before, valueShown: true });
        return;
    }
  };
  switch (request.type) {
    case 'range':
      ofOp(request, response, p, undefined);
      break;
    case 'put':
    case 'delete':
      ofOp(request, response, p, p - 1);
      break;
    case 'txn': {
      const succeeded = response['succeeded'];
      const responses = response['responses'];
      if (typeof succeeded !== 'boolean' || !Array.isArray(responses)) break;
      const branch = succeeded ? request.success : request.failure;
      const isWrite = (o: RequestOp | undefined): boolean => o !== undefined && o.type !== 'range';
      // Did the txn make revision p? Then ops before its first write see p - 1, ops after its last write see p.
      const wrote = branch.some((o) => o.type === 'put') || objects(responses).some((r) => typeof r['deleted'] === 'number' && r['deleted'] > 0);
      for (let i = 0; i < branch.length; i++) {
        const op = branch[i];
        const sub = (responses as readonly Json[])[i];
        if (op === undefined || !isObj(sub)) continue;
        const writesBefore = branch.slice(0, i).some(isWrite);
        const writesAfter = branch.slice(i + 1).some(isWrite);
        const current = !writesBefore ? (wrote ? p - 1 : p) : !writesAfter ? p : undefined;
        ofOp(op, sub, current, writesBefore ? undefined : p - 1);
      }
      break;
    }
    default:
      break;
  }
  return out;
}

/** Every key some request (of any outcome) may put, sorted: the only keys that can ever exist. */
function keysEverPut(history: readonly EtcdOp[]): readonly string[] {
  const keys = new Set<string>();
  for (const op of history) {
    const request = op.input;
    if (request.type === 'put') keys.add(request.key);
    if (request.type === 'txn') for (const o of [...request.success, ...request.failure]) if (o.type === 'put') keys.add(o.key);
  }
  return [...keys].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** The keys of `universe` (sorted) in [key, rangeEnd) ("\u0000": every key >= key). */
function keysInRange(universe: readonly string[], key: string, rangeEnd: string): readonly string[] {
  const from = countBelow(universe, (k) => k < key);
  const to = rangeEnd === '\u0000' ? universe.length : countBelow(universe, (k) => k < rangeEnd);
  return universe.slice(from, Math.max(from, to));
}

/**
 * Keys a read found absent, with the revision it read (top-level ranges and txn
 * ranges before any write): a single-key read that found nothing, and every key
 * ever put that falls inside a range read which returned all it matched (no
 * limit cut it, values or keys shown) yet did not return that key.
 */
function absencesShown(request: EtcdRequest, response: EtcdResponse, universe: readonly string[]): { key: string; at: number }[] {
  const p = response['revision'];
  if (typeof p !== 'number' || response['error'] !== undefined) return [];
  const absent = (op: RequestOp, sub: Obj, current: number): { key: string; at: number }[] => {
    if (op.type !== 'range') return [];
    const past = (op.revision ?? 0) > 0 && (op.revision ?? 0) < p ? (op.revision ?? 0) : undefined;
    const at = past ?? current;
    if (op.rangeEnd !== undefined && op.rangeEnd !== '') {
      const kvs = sub['kvs'];
      const limited = (op.limit ?? 0) > 0 || sub['more'] === true;
      if (op.countOnly === true || limited || !Array.isArray(kvs)) return [];
      const returned = new Set(objects(kvs).map((kv) => kv['key']));
      return keysInRange(universe, op.key, op.rangeEnd).filter((key) => !returned.has(key)).map((key) => ({ key, at }));
    }
    const found = op.countOnly === true ? sub['count'] !== 0 : !Array.isArray(sub['kvs']) || (sub['kvs'] as readonly Json[]).length > 0;
    if (found) return [];
    return [{ key: op.key, at }];
  };
  if (request.type === 'range') return absent(request, response, p);
  if (request.type !== 'txn') return [];
  const succeeded = response['succeeded'];
  const responses = response['responses'];
  if (typeof succeeded !== 'boolean' || !Array.isArray(responses)) return [];
  const branch = succeeded ? request.success : request.failure;
  const wrote = branch.some((o) => o.type === 'put') || objects(responses).some((r) => typeof r['deleted'] === 'number' && r['deleted'] > 0);
  const out: { key: string; at: number }[] = [];
  // Only ranges before the txn's first write: they read the store as it was before it.
  for (let i = 0; i < branch.length && branch[i]?.type === 'range'; i++) {
    const op = branch[i];
    const sub = (responses as readonly Json[])[i];
    if (op === undefined || !isObj(sub)) break;
    out.push(...absent(op, sub, wrote ? p - 1 : p));
  }
  return out;
}

function merge(list: [number, number][]): Intervals {
  list.sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of list) {
    const last = out[out.length - 1];
    if (last !== undefined && lo <= last[1]) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

/** Whether `revision` lies in some (lo, hi]. */
function within(intervals: Intervals | undefined, revision: number): boolean {
  if (intervals === undefined) return false;
  let a = 0;
  let b = intervals.length;
  while (a < b) {
    const mid = (a + b) >> 1;
    if ((intervals[mid]?.[0] ?? Infinity) < revision) a = mid + 1;
    else b = mid;
  }
  // intervals[a - 1] is the last one starting below `revision`.
  const candidate = intervals[a - 1];
  return candidate !== undefined && revision <= candidate[1];
}
