// Whether the filler just applied at a gap did what the responses require
// there, and left the later reads reachable. Each rule only refuses a store
// that no legal linearization passes through (observations.ts says why each
// fact holds in all of them).

import type { ModelStore } from '../store.js';
import type { GapFacts } from './facts.js';

/** The filler made exactly its gap's revision. */
export function madeItsRevision(facts: GapFacts, store: ModelStore, level: number): boolean {
  return store.revision === facts.gapAt(level);
}

/** It wrote no key a response shows unchanged there, and made every put and delete a response (or a watch) shows at that revision. */
export function writesAsShown(facts: GapFacts, store: ModelStore, level: number): boolean {
  const gap = facts.gapAt(level);
  const { observations } = facts;
  for (const w of store.lastWrites) if (observations.forbids(w.key, gap, w.deleted)) return false;
  for (const r of observations.putsAt.get(gap) ?? []) {
    const kv = store.get(r.key);
    if (kv === undefined || kv.modRevision !== gap || (r.value !== undefined && kv.value !== r.value)) return false;
  }
  for (const key of observations.deletesAt.get(gap) ?? []) if (!store.lastWrites.some((w) => w.key === key && w.deleted)) return false;
  return true;
}

/** Look ahead: a key live now that a later read shows gone must still meet a delete (a gap or an ok delete) in time. */
export function deletesStillReachable(facts: GapFacts, store: ModelStore, level: number): boolean {
  const gap = facts.gapAt(level);
  for (const key of facts.observations.absences.keys()) {
    if (store.get(key) === undefined) continue;
    const by = facts.deleteBy(key, gap);
    if (by !== Infinity && !facts.deletable(key, level, by)) return false;
  }
  return true;
}

/**
 * A key seen later, created at or before this revision, was alive now with that
 * create revision, and its version must still be reachable: at least the ok puts
 * and the gaps a response names as puts of the key before its sighted mod
 * revision, at most the ok puts and every gap left.
 */
export function sightingsStillReachable(facts: GapFacts, store: ModelStore, level: number): boolean {
  const gap = facts.gapAt(level);
  const { observations } = facts;
  for (const key of observations.sightings.keys()) {
    const seen = observations.nextSighting(key, gap);
    if (seen === undefined || seen.createRevision > gap) continue;
    const kv = store.get(key);
    if (kv === undefined || kv.createRevision !== seen.createRevision) return false;
    if (seen.modRevision <= gap) {
      if (kv.modRevision !== seen.modRevision || kv.version !== seen.version) return false;
    } else if (facts.countable) {
      const missing = seen.version - kv.version;
      const certain = facts.okPutsIn(key, gap, seen.modRevision);
      const forced = facts.forcedPutsIn(key, gap, seen.modRevision);
      if (missing < certain + forced || missing > certain + facts.gapsUpTo(level, seen.modRevision)) return false;
    }
  }
  return true;
}

/** All of the above, in order: the filler at gaps[level] is consistent with every response. */
export function fillerConsistent(facts: GapFacts, store: ModelStore, level: number): boolean {
  return (
    madeItsRevision(facts, store, level) &&
    writesAsShown(facts, store, level) &&
    deletesStillReachable(facts, store, level) &&
    sightingsStillReachable(facts, store, level)
  );
}
