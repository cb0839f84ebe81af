// Which unknown write made each revision that no ok operation claims (a gap)?
//
// In any legal linearization the revisions are dense, so each gap was made by
// exactly one op whose outcome is unknown, applied to the store as it was just
// before that revision; every other unknown write either never happened or
// happened after everything that was observed (its response is never checked,
// so both are the same to the checker). Everything else is already fixed by
// the revisions: the ok ops sit in replay order, and the gaps sit between them.
// So the search is a depth-first walk over the gaps in revision order: at each
// gap, try each unknown write that may fill it, replay the ok ops up to the
// next gap, and back up on the first answer that disagrees. That walk is
// complete: if it finds nothing, no choice of fillers explains the history.
//
// What keeps it small, each sound because it only refuses what every legal
// linearization refuses:
//   - a filler must fit real time (nothing that returned before its call may sit
//     after its revision) and must write exactly its revision;
//   - it must make the puts responses show at that revision (observations.ts)
//     and must not write a key a response shows unchanged there;
//   - interchangeable unknown writes (same request except for put values no
//     response shows and no compare reads) are tried once per gap: the one
//     invoked first. It fits every gap any of them fits, and trading two of them
//     between gaps changes no answer.

import type { Operation } from '../history.js';
import type { Observations } from './observations.js';
import { countBelow } from './sorted.js';
import { ModelStore } from './store.js';
import type { EtcdRequest, EtcdResponse, RequestOp } from './types.js';
import { responseMatches } from './types.js';

type EtcdOp = Operation<EtcdRequest, EtcdResponse>;

/** An ok op at its place in the replay: key 2r = the write at r, 2r+1 = in the bucket after r. */
export interface Slot {
  readonly op: EtcdOp;
  readonly key: number;
}

export interface GapSearchInput {
  /** The ok ops in replay order. */
  readonly slots: readonly Slot[];
  /** The revisions no ok op claims, ascending. */
  readonly gaps: readonly number[];
  readonly unknownWriters: readonly EtcdOp[];
  /** Ok ops that may or may not have made a revision (lease revokes): tried as its writer, else replayed in its bucket. */
  readonly optionalWriters: ReadonlyMap<number, readonly EtcdOp[]>;
  /** Whether real time lets `op` make revision `gap` (monotone: true for every later gap too). */
  readonly fits: (op: EtcdOp, gap: number) => boolean;
  /** Whether a wrong answer at this slot proves the fillers chosen so far wrong (no freedom left in its bucket). */
  readonly certain: (slot: Slot) => boolean;
  readonly observations: Observations;
  readonly initialRevision: number;
  /** Out of time: stop with "inconclusive". */
  readonly expired: () => boolean;
}

export type GapSearchResult =
  /** `store`: the replayed store with its complete event log, when the successful path never cloned it. */
  | { readonly kind: 'ok'; readonly fillers: ReadonlyMap<number, EtcdOp>; readonly store?: ModelStore }
  /** No choice of fillers explains the history; `ops` are the culprits of the furthest any choice reached. */
  | { readonly kind: 'illegal'; readonly reason: string; readonly ops: readonly number[]; readonly prefix: readonly number[] }
  | { readonly kind: 'inconclusive'; readonly reason: string };

interface Frame {
  readonly level: number;
  /** The store after the ok ops before gap `level`; cloned per candidate when there are several. */
  readonly base: ModelStore;
  readonly candidates: readonly EtcdOp[];
  next: number;
}

export function searchGapFillers(input: GapSearchInput): GapSearchResult {
  const { slots, gaps, observations } = input;
  const putters = mayPutIndex(input.unknownWriters);
  // segmentEnd[i]: the slots before gap i are slots[segmentEnd[i - 1] .. segmentEnd[i]).
  const segmentEnd: number[] = [];
  let cursor = 0;
  for (const gap of gaps) {
    while (cursor < slots.length && (slots[cursor]?.key ?? Infinity) < 2 * gap) cursor++;
    segmentEnd.push(cursor);
  }
  segmentEnd.push(slots.length);

  const classOf = interchangeable(input.unknownWriters, observations);
  const used = new Set<EtcdOp>();
  const path: EtcdOp[] = [];
  let uncertainDeadEnd = false;
  let furthest: { index: number; response: EtcdResponse; path: readonly EtcdOp[] } | undefined;
  /** The latest gap at which every candidate was refused before any replay (when no replay failed). */
  let unfillable: number | undefined;

  /** Replays the slots of segment `level` onto `store`; the index of the first wrong answer, if any. */
  const replaySegment = (store: ModelStore, level: number): { index: number; response: EtcdResponse } | undefined => {
    for (let i = level === 0 ? 0 : (segmentEnd[level - 1] ?? 0); i < (segmentEnd[level] ?? 0); i++) {
      const slot = slots[i];
      if (slot === undefined || slot.op.output === undefined || used.has(slot.op)) continue; // (a revoke that made a gap)
      const response = store.apply(slot.op.input);
      if (!responseMatches(response, slot.op.output) || ((slot.key & 1) === 0 && store.revision !== slot.key / 2)) return { index: i, response };
    }
    return undefined;
  };
  const deadEnd = (failure: { index: number; response: EtcdResponse }): void => {
    const slot = slots[failure.index];
    if (slot !== undefined && !input.certain(slot)) uncertainDeadEnd = true;
    if (furthest === undefined || failure.index > furthest.index) furthest = { ...failure, path: [...path] };
  };

  /**
   * Fillers worth trying at gap `level` on `store`: one per interchangeable
   * class; first those that serve the most pressing need the responses show (a
   * key that must still be put, or deleted, by the earliest revision), then the
   * most recently invoked. Only the order depends on this: every one is tried.
   */
  const candidatesAt = (level: number, store: ModelStore): EtcdOp[] => {
    const gap = gaps[level] ?? 0;
    const required = observations.putsAt.get(gap) ?? [];
    const named = required.find((r) => r.value !== undefined);
    // A value a response names has few writers (one, with unique values): no need to look at the others.
    const pool = named === undefined ? input.unknownWriters : (putters.get(pairKey(named.key, named.value ?? '')) ?? []);
    const firstOfClass = new Map<string, EtcdOp>();
    for (const op of pool) {
      if (used.has(op)) continue;
      const cls = classOf.get(op) ?? '';
      if (firstOfClass.has(cls)) continue;
      firstOfClass.set(cls, op); // unknownWriters is sorted by call: the first unused one of its class
    }
    const out: EtcdOp[] = [];
    const optional = (input.optionalWriters.get(gap) ?? []).filter((op) => input.fits(op, gap));
    for (const op of firstOfClass.values()) {
      if (!input.fits(op, gap)) continue;
      if (!required.every((r) => mayPut(op.input, r.key, r.value))) continue;
      if (op.input.type === 'put' && observations.forbids(op.input.key, gap, false)) continue;
      out.push(op);
    }
    const urgency = needs(store, gap);
    const score = new Map(out.map((op) => [op, serves(op.input, urgency)]));
    out.sort((a, b) => (score.get(a) ?? Infinity) - (score.get(b) ?? Infinity) || b.call - a.call);
    return [...optional, ...out];
  };

  /** Per key, the earliest revision by which it must be put again, or deleted, to meet the later reads. */
  function needs(store: ModelStore, gap: number): { put: Map<string, number>; del: Map<string, number> } {
    const put = new Map<string, number>();
    const del = new Map<string, number>();
    for (const key of new Set([...observations.sightings.keys(), ...observations.absences.keys()])) {
      const kv = store.get(key);
      if (kv !== undefined) {
        const by = deleteBy(key, gap);
        if (by !== Infinity) del.set(key, by);
      }
      const seen = observations.nextSighting(key, gap);
      if (seen === undefined) continue;
      if (seen.createRevision >= gap && (kv === undefined || del.has(key))) put.set(key, seen.createRevision);
      else if (kv !== undefined && kv.createRevision === seen.createRevision && seen.modRevision >= gap) {
        const certain = countBelow(okPuts.get(key) ?? [], (r) => r <= seen.modRevision) - countBelow(okPuts.get(key) ?? [], (r) => r < gap);
        if (seen.version - kv.version > certain) put.set(key, seen.modRevision);
      }
    }
    return { put, del };
  }

  const okPuts = okPutsByKey(slots);
  /** How many keys beyond one each unknown write may change at its revision (Infinity: unbounded). */
  const extraKeys = new Map(input.unknownWriters.map((op) => [op, writeWidth(op.input) - 1]));
  let extraUnused = 0;
  /** Unused writes of unbounded width (and ok revokes that may make a gap): while any is left, the bound says nothing. */
  let unboundedUnused = [...input.optionalWriters.values()].reduce((n, ops) => n + ops.length, 0);
  for (const extra of extraKeys.values()) {
    if (extra === Infinity) unboundedUnused++;
    else extraUnused += extra;
  }
  const use = (op: EtcdOp): void => {
    used.add(op);
    const extra = extraKeys.get(op);
    if (extra === Infinity || (extra === undefined && op.output !== undefined)) unboundedUnused--;
    else extraUnused -= extra ?? 0;
  };
  const unuse = (op: EtcdOp): void => {
    used.delete(op);
    const extra = extraKeys.get(op);
    if (extra === Infinity || (extra === undefined && op.output !== undefined)) unboundedUnused++;
    else extraUnused += extra ?? 0;
  };
  const okPutsIn = (key: string, lo: number, hi: number): number =>
    countBelow(okPuts.get(key) ?? [], (r) => r <= hi) - countBelow(okPuts.get(key) ?? [], (r) => r <= lo);
  const gapSet = new Set(gaps);
  /** Per key, the gaps whose writer a response shows put it (create or mod revision), ascending. */
  const forcedPuts = new Map<string, number[]>();
  for (const gap of gaps) {
    for (const { key } of observations.putsAt.get(gap) ?? []) {
      const list = forcedPuts.get(key);
      if (list === undefined) forcedPuts.set(key, [gap]);
      else list.push(gap);
    }
  }
  /** For each gap whose writer a response names with a value: the writes that may have put it. */
  const namedWriters: { gap: number; writers: readonly EtcdOp[] }[] = [];
  for (const gap of gaps) {
    const named = (observations.putsAt.get(gap) ?? []).filter((r) => r.value !== undefined);
    if (named.length === 0) continue;
    const [first] = named;
    const pool = [...(first === undefined ? [] : (putters.get(pairKey(first.key, first.value ?? '')) ?? [])), ...(input.optionalWriters.get(gap) ?? [])];
    namedWriters.push({ gap, writers: pool.filter((op) => named.every((r) => mayPut(op.input, r.key, r.value))) });
  }
  /**
   * Whether every later gap a response names still has a writer that can make
   * it: unused, and, for a compare-and-swap on a mod revision that is already
   * past, only if the key still has that mod revision (mod revisions never come back).
   */
  const namedStillPossible = (store: ModelStore, level: number): boolean => {
    const gap = gaps[level] ?? 0;
    for (const { gap: later, writers } of namedWriters) {
      if (later <= gap) continue;
      if (!writers.some((op) => !used.has(op) && mayStillWrite(op.input, store))) return false;
    }
    return true;
  };
  /**
   * Whether the puts and deletes later reads still need, each by its deadline,
   * fit in the gaps left: by every deadline D, the needs due by D are at most
   * the gaps up to D plus the extra keys the unused unknown writes could change
   * at once (each gap gets one writer, which serves at most its width of needs).
   */
  const jointlyFeasible = (store: ModelStore, level: number): boolean => {
    if (unboundedUnused > 0 || !countable) return true;
    const gap = gaps[level] ?? 0;
    const due: { by: number; count: number }[] = [];
    for (const key of new Set([...observations.sightings.keys(), ...observations.absences.keys()])) {
      const kv = store.get(key);
      if (kv !== undefined) {
        const by = deleteBy(key, gap);
        if (by !== Infinity && countBelow(okDeletes, (r) => r <= by) === countBelow(okDeletes, (r) => r <= gap)) due.push({ by, count: 1 });
      }
      const seen = observations.nextSighting(key, gap);
      if (seen === undefined) continue;
      if (seen.createRevision > gap) {
        if (gapSet.has(seen.createRevision)) due.push({ by: seen.createRevision, count: 1 });
        const more = seen.version - 1 - okPutsIn(key, seen.createRevision, seen.modRevision);
        if (more > 0) due.push({ by: seen.modRevision, count: more });
      } else if (kv !== undefined && kv.createRevision === seen.createRevision && seen.modRevision > gap) {
        const more = seen.version - kv.version - okPutsIn(key, gap, seen.modRevision);
        if (more > 0) due.push({ by: seen.modRevision, count: more });
      }
    }
    due.sort((a, b) => a.by - b.by);
    let total = 0;
    for (const { by, count } of due) {
      total += count;
      if (total > gapsUpTo(level, by) + extraUnused) return false;
    }
    return true;
  };
  /** Revisions at which an ok op may have deleted something (deletes, txns, lease revokes). */
  const okDeletes = slots
    .filter((s) => s.op.input.type === 'delete' || s.op.input.type === 'leaseRevoke' || (s.op.input.type === 'txn' && [...s.op.input.success, ...s.op.input.failure].some((o) => o.type === 'delete')))
    .map((s) => s.key >> 1)
    .sort((a, b) => a - b);
  /** Whether a delete of a live key can still happen in (gaps[level], deadline]. */
  const deletable = (level: number, deadline: number): boolean =>
    gapsUpTo(level, deadline) > 0 || countBelow(okDeletes, (r) => r <= deadline) > countBelow(okDeletes, (r) => r <= (gaps[level] ?? 0));
  /** The revision by which a key live now must be deleted, if a later read shows it gone or re-created. */
  const deleteBy = (key: string, revision: number): number => {
    const seen = observations.nextSighting(key, revision);
    const absent = observations.nextAbsence(key, revision) ?? Infinity;
    return Math.min(absent, seen !== undefined && seen.createRevision > revision && seen.at < absent ? seen.createRevision - 1 : Infinity);
  };
  /** Counting puts per revision needs one put per key per revision (etcd refuses duplicate keys in a txn). */
  const countable = !input.unknownWriters.some((op) => putsOneKeyTwice(op.input)) && !slots.some((s) => putsOneKeyTwice(s.op.input));
  /** How many gaps lie in (gaps[level], revision]. */
  const gapsUpTo = (level: number, revision: number): number => countBelow(gaps, (g) => g <= revision) - (level + 1);

  /** Whether the filler just applied at gap `level` did what the responses require there. */
  const consistent = (store: ModelStore, level: number): boolean => {
    const gap = gaps[level] ?? 0;
    if (store.revision !== gap) return false;
    for (const w of store.lastWrites) if (observations.forbids(w.key, gap, w.deleted)) return false;
    for (const r of observations.putsAt.get(gap) ?? []) {
      const kv = store.get(r.key);
      if (kv === undefined || kv.modRevision !== gap || (r.value !== undefined && kv.value !== r.value)) return false;
    }
    // Look ahead: a key live now that a later read shows gone must still meet a delete.
    for (const key of observations.absences.keys()) {
      if (store.get(key) === undefined) continue;
      const by = deleteBy(key, gap);
      if (by !== Infinity && !deletable(level, by)) return false;
    }
    // A key seen later, created at or before this revision, was alive
    // now with that create revision, and its version must still be reachable with
    // the ok puts and the gaps left before its sighted mod revision.
    for (const key of observations.sightings.keys()) {
      const seen = observations.nextSighting(key, gap);
      if (seen === undefined || seen.createRevision > gap) continue;
      const kv = store.get(key);
      if (kv === undefined || kv.createRevision !== seen.createRevision) return false;
      if (seen.modRevision <= gap) {
        if (kv.modRevision !== seen.modRevision || kv.version !== seen.version) return false;
      } else if (countable) {
        // At least the ok puts and the gaps a response names as puts of the key; at most the ok puts and every gap left.
        const missing = seen.version - kv.version;
        const certain = okPutsIn(key, gap, seen.modRevision);
        const forced = countIn(forcedPuts.get(key) ?? [], gap, seen.modRevision);
        if (missing < certain + forced || missing > certain + gapsUpTo(level, seen.modRevision)) return false;
      }
    }
    return true;
  };

  const impossible = unwritableValue(input, putters);
  if (impossible !== undefined) return impossible;

  // The event log survives only in the store replayed without branching (clones leave it out).
  const start = new ModelStore({ initialRevision: input.initialRevision, recordEvents: true });
  const first = replaySegment(start, 0);
  if (first !== undefined) {
    deadEnd(first);
    return verdict();
  }
  if (gaps.length === 0) return { kind: 'ok', fillers: new Map(), store: start };
  const stack: Frame[] = [{ level: 0, base: start, candidates: candidatesAt(0, start), next: 0 }];
  let turns = 0;
  while (stack.length > 0) {
    if ((++turns & 63) === 0 && input.expired()) return { kind: 'inconclusive', reason: 'out of time while searching the fillers of unclaimed revisions' };
    const frame = stack[stack.length - 1];
    if (frame === undefined) break;
    if (frame.next > 0) {
      // Back from the previous candidate of this frame.
      const undone = path.pop();
      if (undone !== undefined) unuse(undone);
    }
    const op = frame.candidates[frame.next++];
    if (op === undefined) {
      stack.pop();
      unfillable = Math.max(unfillable ?? -Infinity, gaps[frame.level] ?? 0);
      continue;
    }
    const store = frame.candidates.length > 1 ? frame.base.clone() : frame.base;
    const response = store.apply(op.input);
    path.push(op);
    use(op);
    if (op.output !== undefined && !responseMatches(response, op.output)) continue; // an ok revoke must still answer as recorded
    if (!consistent(store, frame.level) || !jointlyFeasible(store, frame.level) || !namedStillPossible(store, frame.level)) continue;
    const level = frame.level + 1;
    const failure = replaySegment(store, level);
    if (failure !== undefined) {
      deadEnd(failure);
      continue;
    }
    if (level === gaps.length) {
      const fillers = new Map<number, EtcdOp>();
      path.forEach((filler, i) => fillers.set(gaps[i] ?? 0, filler));
      return store === start ? { kind: 'ok', fillers, store } : { kind: 'ok', fillers };
    }
    stack.push({ level, base: store, candidates: candidatesAt(level, store), next: 0 });
  }
  return verdict();

  function verdict(): GapSearchResult {
    if (uncertainDeadEnd) return { kind: 'inconclusive', reason: 'no choice of fillers explains the answers, but some answers sit in buckets whose order is a guess' };
    const at = furthest === undefined ? undefined : slots[furthest.index];
    if (furthest === undefined || at === undefined) {
      // Every choice died before replaying anything: no unknown write could make some revision.
      const gap = unfillable ?? gaps[0] ?? 0;
      const next = slots[countBelow(slots, (s) => s.key < 2 * gap)];
      return {
        kind: 'illegal',
        reason: `revision ${gap}: no unknown write can have made it (none fits real time and what the responses show there)`,
        ops: next === undefined ? [] : [next.op.id],
        prefix: [],
      };
    }
    const fillerIds = new Set(furthest.path.map((op) => op.id));
    const prefix = [...slots.slice(0, furthest.index).map((s) => s.op.id), ...fillerIds];
    const filled = gaps.length === 0 ? '' : ` (whichever unknown writes made revisions ${gaps.slice(0, 5).join(', ')}${gaps.length > 5 ? ', …' : ''})`;
    const where = (at.key & 1) === 0 ? `revision ${at.key / 2}` : `a read of revision ${at.key >> 1}`;
    return { kind: 'illegal', reason: `line ${at.op.line}: at ${where} the store answers ${JSON.stringify(furthest.response)}${filled}`, ops: [at.op.id], prefix };
  }
}

/**
 * A value some response shows written at a revision that no op there can have
 * put: illegal whatever the order inside buckets, since the fact holds in every
 * legal linearization.
 */
function unwritableValue(input: GapSearchInput, putters: ReadonlyMap<string, readonly EtcdOp[]>): GapSearchResult | undefined {
  const writerAt = new Map<number, EtcdOp>();
  for (const { op, key } of input.slots) if ((key & 1) === 0) writerAt.set(key / 2, op);
  const gapSet = new Set(input.gaps);
  const [conflict] = input.observations.conflicts;
  if (conflict !== undefined) {
    const writer = writerAt.get(conflict.revision);
    return {
      kind: 'illegal',
      reason: `responses show two different values of ${JSON.stringify(conflict.key)} written at revision ${conflict.revision}`,
      ops: writer === undefined ? [] : [writer.id],
      prefix: [],
    };
  }
  for (const [revision, puts] of input.observations.putsAt) {
    for (const { key, value } of puts) {
      if (value === undefined) continue;
      const writer = writerAt.get(revision);
      const possible =
        writer !== undefined ? mayPut(writer.input, key, value)
        : gapSet.has(revision) ? (putters.get(pairKey(key, value))?.length ?? 0) > 0
        : false;
      if (possible) continue;
      const next = input.slots.find((s) => s.key > 2 * revision);
      return {
        kind: 'illegal',
        reason: `a response shows ${JSON.stringify(key)} = ${JSON.stringify(value)} written at revision ${revision}, which no operation there can have written`,
        ops: writer !== undefined ? [writer.id] : next === undefined ? [] : [next.op.id],
        prefix: [],
      };
    }
  }
  return undefined;
}

/** The revisions of the ok ops' puts, per key, ascending. */
function okPutsByKey(slots: readonly Slot[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const { op, key } of slots) {
    if ((key & 1) === 1 || op.output === undefined) continue;
    const request = op.input;
    const branch = request.type === 'put' ? [request] : request.type === 'txn' ? (op.output['succeeded'] === true ? request.success : request.failure) : [];
    for (const o of branch) {
      if (o.type !== 'put') continue;
      const list = out.get(o.key);
      if (list === undefined) out.set(o.key, [key / 2]);
      else list.push(key / 2);
    }
  }
  for (const list of out.values()) list.sort((a, b) => a - b);
  return out;
}

/** Whether a txn branch puts one key twice (the model then bumps its version twice in one revision). */
function putsOneKeyTwice(request: EtcdRequest): boolean {
  if (request.type !== 'txn') return false;
  const twice = (ops: readonly RequestOp[]): boolean => {
    const keys = ops.flatMap((o) => (o.type === 'put' ? [o.key] : []));
    return new Set(keys).size !== keys.length;
  };
  return twice(request.success) || twice(request.failure);
}

/** How many of the ascending numbers lie in (lo, hi]. */
function countIn(sorted: readonly number[], lo: number, hi: number): number {
  return countBelow(sorted, (r) => r <= hi) - countBelow(sorted, (r) => r <= lo);
}


/** Whether a request can still write in some future state of `store`: a txn needs a branch that writes and can still be taken. */
function mayStillWrite(request: EtcdRequest, store: ModelStore): boolean {
  if (request.type !== 'txn') return true;
  const writes = (ops: readonly RequestOp[]): boolean => ops.some((o) => o.type !== 'range');
  if (writes(request.failure)) return true;
  if (!writes(request.success)) return false;
  return request.compare.every((c) => {
    // A key's mod revision only ever moves up to new revisions (or to 0, deleted): one already past cannot come back.
    if (c.target !== 'mod' || c.result !== '=' || typeof c.value !== 'number' || c.value === 0 || c.value > store.revision) return true;
    return store.get(c.key)?.modRevision === c.value;
  });
}

/** How many keys a request may change at its revision, at most (Infinity: a range delete or a lease revoke). */
function writeWidth(request: EtcdRequest): number {
  const width = (ops: readonly RequestOp[]): number =>
    ops.reduce((n, op) => (op.type === 'put' ? n + 1 : op.type === 'delete' ? (op.rangeEnd === undefined || op.rangeEnd === '' ? n + 1 : Infinity) : n), 0);
  switch (request.type) {
    case 'put':
    case 'delete':
      return width([request]);
    case 'txn':
      return Math.max(1, width(request.success), width(request.failure));
    case 'leaseRevoke':
      return Infinity;
    default:
      return 1;
  }
}

/** The earliest deadline among the needs a request may serve (Infinity: none). */
function serves(request: EtcdRequest, need: { put: ReadonlyMap<string, number>; del: ReadonlyMap<string, number> }): number {
  const ops = request.type === 'txn' ? [...request.success, ...request.failure] : request.type === 'put' || request.type === 'delete' ? [request] : [];
  let best = Infinity;
  for (const op of ops) {
    if (op.type === 'put') best = Math.min(best, need.put.get(op.key) ?? Infinity);
    if (op.type === 'delete') {
      if (op.rangeEnd === undefined || op.rangeEnd === '') best = Math.min(best, need.del.get(op.key) ?? Infinity);
      else for (const [key, by] of need.del) if (key >= op.key && (op.rangeEnd === '\u0000' || key < op.rangeEnd)) best = Math.min(best, by);
    }
  }
  return best;
}

const pairKey = (key: string, value: string): string => `${key}\u0000${value}`;

/** The ops that may put each (key, value), in the order given. */
function mayPutIndex(ops: readonly EtcdOp[]): Map<string, EtcdOp[]> {
  const index = new Map<string, EtcdOp[]>();
  for (const op of ops) {
    const request = op.input;
    const puts = request.type === 'put' ? [request] : request.type === 'txn' ? [...request.success, ...request.failure] : [];
    for (const put of new Set(puts.flatMap((o) => (o.type === 'put' ? [pairKey(o.key, o.value)] : [])))) {
      const list = index.get(put);
      if (list === undefined) index.set(put, [op]);
      else list.push(op);
    }
  }
  return index;
}

/** Whether some branch of the request could put `value` (or anything, when undefined) at `key`. */
function mayPut(request: EtcdRequest, key: string, value: string | undefined): boolean {
  const puts = (op: RequestOp): boolean => op.type === 'put' && op.key === key && (value === undefined || op.value === value);
  if (request.type === 'put') return puts(request);
  if (request.type === 'txn') return request.success.some(puts) || request.failure.some(puts);
  return false;
}

/**
 * Classes of unknown writes that are interchangeable: the same request once the
 * values of their puts are blanked, where no response shows such a value and no
 * compare reads the key's value (so nothing could tell them apart), and without
 * prev_kv (an unknown op's response is never checked).
 */
function interchangeable(ops: readonly EtcdOp[], observations: Observations): Map<EtcdOp, string> {
  const anonymous = (key: string, value: string): boolean => !observations.valueCompared.has(key) && !observations.shown.has(`${key}\u0000${value}`);
  const blank = (op: RequestOp): RequestOp => {
    switch (op.type) {
      case 'put': {
        const { prevKv: _prevKv, ...rest } = op;
        return anonymous(op.key, op.value) ? { ...rest, value: '' } : rest;
      }
      case 'delete': {
        const { prevKv: _prevKv, ...rest } = op;
        return rest;
      }
      case 'range':
        return op;
    }
  };
  const classes = new Map<EtcdOp, string>();
  for (const op of ops) {
    const request = op.input;
    const canonical =
      request.type === 'put' || request.type === 'delete' ? blank(request)
      : request.type === 'txn' ? { ...request, success: request.success.map(blank), failure: request.failure.map(blank) }
      : request;
    classes.set(op, JSON.stringify(canonical));
  }
  return classes;
}
