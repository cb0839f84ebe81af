// The ports through which a member's driver (core/node/driver.ts) meets the world.
// The simulator binds simulated adapters (sim/), production binds real ones
// (storage/ on LMDB, net/ on gRPC). The driver is the same code in both worlds.
//
// Every port is callback-based: durability and delivery are completion calls, never
// promises the core waits on (DESIGN.md §2).

import type { Entry, HardState, Message, NodeId, Snapshot } from '../raft/types.js';

/** What one Ready asks to make durable. Entries at index i replace any stored at ≥ i. */
export interface LogWrite {
  readonly hardState: HardState | null;
  readonly entries: readonly Entry[];
  /**
   * A snapshot received from the leader: it replaces the whole log (entries are
   * discarded) and becomes the recovery base.
   */
  readonly snapshot: Snapshot | null;
  /** False when only the commit index changed: the write may skip fsync (etcd's MustSync). */
  readonly mustSync: boolean;
}

export type DiskFailure =
  | { readonly kind: 'ioError'; readonly detail: string }
  | { readonly kind: 'diskFull'; readonly detail: string };

export type WriteResult = { readonly kind: 'ok' } | DiskFailure;

/** What a member finds on its disk when it starts. */
export interface RecoveredLog {
  readonly hardState: HardState;
  /** The latest durable snapshot (received or self-made), or null. */
  readonly snapshot: Snapshot | null;
  /** Durable entries after the snapshot's index, contiguous. */
  readonly entries: readonly Entry[];
  /** True when recovery truncated a torn tail (a write cut short by power loss). */
  readonly truncatedTornTail: boolean;
}

export type RecoveryFailure =
  | { readonly kind: 'corrupt'; readonly detail: string }
  | { readonly kind: 'ioError'; readonly detail: string };

/** Durable Raft state: hard state, log, snapshots (etcd's WAL + snap directory). */
export interface LogStore {
  /**
   * Starts a write. `done` is called once it is durable (or has failed); the data is
   * durable only from that call on. The driver keeps at most one write outstanding.
   */
  write(request: LogWrite, done: (result: WriteResult) => void): void;
  /**
   * Saves a snapshot the member made itself from its applied state and drops log
   * entries ≤ snapshot.metadata.index (log compaction). Entries after it stay.
   */
  compact(snapshot: Snapshot, done: (result: WriteResult) => void): void;
  /** Reads back what is durable. Refuses, with a clear error, corruption it cannot repair. */
  recover(): RecoveredLog | RecoveryFailure;
}

/** Messages out. Delivery in is a call on the driver (`driver.receive(message)`). */
export interface Transport {
  send(message: Message): void;
}

/** The member's wall clock in milliseconds (drifts and jumps in the simulator). */
export interface Clock {
  nowMs(): number;
}

export type { NodeId };
