// The Lock, Campaign and Observe calls a member is running: each may wait without end
// (for a lock holder to leave, for a leader to resign), and each holds a watch on the
// member's hub while it waits. So they are bounded, and the member can end them all when
// it stops rather than leave grpc-js waiting for them through its shutdown grace.

import { invariant } from '../../core/util/invariant.js';

/**
 * Recipe calls one member runs at once (Lock, Campaign, Observe). etcd has no such
 * limit; past it a call is refused with "etcdserver: too many requests".
 */
export const MAX_RECIPE_CALLS = 1024;

/** Why a running call was aborted. */
export type AbortReason = 'cancelled' | 'stopped';

export class RecipeCalls {
  /** Invariant: size <= limit. */
  private readonly running = new Set<AbortController>();
  private stopped = false;

  constructor(private readonly limit = MAX_RECIPE_CALLS) {
    invariant(Number.isInteger(limit) && limit > 0, () => `the recipe call limit must be a positive integer, got ${limit}`);
  }

  /** A new call's abort controller, or why it may not run: the member stopped, or too many run. */
  enter(): AbortController | 'stopped' | 'tooMany' {
    if (this.stopped) return 'stopped';
    if (this.running.size >= this.limit) return 'tooMany';
    const controller = new AbortController();
    this.running.add(controller);
    invariant(this.running.size <= this.limit, 'more recipe calls than the limit');
    return controller;
  }

  /** The call is done (its cleanup too): its place is free. */
  leave(controller: AbortController): void {
    this.running.delete(controller);
  }

  /** The member stops: every running call is aborted (reason 'stopped'), and no new one starts. */
  stopAll(): void {
    this.stopped = true;
    const all = [...this.running];
    this.running.clear();
    for (const controller of all) controller.abort('stopped' satisfies AbortReason);
  }

  get size(): number {
    return this.running.size;
  }
}

/** Why `signal` was aborted (a recipe call is only aborted by RecipeCalls or its own client). */
export function abortReason(signal: AbortSignal): AbortReason {
  invariant(signal.aborted, 'only an aborted signal has a reason');
  return signal.reason === 'stopped' ? 'stopped' : 'cancelled';
}
