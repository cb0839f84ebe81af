// What the walk says when no choice of fillers explains the history: where the
// furthest choice went wrong, or which gap nothing could fill, and whether a
// wrong answer could be blamed on a guessed order inside a bucket instead.

import { countBelow } from '../sorted.js';
import type { GapFacts } from './facts.js';
import { mayPut, pairKey } from './requests.js';
import type { EtcdOp, GapSearchInput, GapSearchResult, Slot, WrongAnswer } from './types.js';

/** The dead ends the walk met, as much of them as the verdict needs. */
export class DeadEnds {
  /** Some wrong answer sat where the order inside its bucket is a guess: "illegal" would be unsound. */
  private uncertain = false;
  private furthest: (WrongAnswer & { readonly path: readonly EtcdOp[] }) | undefined;
  /** The latest gap at which every candidate was refused before any replay (when no replay failed). */
  private unfillable: number | undefined;
  private readonly slots: readonly Slot[];
  private readonly gaps: readonly number[];
  private readonly certain: (slot: Slot) => boolean;

  constructor(input: Pick<GapSearchInput, 'slots' | 'gaps' | 'certain'>) {
    this.slots = input.slots;
    this.gaps = input.gaps;
    this.certain = input.certain;
  }

  /** A replay after the fillers `path` gave a wrong answer. */
  wrongAnswer(failure: WrongAnswer, path: readonly EtcdOp[]): void {
    const slot = this.slots[failure.index];
    if (slot !== undefined && !this.certain(slot)) this.uncertain = true;
    if (this.furthest === undefined || failure.index > this.furthest.index) this.furthest = { ...failure, path: [...path] };
  }

  /** Every candidate at `gap` was tried and failed. */
  exhausted(gap: number): void {
    this.unfillable = Math.max(this.unfillable ?? -Infinity, gap);
  }

  verdict(): GapSearchResult {
    const { slots, gaps, furthest } = this;
    if (this.uncertain) return { kind: 'inconclusive', reason: 'no choice of fillers explains the answers, but some answers sit in buckets whose order is a guess' };
    const at = furthest === undefined ? undefined : slots[furthest.index];
    if (furthest === undefined || at === undefined) {
      // Every choice died before replaying anything: no unknown write could make some revision.
      const gap = this.unfillable ?? gaps[0] ?? 0;
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
 * put (or two values shown at one revision): illegal whatever the order inside
 * buckets, since the fact holds in every legal linearization.
 */
export function unwritableValue(facts: GapFacts): GapSearchResult | undefined {
  const { slots, observations, putters, gapSet } = facts;
  const writerAt = new Map<number, EtcdOp>();
  for (const { op, key } of slots) if ((key & 1) === 0) writerAt.set(key / 2, op);
  const [conflict] = observations.conflicts;
  if (conflict !== undefined) {
    const writer = writerAt.get(conflict.revision);
    return {
      kind: 'illegal',
      reason: `responses show two different values of ${JSON.stringify(conflict.key)} written at revision ${conflict.revision}`,
      ops: writer === undefined ? [] : [writer.id],
      prefix: [],
    };
  }
  for (const [revision, puts] of observations.putsAt) {
    for (const { key, value } of puts) {
      if (value === undefined) continue;
      const writer = writerAt.get(revision);
      const possible =
        writer !== undefined ? mayPut(writer.input, key, value)
        : gapSet.has(revision) ? (putters.get(pairKey(key, value))?.length ?? 0) > 0
        : false;
      if (possible) continue;
      const next = slots.find((s) => s.key > 2 * revision);
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
