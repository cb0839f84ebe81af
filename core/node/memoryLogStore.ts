// An in-memory LogStore: writes complete at once ('instant') or when flush() is called
// ('manual', for tests). Nothing survives the process: a volatile member, or a test double.

import type { LogStore, LogWrite, RecoveredLog, WriteResult } from './ports.js';
import type { Entry, HardState, Snapshot } from '../raft/types.js';
import { EMPTY_HARD_STATE } from '../raft/types.js';

export class MemoryLogStore implements LogStore {
  hardState: HardState = EMPTY_HARD_STATE;
  snapshot: Snapshot | null = null;
  entries: Entry[] = [];
  private readonly pending: { request: LogWrite; done: (r: WriteResult) => void }[] = [];

  constructor(private readonly mode: 'instant' | 'manual' = 'instant') {}

  write(request: LogWrite, done: (r: WriteResult) => void): void {
    if (this.mode === 'manual') {
      this.pending.push({ request, done });
      return;
    }
    this.apply(request);
    done({ kind: 'ok' });
  }

  /** Completes the writes held so far ('manual' mode), in order. */
  flush(): void {
    for (let next = this.pending.shift(); next !== undefined; next = this.pending.shift()) {
      this.apply(next.request);
      next.done({ kind: 'ok' });
    }
  }

  compact(snapshot: Snapshot, done: (r: WriteResult) => void): void {
    this.snapshot = snapshot;
    this.entries = this.entries.filter((e) => e.index > snapshot.metadata.index);
    done({ kind: 'ok' });
  }

  recover(): RecoveredLog {
    return { hardState: this.hardState, snapshot: this.snapshot, entries: this.entries, truncatedTornTail: false };
  }

  private apply(request: LogWrite): void {
    if (request.snapshot !== null) {
      this.snapshot = request.snapshot;
      this.entries = [];
    }
    const first = request.entries[0];
    if (first !== undefined) {
      // Entries from first.index on replace what the log held there (a new leader's
      // suffix); the common case appends, in place.
      const keep = this.entries.findLastIndex((e) => e.index < first.index) + 1;
      this.entries.length = keep;
      for (const e of request.entries) this.entries.push(e);
    }
    if (request.hardState !== null) this.hardState = request.hardState;
  }
}
