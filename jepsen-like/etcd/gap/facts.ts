// What the gap search knows before it starts, computed once from its input:
// where the ok ops put and delete, which gaps a response names as puts, which
// unknown writes may put a value. Read-only during the walk; the rules beside
// this module ask it questions about revisions.

import type { Observations } from '../observations.js';
import { countBelow } from '../sorted.js';
import { deleteCovers, mayDeleteKey, mayPut, mayPutIndex, pairKey, putsOneKeyTwice } from './requests.js';
import type { RequestOp } from '../types.js';
import type { EtcdOp, GapSearchInput, Slot } from './types.js';

/** A gap whose writer a response names with a value, and the writes that may have put it. */
export interface NamedGap {
  readonly gap: number;
  readonly writers: readonly EtcdOp[];
}

export class GapFacts {
  readonly slots: readonly Slot[];
  readonly gaps: readonly number[];
  readonly observations: Observations;
  /** The unknown writes that may put each (key, value), by pairKey. */
  readonly putters: ReadonlyMap<string, readonly EtcdOp[]>;
  /** The revisions of the ok ops' puts, per key, ascending. */
  readonly okPuts: ReadonlyMap<string, readonly number[]>;
  /** The ok ops that may have deleted something (deletes, txns, lease revokes), by revision ascending. */
  readonly okDeletes: readonly OkDelete[];
  /** Per lease, every key some request (of any outcome) puts with it: all a revoke can ever delete. */
  readonly leaseKeys: ReadonlyMap<number, ReadonlySet<string>>;
  /** Per key, the gaps whose writer a response shows put it (create or mod revision), ascending. */
  readonly forcedPuts: ReadonlyMap<string, readonly number[]>;
  readonly namedGaps: readonly NamedGap[];
  /** Counting puts per revision needs one put per key per revision (etcd refuses duplicate keys in a txn). */
  readonly countable: boolean;
  readonly gapSet: ReadonlySet<number>;
  /** Every key some response shows live or absent, in a fixed order. */
  readonly watchedKeys: readonly string[];

  constructor(input: GapSearchInput) {
    const { slots, gaps, observations } = input;
    this.slots = slots;
    this.gaps = gaps;
    this.observations = observations;
    this.putters = mayPutIndex(input.unknownWriters);
    this.okPuts = okPutsByKey(slots);
    this.leaseKeys = keysPerLease([...slots.map((s) => s.op), ...input.unknownWriters]);
    this.okDeletes = okDeletesOf(slots);
    this.forcedPuts = forcedPutsByKey(gaps, observations);
    this.namedGaps = namedGaps(gaps, observations, this.putters, input.optionalWriters);
    this.countable = !input.unknownWriters.some((op) => putsOneKeyTwice(op.input)) && !slots.some((s) => putsOneKeyTwice(s.op.input));
    this.gapSet = new Set(gaps);
    this.watchedKeys = [...new Set([...observations.sightings.keys(), ...observations.absences.keys()])];
  }

  gapAt(level: number): number {
    return this.gaps[level] ?? 0;
  }

  /** How many gaps lie in (gaps[level], revision]. */
  gapsUpTo(level: number, revision: number): number {
    return countBelow(this.gaps, (g) => g <= revision) - (level + 1);
  }

  /** How many ok puts of `key` lie in (lo, hi]. */
  okPutsIn(key: string, lo: number, hi: number): number {
    return countIn(this.okPuts.get(key) ?? [], lo, hi);
  }

  /** How many gaps a response names as puts of `key` lie in (lo, hi]. */
  forcedPutsIn(key: string, lo: number, hi: number): number {
    return countIn(this.forcedPuts.get(key) ?? [], lo, hi);
  }

  /** How many ok ops that may delete `key` lie in (lo, hi]. */
  okDeletesIn(key: string, lo: number, hi: number): number {
    const from = countBelow(this.okDeletes, (d) => d.revision <= lo);
    const to = countBelow(this.okDeletes, (d) => d.revision <= hi);
    let n = 0;
    for (let i = from; i < to; i++) {
      const d = this.okDeletes[i];
      if (d !== undefined && mayDelete(d.op, key, this.leaseKeys)) n++;
    }
    return n;
  }

  /** The revision by which a key live now must be deleted, if a later read shows it gone or re-created. */
  deleteBy(key: string, revision: number): number {
    const seen = this.observations.nextSighting(key, revision);
    const absent = this.observations.nextAbsence(key, revision) ?? Infinity;
    return Math.min(absent, seen !== undefined && seen.createRevision > revision && seen.at < absent ? seen.createRevision - 1 : Infinity);
  }

  /** Whether a delete of live `key` can still happen in (gaps[level], deadline]. */
  deletable(key: string, level: number, deadline: number): boolean {
    return this.gapsUpTo(level, deadline) > 0 || this.okDeletesIn(key, this.gapAt(level), deadline) > 0;
  }
}

/** How many of the ascending numbers lie in (lo, hi]. */
export function countIn(sorted: readonly number[], lo: number, hi: number): number {
  return countBelow(sorted, (r) => r <= hi) - countBelow(sorted, (r) => r <= lo);
}

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

/** An ok op that may have deleted keys at `revision` (its slot's). */
export interface OkDelete {
  readonly revision: number;
  readonly op: EtcdOp;
}

function okDeletesOf(slots: readonly Slot[]): OkDelete[] {
  return slots
    .filter((s) => s.op.input.type === 'delete' || s.op.input.type === 'leaseRevoke' || (s.op.input.type === 'txn' && [...s.op.input.success, ...s.op.input.failure].some((o) => o.type === 'delete')))
    .map((s) => ({ revision: s.key >> 1, op: s.op }))
    .sort((a, b) => a.revision - b.revision);
}

/** Whether an ok op may have deleted `key`: a delete covering it, a txn whose branch taken (either, when unknown) does, a revoke of a lease it was ever put with. */
function mayDelete(op: EtcdOp, key: string, leaseKeys: ReadonlyMap<number, ReadonlySet<string>>): boolean {
  const request = op.input;
  const succeeded = op.output?.['succeeded'];
  if (request.type !== 'txn' || typeof succeeded !== 'boolean') return mayDeleteKey(request, key, leaseKeys);
  return (succeeded ? request.success : request.failure).some((o) => deleteCovers(o, key));
}

/** Per lease, every key some request puts with it (ok or not). */
export function keysPerLease(ops: readonly EtcdOp[]): Map<number, Set<string>> {
  const out = new Map<number, Set<string>>();
  const note = (o: RequestOp): void => {
    if (o.type !== 'put' || (o.lease ?? 0) === 0) return;
    const lease = o.lease ?? 0;
    const keys = out.get(lease);
    if (keys === undefined) out.set(lease, new Set([o.key]));
    else keys.add(o.key);
  };
  for (const { input } of ops) {
    if (input.type === 'put') note(input);
    if (input.type === 'txn') for (const o of [...input.success, ...input.failure]) note(o);
  }
  return out;
}

function forcedPutsByKey(gaps: readonly number[], observations: Observations): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const gap of gaps) {
    for (const { key } of observations.putsAt.get(gap) ?? []) {
      const list = out.get(key);
      if (list === undefined) out.set(key, [gap]);
      else list.push(gap);
    }
  }
  return out;
}

function namedGaps(
  gaps: readonly number[],
  observations: Observations,
  putters: ReadonlyMap<string, readonly EtcdOp[]>,
  optionalWriters: ReadonlyMap<number, readonly EtcdOp[]>,
): NamedGap[] {
  const out: NamedGap[] = [];
  for (const gap of gaps) {
    const named = (observations.putsAt.get(gap) ?? []).filter((r) => r.value !== undefined);
    const [first] = named;
    if (first === undefined) continue;
    const pool = [...(putters.get(pairKey(first.key, first.value ?? '')) ?? []), ...(optionalWriters.get(gap) ?? [])];
    out.push({ gap, writers: pool.filter((op) => named.every((r) => mayPut(op.input, r.key, r.value))) });
  }
  return out;
}
