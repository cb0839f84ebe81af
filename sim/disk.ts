// A member's simulated disk: the durable Raft log, hard state and snapshot (etcd's
// WAL + snap directory), implementing the LogStore port.
//
// The model (after FoundationDB's AsyncFileNonDurable and TigerBeetle's storage.zig):
// - A write completes after a latency. A write with mustSync is durable from its
//   completion on, together with every earlier write (fsync flushes them all). A write
//   without mustSync completes into the page cache: a crash may lose it until a later
//   sync. Snapshots (`compact`) are always synced.
// - `crash()` (power loss) keeps a random in-order prefix of the unsynced writes, may
//   leave the next one torn (on disk with a bad checksum), and loses the rest. Their
//   completion callbacks never run.
// - Every stored record carries a checksum. `recover()` drops a torn tail (reporting
//   `truncatedTornTail`) and refuses, with `corrupt`, any other mismatch (bit rot in
//   acknowledged data): it never hands back bad data.
// - Faults: read errors on recovery, write errors, a full disk.
//
// Bit rot never mutates a stored object in place: the core may hold the same Entry
// objects (recover hands them out), and rot is a disk fault, not a memory fault.

import type { Entry, HardState, Snapshot } from '../core/raft/types.js';
import { EMPTY_HARD_STATE } from '../core/raft/types.js';
import type { LogStore, LogWrite, RecoveredLog, RecoveryFailure, WriteResult } from '../core/node/ports.js';
import { invariant } from '../core/util/invariant.js';
import type { SimRandom } from './prng.js';
import type { Scheduler } from './scheduler.js';
import { FNV_INITIAL, fnvBytes, fnvNumber, fnvWord } from './scheduler.js';

export interface DiskFaults {
  readonly writeLatencyMsMin: number;
  readonly writeLatencyMsMean: number;
  /** At a crash, each unsynced write (in order) reaches the platter with this probability. */
  readonly unsyncedSurvivalProbability: number;
  /** At a crash, the first lost write is left torn on disk with this probability. */
  readonly tornWriteProbability: number;
  /** Per recovery: the read fails (transient) and the member cannot start this time. */
  readonly readErrorProbability: number;
  /** Per write: the write fails with an I/O error. */
  readonly writeErrorProbability: number;
}

export const CALM_DISK: DiskFaults = {
  writeLatencyMsMin: 0.1, writeLatencyMsMean: 0.2, unsyncedSurvivalProbability: 0,
  tornWriteProbability: 0, readErrorProbability: 0, writeErrorProbability: 0,
};

interface StoredEntry {
  readonly entry: Entry;
  readonly checksum: number;
}

interface Durable {
  hardState: HardState;
  hardStateChecksum: number;
  snapshot: Snapshot | null;
  snapshotChecksum: number;
  /** Contiguous, starting right after the snapshot's index (or at 1). */
  entries: StoredEntry[];
  /** The record a power loss cut short; its checksum never matches. */
  tornTail: { readonly bytes: Uint8Array; readonly checksum: number } | null;
}

type Op =
  | { readonly kind: 'write'; readonly request: LogWrite; readonly done: (result: WriteResult) => void; completed: boolean }
  | { readonly kind: 'compact'; readonly snapshot: Snapshot; readonly done: (result: WriteResult) => void; completed: boolean };

export interface DiskStats {
  writes: number;
  syncs: number;
  lostOnCrash: number;
  tornWrites: number;
  failedWrites: number;
  /** Recoveries that truncated a torn tail / failed to read / refused corruption. */
  tornTruncated: number;
  readErrors: number;
  corruptDetected: number;
}

export interface SimDiskOptions {
  readonly id: number;
  readonly scheduler: Scheduler;
  readonly random: SimRandom;
  readonly faults: DiskFaults;
  /**
   * Runs a completion on behalf of the member: at once, or later if the member is
   * paused (the cluster defers it). Defaults to running at once.
   */
  readonly gate?: (run: () => void) => void;
}

export function entryChecksum(entry: Entry): number {
  let h = fnvNumber(FNV_INITIAL, entry.index);
  h = fnvNumber(h, entry.term);
  h = fnvWord(h, entry.type === 'normal' ? 1 : 2);
  return fnvBytes(h, entry.data);
}

function hardStateChecksum(state: HardState): number {
  return fnvNumber(fnvNumber(fnvNumber(FNV_INITIAL, state.term), state.vote), state.commit);
}

function snapshotChecksum(snapshot: Snapshot | null): number {
  if (snapshot === null) return 0;
  const meta = snapshot.metadata;
  let h = fnvNumber(fnvNumber(FNV_INITIAL, meta.index), meta.term);
  for (const v of meta.confState.voters) h = fnvWord(h, v);
  h = fnvWord(h, 0xffff);
  for (const l of meta.confState.learners) h = fnvWord(h, l);
  return fnvBytes(h, snapshot.data);
}

export class SimDisk implements LogStore {
  readonly stats: DiskStats = {
    writes: 0, syncs: 0, lostOnCrash: 0, tornWrites: 0, failedWrites: 0, tornTruncated: 0, readErrors: 0, corruptDetected: 0,
  };
  private readonly durable: Durable = {
    hardState: EMPTY_HARD_STATE, hardStateChecksum: hardStateChecksum(EMPTY_HARD_STATE),
    snapshot: null, snapshotChecksum: 0, entries: [], tornTail: null,
  };
  /** Writes issued but not yet durable, in issue order (completed ones sit in the page cache). */
  private volatile: Op[] = [];
  private faults: DiskFaults;
  /** Bumped by crash(): completions scheduled before it are void. */
  private epoch = 0;
  private lastCompletionUs = 0;
  private fullUntilUs = -1;
  private readonly id: number;
  private readonly scheduler: Scheduler;
  private readonly random: SimRandom;
  private readonly gate: (run: () => void) => void;

  constructor(options: SimDiskOptions) {
    this.id = options.id;
    this.scheduler = options.scheduler;
    this.random = options.random;
    this.faults = options.faults;
    this.gate = options.gate ?? ((run: () => void): void => { run(); });
  }

  setFaults(faults: DiskFaults): void {
    this.faults = faults;
  }

  /** Every write completing before `untilUs` fails with diskFull. */
  fillUntil(untilUs: number): void {
    this.fullUntilUs = untilUs;
  }

  write(request: LogWrite, done: (result: WriteResult) => void): void {
    this.stats.writes++;
    this.enqueue({ kind: 'write', request, done, completed: false });
  }

  compact(snapshot: Snapshot, done: (result: WriteResult) => void): void {
    this.enqueue({ kind: 'compact', snapshot, done, completed: false });
  }

  recover(): RecoveredLog | RecoveryFailure {
    invariant(this.volatile.length === 0, `disk ${this.id}: recover() with writes in flight (crash first)`);
    if (this.random.chance(this.faults.readErrorProbability)) {
      this.stats.readErrors++;
      return { kind: 'ioError', detail: `disk ${this.id}: read error during recovery` };
    }
    const corrupt = this.verify();
    if (corrupt !== null) {
      this.stats.corruptDetected++;
      return corrupt;
    }
    const d = this.durable;
    let truncatedTornTail = false;
    if (d.tornTail !== null) {
      invariant(fnvBytes(FNV_INITIAL, d.tornTail.bytes) !== d.tornTail.checksum, 'a torn record must fail its checksum');
      d.tornTail = null; // recovery truncates the WAL at the last good record
      truncatedTornTail = true;
      this.stats.tornTruncated++;
    }
    return {
      hardState: d.hardState,
      snapshot: d.snapshot,
      entries: d.entries.map((stored) => stored.entry),
      truncatedTornTail,
    };
  }

  /** Checks every acknowledged record's checksum; a mismatch cannot be repaired. */
  private verify(): RecoveryFailure | null {
    const d = this.durable;
    if (hardStateChecksum(d.hardState) !== d.hardStateChecksum) {
      return { kind: 'corrupt', detail: `disk ${this.id}: hard state checksum mismatch` };
    }
    if (snapshotChecksum(d.snapshot) !== d.snapshotChecksum) {
      return { kind: 'corrupt', detail: `disk ${this.id}: snapshot checksum mismatch` };
    }
    for (const stored of d.entries) {
      if (entryChecksum(stored.entry) !== stored.checksum) {
        return { kind: 'corrupt', detail: `disk ${this.id}: log entry ${stored.entry.index} checksum mismatch (not at the tail)` };
      }
    }
    return null;
  }

  /**
   * Power loss. Keeps an in-order prefix of unsynced writes (each survives with
   * unsyncedSurvivalProbability), may tear the first lost one, drops the rest.
   * Pending completions never run. `afterSave`: the power went just after the writes in
   * flight reached the platter (a failpoint's crash), so all of them are kept.
   */
  crash(afterSave = false): void {
    this.epoch++;
    let surviving = true;
    for (const op of this.volatile) {
      if (surviving && (afterSave || this.random.chance(this.faults.unsyncedSurvivalProbability))) {
        this.apply(op);
        continue;
      }
      if (surviving && this.random.chance(this.faults.tornWriteProbability)) {
        // A prefix of the record's bytes landed; the checksum covers the whole record.
        const length = 1 + this.random.intBelow(64);
        const bytes = new Uint8Array(length);
        for (let i = 0; i < length; i++) bytes[i] = this.random.intBelow(256);
        const checksum = (fnvBytes(FNV_INITIAL, bytes) ^ (1 + this.random.intBelow(0xffff))) >>> 0;
        this.durable.tornTail = { bytes, checksum };
        this.stats.tornWrites++;
      }
      surviving = false;
      this.stats.lostOnCrash++;
    }
    this.volatile = [];
    this.lastCompletionUs = this.scheduler.nowUs;
  }

  /**
   * Bit rot: flips one bit of durable, acknowledged data (a log entry, or the hard
   * state when the log is empty). Recovery must detect it. Returns what was hit.
   */
  rot(): string {
    const d = this.durable;
    if (d.entries.length === 0) {
      d.hardState = { ...d.hardState, commit: d.hardState.commit ^ (1 << this.random.intBelow(8)) };
      return 'hardState.commit';
    }
    const position = this.random.intBelow(d.entries.length);
    const stored = d.entries[position];
    invariant(stored !== undefined, 'rot: entry position out of range');
    const data = stored.entry.data.slice();
    let rotted: Entry;
    if (data.length === 0) {
      rotted = { ...stored.entry, term: stored.entry.term ^ 1 };
    } else {
      const at = this.random.intBelow(data.length);
      data[at] = (data[at] ?? 0) ^ (1 << this.random.intBelow(8));
      rotted = { ...stored.entry, data };
    }
    d.entries[position] = { entry: rotted, checksum: stored.checksum };
    return `entry ${stored.entry.index}`;
  }

  /** The durable hard state (what a crash now would keep), for checkers. */
  durableHardState(): HardState {
    return this.durable.hardState;
  }

  /** The durable log's last index (snapshot index if the log is empty). */
  durableLastIndex(): number {
    const last = this.durable.entries[this.durable.entries.length - 1];
    if (last !== undefined) return last.entry.index;
    return this.durable.snapshot?.metadata.index ?? 0;
  }

  /** The term of the durable entry at `index`, or undefined where the durable log has none. */
  durableTermAt(index: number): number | undefined {
    const first = this.durable.entries[0];
    if (first === undefined) return undefined;
    return this.durable.entries[index - first.entry.index]?.entry.term;
  }

  durableSnapshot(): Snapshot | null {
    return this.durable.snapshot;
  }

  /** Writes issued but not yet durable. */
  get unsyncedWrites(): number {
    return this.volatile.length;
  }

  private enqueue(op: Op): void {
    this.volatile.push(op);
    const f = this.faults;
    const latencyUs = 1000 * (f.writeLatencyMsMin + this.random.exponential(f.writeLatencyMsMean));
    // Completions are FIFO: a device finishes writes in the order they were issued.
    const atUs = Math.max(Math.floor(this.scheduler.nowUs + latencyUs), this.lastCompletionUs);
    this.lastCompletionUs = atUs;
    const epoch = this.epoch;
    this.scheduler.at(atUs, {
      kind: 'disk', node: this.id, a: op.kind === 'write' ? 1 : 2, b: this.stats.writes,
      run: () => {
        if (epoch !== this.epoch) return;
        this.gate(() => { if (epoch === this.epoch) this.complete(op); });
      },
    });
  }

  private complete(op: Op): void {
    const position = this.volatile.indexOf(op);
    invariant(position >= 0, () => `disk ${this.id}: completing an unknown write`);
    op.completed = true;
    const failure = this.drawFailure();
    if (failure !== null) {
      this.volatile.splice(position, 1);
      this.stats.failedWrites++;
      op.done(failure);
      return;
    }
    const mustSync = op.kind === 'compact' || op.request.mustSync;
    if (mustSync) {
      // fsync: everything issued up to and including this op is now durable.
      const flushed = this.volatile.splice(0, position + 1);
      for (const earlier of flushed) {
        invariant(earlier.completed, () => `disk ${this.id}: fsync overtook an unfinished write`);
        this.apply(earlier);
      }
      this.stats.syncs++;
    }
    op.done({ kind: 'ok' });
  }

  private drawFailure(): WriteResult | null {
    if (this.scheduler.nowUs < this.fullUntilUs) {
      return { kind: 'diskFull', detail: `disk ${this.id}: no space left on device` };
    }
    if (this.random.chance(this.faults.writeErrorProbability)) {
      return { kind: 'ioError', detail: `disk ${this.id}: write error` };
    }
    return null;
  }

  private apply(op: Op): void {
    const d = this.durable;
    if (op.kind === 'compact') {
      const index = op.snapshot.metadata.index;
      if (index <= (d.snapshot?.metadata.index ?? 0)) return;
      d.snapshot = op.snapshot;
      d.snapshotChecksum = snapshotChecksum(op.snapshot);
      const keepFrom = d.entries.findIndex((stored) => stored.entry.index > index);
      d.entries = keepFrom < 0 ? [] : d.entries.slice(keepFrom);
      return;
    }
    const request = op.request;
    if (request.snapshot !== null) {
      d.snapshot = request.snapshot;
      d.snapshotChecksum = snapshotChecksum(request.snapshot);
      d.entries = [];
    }
    this.appendEntries(request.entries);
    if (request.hardState !== null) {
      d.hardState = request.hardState;
      d.hardStateChecksum = hardStateChecksum(request.hardState);
    }
    // A WAL is append-only: a new record after a torn one means recovery already ran.
    d.tornTail = null;
  }

  private appendEntries(entries: readonly Entry[]): void {
    const d = this.durable;
    const snapshotIndex = d.snapshot?.metadata.index ?? 0;
    const fresh = entries.filter((entry) => entry.index > snapshotIndex);
    const first = fresh[0];
    if (first === undefined) return;
    const base = d.entries[0]?.entry.index ?? snapshotIndex + 1;
    const lastIndex = base + d.entries.length - 1;
    invariant(first.index <= lastIndex + 1,
      () => `disk ${this.id}: write of entries from ${first.index} leaves a gap after ${lastIndex}`);
    // Entries at index i replace any stored at ≥ i (the conflicting suffix goes).
    d.entries.length = first.index - base;
    for (const entry of fresh) {
      const expected = base + d.entries.length;
      invariant(entry.index === expected, () => `disk ${this.id}: non-contiguous write: ${entry.index} where ${expected} was due`);
      d.entries.push({ entry, checksum: entryChecksum(entry) });
    }
  }
}
