// The application the simulated members apply committed entries to: a running hash
// chain over (index, payload) of every non-empty entry. Two members that applied the
// same entries in the same order hold the same chain; the chain travels in snapshots,
// so a member restored from a snapshot can be checked against the others too.

import type { StateMachine } from '../core/node/driver.js';
import type { Entry } from '../core/raft/types.js';
import { invariant } from '../core/util/invariant.js';
import { FNV_INITIAL, fnvBytes, fnvNumber } from './scheduler.js';

export interface HashChainHooks {
  /** After a non-empty entry is applied: the chain value now. */
  onChain(index: number, chain: number): void;
  /** After a snapshot is restored: the last non-empty index it covers and its chain. */
  onRestore(lastIndex: number, chain: number): void;
}

const SNAPSHOT_BYTES = 16;

export class HashChainMachine implements StateMachine {
  /** The index of the last non-empty entry applied (0 if none). */
  lastIndex = 0;
  chain = FNV_INITIAL;
  applied = 0;

  constructor(private readonly hooks: HashChainHooks) {}

  apply(entry: Entry): void {
    invariant(entry.index > this.lastIndex,
      () => `state machine: entry ${entry.index} applied after ${this.lastIndex}`);
    this.lastIndex = entry.index;
    this.chain = fnvBytes(fnvNumber(this.chain, entry.index), entry.data);
    this.applied++;
    this.hooks.onChain(entry.index, this.chain);
  }

  snapshot(): Uint8Array {
    const bytes = new Uint8Array(SNAPSHOT_BYTES);
    const view = new DataView(bytes.buffer);
    view.setFloat64(0, this.lastIndex, true);
    view.setUint32(8, this.chain, true);
    view.setUint32(12, this.applied, true);
    return bytes;
  }

  restore(data: Uint8Array): void {
    invariant(data.byteLength === SNAPSHOT_BYTES, () => `state machine: snapshot of ${data.byteLength} bytes`);
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
    this.lastIndex = view.getFloat64(0, true);
    this.chain = view.getUint32(8, true);
    this.applied = view.getUint32(12, true);
    this.hooks.onRestore(this.lastIndex, this.chain);
  }
}
