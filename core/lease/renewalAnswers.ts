// Keep-alive answers held until their renewal is replicated.
//
// A keep-alive's answer promises the client its lease's TTL from now. The renewal lives
// in the leader's memory until a lease checkpoint entry carries it; if the leader stops
// before that entry commits, the next leader counts the lease from its previous renewal
// and ends it early — before the TTL the answer promised (found by `npm run jepsen --
// --workload lease --nemesis leader`: a key gone 455 ms early after the leader was paused
// 45 ms after answering). So the answer waits for the checkpoint entry that carries the
// renewal to apply, and fails if it cannot.

import type { EtcdError } from '../errors.js';
import { invariant } from '../util/invariant.js';
import type { LeaseId } from './leaseId.js';

interface Waiting {
  readonly deadlineTick: number;
  readonly answer: () => void;
  readonly fail: (error: EtcdError) => void;
}

export class RenewalAnswers {
  private readonly waiting = new Map<LeaseId, Waiting[]>();
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

  /** Holds an answer until a checkpoint carrying `id`'s renewal applies (the caller checked `full`). */
  hold(id: LeaseId, waiting: Waiting): void {
    invariant(!this.full, () => `more than ${this.limit} keep-alive answers waiting`);
    const list = this.waiting.get(id) ?? [];
    list.push(waiting);
    this.waiting.set(id, list);
    this.count++;
  }

  /** A checkpoint entry carrying these renewals applied: their answers go out. */
  answer(ids: readonly LeaseId[]): void {
    for (const id of ids) for (const w of this.take(id)) w.answer();
  }

  /** These renewals' checkpoint failed (or their lease is gone): their answers fail. */
  fail(ids: readonly LeaseId[], error: EtcdError): void {
    for (const id of ids) for (const w of this.take(id)) w.fail(error);
  }

  failAll(error: EtcdError): void {
    this.fail([...this.waiting.keys()], error);
  }

  /** Answers past their deadline fail with `error` (bounded waiting). */
  expire(tick: number, error: EtcdError): void {
    for (const [id, list] of this.waiting) {
      const due = list.filter((w) => w.deadlineTick <= tick);
      if (due.length === 0) continue;
      const rest = list.filter((w) => w.deadlineTick > tick);
      if (rest.length === 0) this.waiting.delete(id);
      else this.waiting.set(id, rest);
      this.count -= due.length;
      for (const w of due) w.fail(error);
    }
  }

  private take(id: LeaseId): Waiting[] {
    const list = this.waiting.get(id) ?? [];
    this.waiting.delete(id);
    this.count -= list.length;
    return list;
  }
}
