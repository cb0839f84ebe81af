// Bounds on what the gaps left can still do, checked after each filler: a
// choice that leaves some later read unreachable is refused at once instead of
// many revisions later. Each holds in every legal linearization.

import type { ModelStore } from '../store.js';
import type { ChosenFillers } from './chosen.js';
import type { GapFacts } from './facts.js';
import { mayStillWrite } from './requests.js';

/** A number of puts or deletes later reads need, by a deadline revision. */
export interface Due {
  readonly by: number;
  readonly count: number;
}

/** What later reads still need of the gaps after gaps[level], on `store`. */
export function dueAfter(facts: GapFacts, store: ModelStore, level: number): Due[] {
  const gap = facts.gapAt(level);
  const { observations } = facts;
  const due: Due[] = [];
  for (const key of facts.watchedKeys) {
    const kv = store.get(key);
    if (kv !== undefined) {
      const by = facts.deleteBy(key, gap);
      if (by !== Infinity && facts.okDeletesIn(key, gap, by) === 0) due.push({ by, count: 1 });
    }
    const seen = observations.nextSighting(key, gap);
    if (seen === undefined) continue;
    if (seen.createRevision > gap) {
      if (facts.gapSet.has(seen.createRevision)) due.push({ by: seen.createRevision, count: 1 });
      const more = seen.version - 1 - facts.okPutsIn(key, seen.createRevision, seen.modRevision);
      if (more > 0) due.push({ by: seen.modRevision, count: more });
    } else if (kv !== undefined && kv.createRevision === seen.createRevision && seen.modRevision > gap) {
      const more = seen.version - kv.version - facts.okPutsIn(key, gap, seen.modRevision);
      if (more > 0) due.push({ by: seen.modRevision, count: more });
    }
  }
  return due;
}

/**
 * Whether the puts and deletes later reads still need fit in the gaps left, each
 * by its deadline: by every deadline D, the needs due by D are at most the gaps
 * up to D plus the extra keys the unused unknown writes could change at once
 * (each gap gets one writer, which serves at most its width of needs).
 */
export function jointlyFeasible(facts: GapFacts, chosen: ChosenFillers, store: ModelStore, level: number): boolean {
  if (chosen.unboundedLeft || !facts.countable) return true;
  const due = dueAfter(facts, store, level);
  due.sort((a, b) => a.by - b.by);
  let total = 0;
  for (const { by, count } of due) {
    total += count;
    if (total > facts.gapsUpTo(level, by) + chosen.extraUnused) return false;
  }
  return true;
}

/**
 * Whether every later gap a response names still has a writer that can make
 * it: unused, and, for a compare-and-swap on a mod revision that is already
 * past, only if the key still has that mod revision (mod revisions never come back).
 */
export function namedStillPossible(facts: GapFacts, chosen: ChosenFillers, store: ModelStore, level: number): boolean {
  const gap = facts.gapAt(level);
  for (const { gap: later, writers } of facts.namedGaps) {
    if (later <= gap) continue;
    if (!writers.some((op) => !chosen.used.has(op) && mayStillWrite(op.input, store))) return false;
  }
  return true;
}
