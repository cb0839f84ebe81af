// Which fillers the walk tries at a gap, and in what order. Refusing a write
// here is sound only because every legal linearization refuses it too; the
// order is a heuristic and changes no verdict (every candidate is tried).

import { countBelow } from '../sorted.js';
import type { ModelStore } from '../store.js';
import type { GapFacts } from './facts.js';
import type { Needs } from './requests.js';
import { mayDeleteKey, mayPut, pairKey, serves } from './requests.js';
import type { EtcdOp } from './types.js';

export interface CandidateRules {
  readonly facts: GapFacts;
  readonly unknownWriters: readonly EtcdOp[];
  readonly optionalWriters: ReadonlyMap<number, readonly EtcdOp[]>;
  /** Symmetry classes (interchangeable.ts). */
  readonly classOf: ReadonlyMap<EtcdOp, string>;
  readonly fits: (op: EtcdOp, gap: number) => boolean;
}

/**
 * One unused write per interchangeable class, the first invoked (unknownWriters
 * is sorted by call). When a response names the value written at the gap, only
 * the writes that may put it (few: one, with unique values).
 */
export function firstOfEachClass(rules: CandidateRules, used: ReadonlySet<EtcdOp>, gap: number): EtcdOp[] {
  const { observations, putters } = rules.facts;
  const named = (observations.putsAt.get(gap) ?? []).find((r) => r.value !== undefined);
  const pool = named === undefined ? rules.unknownWriters : (putters.get(pairKey(named.key, named.value ?? '')) ?? []);
  const firstOfClass = new Map<string, EtcdOp>();
  for (const op of pool) {
    if (used.has(op)) continue;
    const cls = rules.classOf.get(op) ?? '';
    if (firstOfClass.has(cls)) continue;
    firstOfClass.set(cls, op);
  }
  return [...firstOfClass.values()];
}

/** A filler may make `gap` only if real time lets it, it may make every put and delete shown there, and it puts no key shown unchanged there. */
export function mayFill(rules: CandidateRules, op: EtcdOp, gap: number): boolean {
  const { observations } = rules.facts;
  if (!rules.fits(op, gap)) return false;
  if (!(observations.putsAt.get(gap) ?? []).every((r) => mayPut(op.input, r.key, r.value))) return false;
  if (!(observations.deletesAt.get(gap) ?? []).every((key) => mayDeleteKey(op.input, key, rules.facts.leaseKeys))) return false;
  return !(op.input.type === 'put' && observations.forbids(op.input.key, gap, false));
}

/** Per key, the earliest revision by which it must be put again, or deleted, to meet the later reads. */
export function needs(facts: GapFacts, store: ModelStore, gap: number): Needs {
  const put = new Map<string, number>();
  const del = new Map<string, number>();
  const { observations } = facts;
  for (const key of facts.watchedKeys) {
    const kv = store.get(key);
    if (kv !== undefined) {
      const by = facts.deleteBy(key, gap);
      if (by !== Infinity) del.set(key, by);
    }
    const seen = observations.nextSighting(key, gap);
    if (seen === undefined) continue;
    if (seen.createRevision >= gap && (kv === undefined || del.has(key))) put.set(key, seen.createRevision);
    else if (kv !== undefined && kv.createRevision === seen.createRevision && seen.modRevision >= gap) {
      const okPuts = facts.okPuts.get(key) ?? [];
      const certain = countBelow(okPuts, (r) => r <= seen.modRevision) - countBelow(okPuts, (r) => r < gap);
      if (seen.version - kv.version > certain) put.set(key, seen.modRevision);
    }
  }
  return { put, del };
}

/**
 * The fillers to try at gaps[level] on `store`: the ok revokes that may make it
 * first, then the unknown writes that may fill it, those serving the most
 * pressing need the responses show first, then the most recently invoked.
 */
export function candidatesAt(rules: CandidateRules, used: ReadonlySet<EtcdOp>, level: number, store: ModelStore): EtcdOp[] {
  const gap = rules.facts.gapAt(level);
  const optional = (rules.optionalWriters.get(gap) ?? []).filter((op) => rules.fits(op, gap));
  const out = firstOfEachClass(rules, used, gap).filter((op) => mayFill(rules, op, gap));
  const urgency = needs(rules.facts, store, gap);
  const score = new Map(out.map((op) => [op, serves(op.input, urgency, store)]));
  out.sort((a, b) => (score.get(a) ?? Infinity) - (score.get(b) ?? Infinity) || b.call - a.call);
  return [...optional, ...out];
}
