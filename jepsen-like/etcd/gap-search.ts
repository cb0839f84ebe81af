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
// This file is the walk; its rules live in gap/, each sound because it only
// refuses what every legal linearization refuses (docs/checker.md §"The gap
// search" follows them by name):
//   - unwritableValue (gap/verdict.ts): a value shown at a revision nobody there can put;
//   - firstOfEachClass, mayFill (gap/candidates.ts): one write per interchangeable
//     class (gap/interchangeable.ts), fitting real time and the puts shown at the gap;
//   - fillerConsistent (gap/consistent.ts): the filler made its revision and what
//     the responses show there, and left later deletes and versions reachable;
//   - jointlyFeasible, namedStillPossible (gap/feasible.ts): the gaps left can still
//     make everything later reads need;
//   - Segments.replay (gap/segments.ts): the ok ops up to the next gap answer as recorded.
// DeadEnds (gap/verdict.ts) turns the failures into the verdict.

import { ModelStore } from './store.js';
import { responseMatches } from './types.js';
import type { CandidateRules } from './gap/candidates.js';
import { candidatesAt } from './gap/candidates.js';
import { ChosenFillers } from './gap/chosen.js';
import { fillerConsistent } from './gap/consistent.js';
import { GapFacts } from './gap/facts.js';
import { jointlyFeasible, namedStillPossible } from './gap/feasible.js';
import { interchangeable } from './gap/interchangeable.js';
import { Segments } from './gap/segments.js';
import type { EtcdOp, GapSearchInput, GapSearchResult } from './gap/types.js';
import { DeadEnds, unwritableValue } from './gap/verdict.js';

export type { GapSearchInput, GapSearchResult, Slot } from './gap/types.js';

/** How many walk turns pass between two looks at the clock. */
const CLOCK_STRIDE_MASK = 63;

export function searchGapFillers(input: GapSearchInput): GapSearchResult {
  const facts = new GapFacts(input);
  const impossible = unwritableValue(facts);
  if (impossible !== undefined) return impossible;
  return new FillerWalk(input, facts).run();
}

interface Frame {
  readonly level: number;
  /** The store after the ok ops before gap `level`; cloned per candidate when there are several. */
  readonly base: ModelStore;
  readonly candidates: readonly EtcdOp[];
  next: number;
}

/** The depth-first walk over the gaps, one frame per gap filled so far. */
class FillerWalk {
  private readonly input: GapSearchInput;
  private readonly facts: GapFacts;
  private readonly rules: CandidateRules;
  private readonly segments: Segments;
  private readonly chosen: ChosenFillers;
  private readonly deadEnds: DeadEnds;
  /** The store replayed without branching: the event log survives only there (clones leave it out). */
  private readonly start: ModelStore;

  constructor(input: GapSearchInput, facts: GapFacts) {
    this.input = input;
    this.facts = facts;
    const { unknownWriters, optionalWriters, fits } = input;
    this.rules = { facts, unknownWriters, optionalWriters, classOf: interchangeable(unknownWriters, input.observations), fits };
    this.segments = new Segments(input.slots, input.gaps);
    this.chosen = new ChosenFillers(unknownWriters, optionalWriters, facts.leaseKeys);
    this.deadEnds = new DeadEnds(input);
    this.start = new ModelStore({ initialRevision: input.initialRevision, recordEvents: true });
  }

  run(): GapSearchResult {
    const { gaps } = this.input;
    const first = this.segments.replay(this.start, 0, this.chosen.used);
    if (first !== undefined) {
      this.deadEnds.wrongAnswer(first, this.chosen.path);
      return this.deadEnds.verdict();
    }
    if (gaps.length === 0) return { kind: 'ok', fillers: new Map(), store: this.start };
    const stack: Frame[] = [this.frame(0, this.start)];
    let turns = 0;
    while (stack.length > 0) {
      if ((++turns & CLOCK_STRIDE_MASK) === 0 && this.input.expired()) {
        return { kind: 'inconclusive', reason: 'out of time while searching the fillers of unclaimed revisions' };
      }
      const frame = stack[stack.length - 1];
      if (frame === undefined) break;
      if (frame.next > 0) this.chosen.pop(); // back from the previous candidate of this frame
      const op = frame.candidates[frame.next++];
      if (op === undefined) {
        stack.pop();
        this.deadEnds.exhausted(this.facts.gapAt(frame.level));
        continue;
      }
      const extended = this.extend(frame, op);
      if (extended === undefined) continue;
      if ('kind' in extended) return extended;
      stack.push(extended);
    }
    return this.deadEnds.verdict();
  }

  private frame(level: number, base: ModelStore): Frame {
    return { level, base, candidates: candidatesAt(this.rules, this.chosen.used, level, base), next: 0 };
  }

  /** Tries `op` at the frame's gap: the next frame, the answer when it was the last gap, or undefined on a dead end. */
  private extend(frame: Frame, op: EtcdOp): Frame | GapSearchResult | undefined {
    const store = frame.candidates.length > 1 ? frame.base.clone() : frame.base;
    const response = store.apply(op.input);
    this.chosen.push(op);
    if (op.output !== undefined && !responseMatches(response, op.output)) return undefined; // an ok revoke must still answer as recorded
    if (!this.admits(store, frame.level)) return undefined;
    const level = frame.level + 1;
    const failure = this.segments.replay(store, level, this.chosen.used);
    if (failure !== undefined) {
      this.deadEnds.wrongAnswer(failure, this.chosen.path);
      return undefined;
    }
    if (level < this.input.gaps.length) return this.frame(level, store);
    const fillers = new Map<number, EtcdOp>();
    this.chosen.path.forEach((filler, i) => fillers.set(this.facts.gapAt(i), filler));
    return store === this.start ? { kind: 'ok', fillers, store } : { kind: 'ok', fillers };
  }

  /** The rules a filler must pass before the walk replays past it. */
  private admits(store: ModelStore, level: number): boolean {
    return (
      fillerConsistent(this.facts, store, level) &&
      jointlyFeasible(this.facts, this.chosen, store, level) &&
      namedStillPossible(this.facts, this.chosen, store, level)
    );
  }
}
