// Per-member wall clocks (the Clock port): virtual time seen through a drift rate and
// an offset that the nemesis may jump (TigerBeetle's TimeSim: linear drift plus steps).
// The core never reads them for Raft; leases (a later issue) will, and that is where
// skew must be survivable.

import type { Clock } from '../core/node/ports.js';
import type { Scheduler } from './scheduler.js';

export interface SimClockOptions {
  readonly scheduler: Scheduler;
  readonly driftPpm: number;
  /** Where the clock starts, relative to virtual time (default 0). */
  readonly offsetMs?: number;
}

export class SimClock implements Clock {
  private offsetMs: number;
  /** The sum of the backward steps, ms (a deadline set before one is reached that much later). */
  backwardJumpsMs = 0;

  private readonly scheduler: Scheduler;
  /** Parts per million the clock runs fast (+) or slow (−). */
  readonly driftPpm: number;

  constructor(options: SimClockOptions) {
    this.scheduler = options.scheduler;
    this.driftPpm = options.driftPpm;
    this.offsetMs = options.offsetMs ?? 0;
  }

  nowMs(): number {
    const virtualMs = this.scheduler.nowUs / 1000;
    return virtualMs * (1 + this.driftPpm / 1e6) + this.offsetMs;
  }

  /** A step change (NTP correction, a VM migration): the clock leaps by `deltaMs`. */
  jump(deltaMs: number): void {
    this.offsetMs += deltaMs;
    if (deltaMs < 0) this.backwardJumpsMs -= deltaMs;
  }

  /** The virtual time, µs, at which this clock read `ms` (exact unless it stepped since). */
  virtualUsAt(ms: number): number {
    return ((ms - this.offsetMs) * 1000) / (1 + this.driftPpm / 1e6);
  }

  /** How long `intervalMs` of this clock's time lasts in virtual time (for tick timers). */
  virtualUsFor(intervalMs: number): number {
    return (intervalMs * 1000) / (1 + this.driftPpm / 1e6);
  }
}
