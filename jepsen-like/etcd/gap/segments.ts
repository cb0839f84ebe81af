// The ok ops between two gaps: fixed by their revisions, so once the filler of
// a gap is chosen, the walk replays them all before the next choice.

import type { ModelStore } from '../store.js';
import { responseMatches } from '../types.js';
import type { EtcdOp, Slot, WrongAnswer } from './types.js';

export class Segments {
  /** end[i]: the slots before gap i are slots[end[i - 1] .. end[i]); the last segment runs to the end. */
  private readonly end: number[] = [];
  private readonly slots: readonly Slot[];

  constructor(slots: readonly Slot[], gaps: readonly number[]) {
    this.slots = slots;
    let cursor = 0;
    for (const gap of gaps) {
      while (cursor < slots.length && (slots[cursor]?.key ?? Infinity) < 2 * gap) cursor++;
      this.end.push(cursor);
    }
    this.end.push(slots.length);
  }

  /**
   * Replays segment `level` (the ok ops after gap level - 1, before gap level)
   * onto `store`: the first op whose answer or revision disagrees, if any. An op
   * in `used` made a gap (an ok lease revoke) and is not replayed again.
   */
  replay(store: ModelStore, level: number, used: ReadonlySet<EtcdOp>): WrongAnswer | undefined {
    const { slots } = this;
    for (let i = level === 0 ? 0 : (this.end[level - 1] ?? 0); i < (this.end[level] ?? 0); i++) {
      const slot = slots[i];
      if (slot === undefined || slot.op.output === undefined || used.has(slot.op)) continue;
      const response = store.apply(slot.op.input);
      if (!responseMatches(response, slot.op.output) || ((slot.key & 1) === 0 && store.revision !== slot.key / 2)) return { index: i, response };
    }
    return undefined;
  }
}
