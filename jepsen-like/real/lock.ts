// The lock workload: clients take etcd's lock (the v3lockpb.Lock service, which runs the
// mutex recipe inside the member) on one name, hold it a moment, and let it go (a delete
// of the lock key, which is what etcd's Unlock does). The
// verdict is exclusivity: no two clients may *surely* hold it at once.
//
// A client surely holds the lock from the moment its Lock call returned until the first
// of: its Unlock call was sent, or its lease may have run out (the grant's send time plus
// the TTL, as no keep-alive is sent: the hold is far shorter than the TTL). Those
// intervals must not overlap. Times a client may only *believe* it holds the lock (after
// its lease could have expired) are not claimed, so a correct server cannot fail this.
//
// Every revision the recipe makes goes into the history, so the kv checker still sees
// every write: the lock key's put (its revision read back by a Range while held), the
// release's delete (with its deleted count), the lease's grant and revoke; what a
// failed call may have done is recorded with an unknown outcome.

import type { EtcdResponse } from '../etcd/types.js';
import { bytes, CallError, keyValue, num, revisionOf, type Wire } from './client.js';
import type { HistoryRecord } from './recorder.js';
import { grantLease } from './lease.js';
import { invoke, type Worker } from './worker.js';

export const LOCK_NAME = 'lock';
// Short: a holder that dies (or whose Unlock and revoke fail) blocks every other client until its lease runs out.
const TTL_S = 3;
const LOCK_TIMEOUT_MS = 2000;
const MAX_HOLD_MS = 300;

/** One acquisition that returned (times in microseconds since the start). */
export interface Acquisition {
  readonly client: string;
  readonly key: string;
  /** The lock key's create revision: etcd's fencing token. */
  readonly revision: number;
  readonly heldFrom: number;
  readonly heldUntil: number;
}

export interface LockOverlap {
  readonly first: Acquisition;
  readonly second: Acquisition;
  readonly detail: string;
}

export interface LockVerdict {
  readonly ok: boolean;
  /** Lock calls made, and how many returned the lock. */
  readonly attempts: number;
  readonly acquisitions: number;
  readonly overlaps: readonly LockOverlap[];
}

export interface LockState {
  readonly acquisitions: Acquisition[];
  attempts: number;
  /** Leases not revoked by an acknowledged call: their expiry is recorded as an unknown revoke at the end. */
  readonly unrevoked: number[];
}

const sleep = (ms: number): Promise<void> => new Promise((done) => { setTimeout(done, ms); });

/** A revision-making step the client did not see the outcome of: recorded unknown, the process retired. */
function recordUnknown(w: Worker, call: number, request: HistoryRecord['request'], error: string): void {
  w.recorder.add({ process: w.process, client: w.name, call, return: null, outcome: 'unknown', request, error, errorAt: w.recorder.now() });
  w.process = w.recorder.newProcess();
}

/** One round: grant, Lock, hold, Unlock, revoke. */
async function lockOnce(w: Worker, state: LockState): Promise<void> {
  const granted = await grantLease(w, TTL_S);
  if (granted === null) return; // an unknown grant makes no revision and no key
  const { id, alias, call: grantCall } = granted;
  const ttlUs = granted.ttlS * 1e6;
  const key = `${LOCK_NAME}/${BigInt(id).toString(16)}`;
  const put = { type: 'put', key, value: '', lease: alias } as const;
  state.attempts++;
  const lockCall = w.recorder.now();
  let held: Wire | null = null;
  try {
    held = await w.client.call('lock', 'Lock', { name: bytes(LOCK_NAME), lease: id }, LOCK_TIMEOUT_MS);
  } catch (error: unknown) {
    // Its key may have been put, and (a canceled waiter leaves the queue) deleted again.
    const message = error instanceof Error ? error.message : String(error);
    recordUnknown(w, lockCall, put, message);
    recordUnknown(w, lockCall, { type: 'delete', key }, message);
  }
  const lockReturn = w.recorder.now();
  if (held !== null) {
    const revision = await createRevision(w, key);
    if (revision === null) {
      recordUnknown(w, lockCall, put, 'the lock key was gone when read back');
    } else {
      w.recorder.add({ process: w.process, client: w.name, call: lockCall, return: lockReturn, outcome: 'ok', request: put, response: { revision } });
      await sleep(w.rng.between(20, MAX_HOLD_MS));
      const unlockCall = w.recorder.now();
      state.acquisitions.push({ client: w.name, key, revision, heldFrom: lockReturn, heldUntil: Math.min(unlockCall, grantCall + ttlUs) });
      // etcd's Unlock is a delete of the key; the delete itself says whether it wrote
      // (Unlock's answer does not), which the checker needs to place it.
      await invoke(w, {
        request: { type: 'delete', key },
        send: () => w.client.call('kv', 'DeleteRange', { key: bytes(key) }),
        response: (r): EtcdResponse => ({ revision: revisionOf(r), deleted: num(r['deleted']) }),
      });
    }
  }
  const revoked = await invoke(w, {
    request: { type: 'leaseRevoke', id: alias },
    send: () => w.client.call('lease', 'LeaseRevoke', { ID: id }),
    response: (r) => ({ revision: revisionOf(r) }),
  });
  if (revoked === null) state.unrevoked.push(alias);
}

/** The lock key's create revision, read while held; null when it is not there. */
async function createRevision(w: Worker, key: string): Promise<number | null> {
  try {
    const r = await w.client.call('kv', 'Range', { key: bytes(key) });
    const kv = ((r['kvs'] ?? []) as unknown[])[0];
    return kv === undefined ? null : keyValue(kv).createRevision;
  } catch (error: unknown) {
    if (error instanceof CallError) return null;
    throw error;
  }
}

/** One lock client's loop until `stop`. */
export async function driveLocks(w: Worker, state: LockState, stop: () => boolean): Promise<void> {
  while (!stop()) {
    await lockOnce(w, state);
    await sleep(w.rng.between(0, 100));
  }
}

/** The unknown-outcome revokes standing for the expiry of leases no acknowledged call revoked. */
export function lockExpiryRecords(state: LockState, newProcess: () => number): HistoryRecord[] {
  return state.unrevoked.map((alias) => ({ process: newProcess(), client: 'lessor', call: 0, return: null, outcome: 'unknown', request: { type: 'leaseRevoke', id: alias } }));
}

const ms = (us: number): string => `${(us / 1000).toFixed(1)} ms`;

/** No two sure holds overlap. */
export function judgeLocks(state: Pick<LockState, 'acquisitions' | 'attempts'>): LockVerdict {
  const holds = [...state.acquisitions].filter((a) => a.heldUntil > a.heldFrom).sort((a, b) => a.heldFrom - b.heldFrom);
  const overlaps: LockOverlap[] = [];
  let latest: Acquisition | undefined;
  for (const hold of holds) {
    if (latest !== undefined && hold.heldFrom < latest.heldUntil) {
      overlaps.push({
        first: latest, second: hold,
        detail: `${hold.client} got the lock (key revision ${hold.revision}) ${ms(latest.heldUntil - hold.heldFrom)} before ${latest.client} (key revision ${latest.revision}) let it go`,
      });
    }
    if (latest === undefined || hold.heldUntil > latest.heldUntil) latest = hold;
  }
  return { ok: overlaps.length === 0, attempts: state.attempts, acquisitions: state.acquisitions.length, overlaps: overlaps.slice(0, 20) };
}
