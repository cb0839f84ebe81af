// The revision-directed fast path for etcd histories (checkers.md §6, lesson 1).
//
// Every ok mutation names its own revision, which fixes its place in any legal
// linearization; every other ok op carries the revision it observed, which puts
// it in the bucket between that mutation and the next, where read-only ops
// commute. So for determinate histories linearizability reduces to:
//   (a) the mutations' revisions are unique and dense (initial + 1 .. max),
//   (b) real time agrees: A returned before B was invoked => key(A) <= key(B),
//       with key = 2r for the mutation at r and 2r+1 for an op in bucket r,
//   (c) replaying the mutations in revision order through the model reproduces
//       every response.
// That is O(n log n). A revision no ok op claims (a gap) was made by an op with
// an unknown outcome: gap-search.ts finds which, walking the gaps in revision
// order with facts from the responses (observations.ts) to refuse wrong
// fillers early; unknown ops that fill no gap are left out (they can linearize
// after everything). Whatever this cannot decide soundly comes back
// "inconclusive" for the WGL search to settle.
//
// Each step is a named rule in fast/: classifyByRevision and placeRevokes
// (fast/classify.ts), placeFloating (fast/floating.ts), denseRevisions (here),
// realTimeVerdict and realTimeFit (fast/real-time.ts), readAfterCompaction,
// replayOrder and certainSlots (fast/buckets.ts); docs/checker.md follows them.
//
// Revisions start at the empty store's (etcd's 1, so its first write makes 2;
// FastPathOptions.initialRevision for histories counted otherwise).

import { searchGapFillers } from './gap-search.js';
import type { Classified } from './fast/classify.js';
import { classifyByRevision, placeRevokes } from './fast/classify.js';
import { certainSlots, readAfterCompaction, replayOrder } from './fast/buckets.js';
import { placeFloating } from './fast/floating.js';
import type { EtcdOp, Illegal, Placed } from './fast/placed.js';
import { illegal } from './fast/placed.js';
import { realTimeFit, realTimeVerdict } from './fast/real-time.js';
import { Observations } from './observations.js';
import { ETCD_INITIAL_REVISION, ModelStore } from './store.js';
import { responseMatches } from './types.js';
import type { WatchFacts } from './watchFacts.js';

export type FastPathResult =
  /** The store after replaying the linearization, with its event log. */
  | { readonly verdict: 'ok'; readonly store: ModelStore }
  | Illegal
  | { readonly verdict: 'inconclusive'; readonly reason: string };

const inconclusive = (reason: string): FastPathResult => ({ verdict: 'inconclusive', reason });

export interface FastPathBudget {
  /** Absolute time in the units of now() after which the search stops (inconclusive). */
  readonly deadline: number;
  readonly now: () => number;
}

export interface FastPathOptions {
  readonly budget?: FastPathBudget;
  /** The revision of the empty store: etcd's 1 unless the history says otherwise. */
  readonly initialRevision?: number;
  /** What watch streams heard (watchFacts.ts): the linearization found must agree with it too. */
  readonly watchFacts?: WatchFacts;
}

export function revisionDirectedCheck(history: readonly EtcdOp[], options: FastPathOptions = {}): FastPathResult {
  const { budget } = options;
  const initialRevision = options.initialRevision ?? ETCD_INITIAL_REVISION;
  const classified = classifyByRevision(history, initialRevision);
  if ('verdict' in classified) return classified;
  const { placed, stirredBuckets, floating, maxRevision } = classified;
  const revokesAt = placeRevokes(classified, initialRevision);

  // (a) Dense revisions: each revision no ok op claims (a gap) needs an unknown write.
  const unknownWriters = history.filter((op) => op.outcome === 'unknown' && !ModelStore.isReadOnly(op.input)).sort((a, b) => a.call - b.call);
  const dense = denseRevisions(classified, initialRevision, unknownWriters.length > 0 || revokesAt.size > 0);
  if (!Array.isArray(dense)) return dense;

  // Error responses go to the best end of their real-time window; an empty window shows up in (b).
  if (floating.length > 0) {
    const unplaceable = placeFloating(placed, floating, initialRevision, maxRevision);
    if (unplaceable !== undefined) return inconclusive(unplaceable);
  }

  // (b) Real time against revision order, in one sweep over calls and returns.
  const violation = realTimeVerdict(placed);
  if (violation !== undefined) return violation;

  // (c) Replay in revision order, reads before the ops that stir their bucket, unless real time says otherwise.
  const late = readAfterCompaction(placed, stirredBuckets);
  if (late !== undefined) return inconclusive(`line ${late.late.line}: began after the compaction on line ${late.compaction.line} returned`);
  placed.sort(replayOrder);

  const found = searchGapFillers({
    slots: placed,
    gaps: dense,
    unknownWriters,
    optionalWriters: revokesAt,
    fits: realTimeFit(placed),
    certain: certainSlots(history, stirredBuckets),
    observations: new Observations(history, options.watchFacts),
    initialRevision,
    expired: () => budget !== undefined && budget.now() >= budget.deadline,
  });
  switch (found.kind) {
    case 'inconclusive':
      return inconclusive(found.reason);
    case 'illegal':
      return { verdict: 'illegal', reason: found.reason, ops: found.ops, prefix: found.prefix };
    case 'ok':
      return found.store !== undefined ? { verdict: 'ok', store: found.store } : finalReplay(placed, found.fillers, initialRevision);
  }
}

/**
 * Rule (a): the revisions no ok op claims (the gaps), ascending; illegal when
 * there is a gap and nothing (no unknown write, no ok revoke) could have made it.
 */
export function denseRevisions(classified: Classified, initialRevision: number, anyWriter: boolean): number[] | Illegal {
  const { mutationAt, maxRevision } = classified;
  const gaps: number[] = [];
  for (let r = initialRevision + 1; r <= maxRevision; r++) if (!mutationAt.has(r)) gaps.push(r);
  const [gap] = gaps;
  if (gap === undefined || anyWriter) return gaps;
  const next = mutationAt.get(gap + 1) ?? [...mutationAt.values()][0];
  return illegal(`revision ${gap} was written by no operation (and none had an unknown outcome)`, next === undefined ? [] : [next.id]);
}

/** The search branched: one last replay with the fillers in place records the store's event log (the watch validator's ground truth). */
function finalReplay(placed: readonly Placed[], fillers: ReadonlyMap<number, EtcdOp>, initialRevision: number): FastPathResult {
  const filling = new Set(fillers.values());
  const all = [...placed.filter((p) => !filling.has(p.op)), ...[...fillers].map(([gap, op]) => ({ op, key: 2 * gap }))].sort(replayOrder);
  const store = new ModelStore({ recordEvents: true, initialRevision });
  for (const { op, key } of all) {
    const response = store.apply(op.input);
    const agrees = (op.output === undefined || responseMatches(response, op.output)) && ((key & 1) === 1 || store.revision === key / 2);
    if (!agrees) return inconclusive(`internal: line ${op.line} disagrees on the final replay`);
  }
  return { verdict: 'ok', store };
}
