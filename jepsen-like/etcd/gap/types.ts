// The gap search's input and answer (gap-search.ts walks; the modules beside
// this one are its rules).

import type { Operation } from '../../history.js';
import type { Observations } from '../observations.js';
import type { ModelStore } from '../store.js';
import type { EtcdRequest, EtcdResponse } from '../types.js';

export type EtcdOp = Operation<EtcdRequest, EtcdResponse>;

/** An ok op at its place in the replay: key 2r = the write at r, 2r+1 = in the bucket after r. */
export interface Slot {
  readonly op: EtcdOp;
  readonly key: number;
}

export interface GapSearchInput {
  /** The ok ops in replay order. */
  readonly slots: readonly Slot[];
  /** The revisions no ok op claims, ascending. */
  readonly gaps: readonly number[];
  readonly unknownWriters: readonly EtcdOp[];
  /** Ok ops that may or may not have made a revision (lease revokes): tried as its writer, else replayed in its bucket. */
  readonly optionalWriters: ReadonlyMap<number, readonly EtcdOp[]>;
  /** Whether real time lets `op` make revision `gap` (monotone: true for every later gap too). */
  readonly fits: (op: EtcdOp, gap: number) => boolean;
  /** Whether a wrong answer at this slot proves the fillers chosen so far wrong (no freedom left in its bucket). */
  readonly certain: (slot: Slot) => boolean;
  readonly observations: Observations;
  readonly initialRevision: number;
  /** Out of time: stop with "inconclusive". */
  readonly expired: () => boolean;
}

export type GapSearchResult =
  /** `store`: the replayed store with its complete event log, when the successful path never cloned it. */
  | { readonly kind: 'ok'; readonly fillers: ReadonlyMap<number, EtcdOp>; readonly store?: ModelStore }
  /** No choice of fillers explains the history; `ops` are the culprits of the furthest any choice reached. */
  | { readonly kind: 'illegal'; readonly reason: string; readonly ops: readonly number[]; readonly prefix: readonly number[] }
  | { readonly kind: 'inconclusive'; readonly reason: string };

/** A replayed ok op whose answer the store did not give: `index` into the slots. */
export interface WrongAnswer {
  readonly index: number;
  readonly response: EtcdResponse;
}
