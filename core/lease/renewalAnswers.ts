// Keep-alive answers held until their renewal is replicated.
//
// A keep-alive's answer promises the client its lease's TTL from now. The renewal lives
// in the leader's memory until a lease checkpoint entry carries it; if the leader stops
// before that entry commits, the next leader counts the lease from its previous renewal
// and ends it early — before the TTL the answer promised (found by `npm run jepsen --
// --workload lease --nemesis leader`: a key gone 455 ms early after the leader was paused
// 45 ms after answering). So the answer waits for the checkpoint entry that carries the
// renewal to apply, and fails if it cannot.
//
// An answer belongs to the first checkpoint taken after its renewal, not to any
// checkpoint of its lease: a keep-alive renewed while an earlier checkpoint of the same
// lease is in flight must wait for the next one, which carries its later deadline.

import type { EtcdError } from '../errors.js';
import { invariant } from '../util/invariant.js';
import type { LeaseId } from './leaseId.js';

interface Waiting {
  readonly deadlineTick: number;
  readonly answer: () => void;
  readonly fail: (error: EtcdError) => void;
}

/** The answers bound to one proposed checkpoint entry (see bind). */
export interface BoundAnswers {
  readonly waiting: Waiting[];
}

export class RenewalAnswers {
  /** Held answers whose renewal no proposed checkpoint carries yet. */
  private readonly unbound = new Map<LeaseId, Waiting[]>();
  /** Held answers bound to a proposed checkpoint, until it applies or fails. */
  private readonly bound = new Set<BoundAnswers>();
  private count = 0;

  constructor(private readonly limit: number) {
    invariant(limit >= 1, 'at least one keep-alive answer may wait');
  }

  get size(): number {
    return this.count;
  }

  get full(): boolean {
    return this.count >= this.limit;
  }

  /** Holds an answer until a checkpoint taken after this renewal applies (the caller checked `full`). */
  hold(id: LeaseId, waiting: Waiting): void {
    invariant(!this.full, () => `more than ${this.limit} keep-alive answers waiting`);
    const list = this.unbound.get(id) ?? [];
    list.push(waiting);
    this.unbound.set(id, list);
    this.count++;
  }

  /** A checkpoint carrying these leases' renewals was taken: the answers held so far go with it. */
  bind(ids: readonly LeaseId[]): BoundAnswers {
    const waiting: Waiting[] = [];
    for (const id of ids) {
      const list = this.unbound.get(id);
      if (list === undefined) continue;
      this.unbound.delete(id);
      waiting.push(...list);
    }
    const batch: BoundAnswers = { waiting };
    this.bound.add(batch);
    return batch;
  }

  /** The checkpoint entry of `batch` applied: its answers go out. */
  answer(batch: BoundAnswers): void {
    for (const w of this.release(batch)) w.answer();
  }

  /** The checkpoint of `batch` failed: its answers fail. */
  fail(batch: BoundAnswers, error: EtcdError): void {
    for (const w of this.release(batch)) w.fail(error);
  }

  failAll(error: EtcdError): void {
    for (const batch of [...this.bound]) this.fail(batch, error);
    for (const [id, list] of [...this.unbound]) {
      this.unbound.delete(id);
      this.count -= list.length;
      for (const w of list) w.fail(error);
    }
  }

  /** Answers past their deadline fail with `error` (bounded waiting). */
  expire(tick: number, error: EtcdError): void {
    const due: Waiting[] = [];
    for (const [id, list] of this.unbound) {
      const rest = this.splitDue(list, tick, due);
      if (rest.length === 0) this.unbound.delete(id);
      else this.unbound.set(id, rest);
    }
    for (const batch of this.bound) {
      const rest = this.splitDue(batch.waiting, tick, due);
      batch.waiting.length = 0;
      batch.waiting.push(...rest);
    }
    this.count -= due.length;
    for (const w of due) w.fail(error);
  }

  private splitDue(list: readonly Waiting[], tick: number, due: Waiting[]): Waiting[] {
    const rest: Waiting[] = [];
    for (const w of list) (w.deadlineTick <= tick ? due : rest).push(w);
    return rest;
  }

  private release(batch: BoundAnswers): Waiting[] {
    if (!this.bound.delete(batch)) return []; // already released (failAll)
    const list = [...batch.waiting];
    batch.waiting.length = 0;
    this.count -= list.length;
    invariant(this.count >= 0, 'keep-alive answers counted below zero');
    return list;
  }
}
