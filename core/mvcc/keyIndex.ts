// The history of one key: which revisions wrote it, grouped in generations.
// A generation runs from a create to a delete (tombstone). Example, after
//   put@2, put@5, delete@7, put@9:
//     generations = [ {revs: [2, 5, 7(tombstone)], version 2}, {revs: [9], version 1} ]
// A get at revision 6 finds 5 (version 2); at 8, nothing (deleted at 7);
// at 9, revision 9 (version 1, created at 9).

import { invariant } from '../util/invariant.js';
import type { Rev } from './revision.js';
import { mainOf } from './revision.js';

interface Generation {
  /** Puts count from 1; the tombstone (if the generation is closed) is not a version. */
  version: number;
  revs: Rev[];
  /** The tombstone revision, if this generation ended in a delete. */
  tombstone: Rev | null;
  /** The creating revision (kept even after compaction drops revs[0]). */
  created: Rev;
}

export interface KeyAt {
  /** The revision that last wrote the key at or before the asked revision. */
  readonly modified: Rev;
  readonly created: Rev;
  readonly version: number;
}

export class KeyIndex {
  private generations: Generation[] = [];

  isEmpty(): boolean {
    return this.generations.length === 0;
  }

  put(r: Rev): void {
    const g = this.current();
    if (g === null) {
      this.generations.push({ version: 1, revs: [r], tombstone: null, created: r });
      return;
    }
    invariant(r > lastOf(g.revs), () => `put at ${r} is not after ${lastOf(g.revs)}`);
    g.revs.push(r);
    g.version++;
  }

  /** Deletes the key at revision r. The key must be live. */
  tombstone(r: Rev): void {
    const g = this.current();
    invariant(g !== null, 'tombstone of a key that is not live');
    invariant(r > lastOf(g.revs), () => `tombstone at ${r} is not after ${lastOf(g.revs)}`);
    g.tombstone = r;
  }

  /** Whether the key is live (its newest generation is open). */
  isLive(): boolean {
    return this.current() !== null;
  }

  /** The key as of main revision `atMain`, or null if it did not exist then. */
  get(atMain: number): KeyAt | null {
    for (let i = this.generations.length - 1; i >= 0; i--) {
      const g = this.generations[i];
      invariant(g !== undefined, 'generation hole');
      if (g.revs.length === 0) continue;
      if (mainOf(g.created) > atMain) continue; // created later
      if (g.tombstone !== null && mainOf(g.tombstone) <= atMain) return null; // deleted by then
      // The newest revision ≤ atMain in this generation.
      for (let j = g.revs.length - 1; j >= 0; j--) {
        const r = g.revs[j];
        invariant(r !== undefined, 'revision hole');
        if (mainOf(r) <= atMain) {
          return { modified: r, created: g.created, version: g.version - (g.revs.length - 1 - j) };
        }
      }
      return null; // compacted below atMain (asked below the compact revision)
    }
    return null;
  }

  /**
   * Drops history below main revision `atMain`, keeping for each key what a read at
   * `atMain` needs: the newest revision ≤ atMain if the key was live then. Returns the
   * revisions whose stored records may be deleted.
   */
  /** `dropDeleteAt`: the planted bug compactDropsDeleteEvent (etcd before #18089's fix); never in production. */
  compact(atMain: number, dropDeleteAt = false): Rev[] {
    const dropped: Rev[] = [];
    const kept: Generation[] = [];
    for (const g of this.generations) {
      const tombstone = g.tombstone;
      if (tombstone !== null && (mainOf(tombstone) < atMain || (dropDeleteAt && mainOf(tombstone) === atMain))) {
        // The whole generation ended before atMain: nothing of it is readable.
        dropped.push(...g.revs, tombstone);
        continue;
      }
      if (g.tombstone !== null && mainOf(g.tombstone) === atMain) {
        // Deleted exactly at atMain: reads there see nothing, but a watch replaying
        // from atMain must still see the delete event, so its record stays.
        dropped.push(...g.revs);
        g.revs = [];
        kept.push(g);
        continue;
      }
      let firstKept = 0;
      for (let j = g.revs.length - 1; j >= 0; j--) {
        const r = g.revs[j];
        if (r !== undefined && mainOf(r) <= atMain) {
          firstKept = j;
          break;
        }
      }
      dropped.push(...g.revs.slice(0, firstKept));
      g.revs = g.revs.slice(firstKept);
      kept.push(g);
    }
    this.generations = kept;
    return dropped;
  }

  private current(): Generation | null {
    const g = this.generations[this.generations.length - 1];
    if (g === undefined || g.tombstone !== null) return null;
    return g;
  }
}

function lastOf(revs: readonly Rev[]): Rev {
  const r = revs[revs.length - 1];
  invariant(r !== undefined, 'empty generation');
  return r;
}
