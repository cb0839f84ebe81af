// The log a run's members applied, for checks that replay it after the run: the entry
// at each index as the first member to apply it saw it (every member applies the same
// entry at an index, which the safety checker checks), decoded as the etcd state machine
// decodes it.

import type { Entry } from '../core/raft/types.js';
import { decodeEnvelope, type Envelope } from '../core/server/requests.js';

/** The entry applied at each index, as the first member to apply it saw it. */
export class AppliedEntries {
  private readonly byIndex = new Map<number, Envelope>();

  onApplied(entry: Entry): void {
    if (this.byIndex.has(entry.index)) return;
    const envelope = decodeEnvelope(entry.data);
    if (envelope !== null) this.byIndex.set(entry.index, envelope);
  }

  /** In log order. */
  inOrder(): (readonly [number, Envelope])[] {
    return [...this.byIndex.entries()].sort((a, b) => a[0] - b[0]);
  }
}
