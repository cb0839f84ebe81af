// What every client workload and fault injector is: a part of the simulated world that
// schedules its own events, draws from the run's one generator and reaches the members.
// Each is built from the same three parts (world.ts hands them out) and keeps them for
// the whole run.

import type { Cluster } from './cluster.js';
import type { SimRandom } from './prng.js';
import type { Scheduler } from './scheduler.js';

/** What every client workload and fault injector is built from. */
export interface SimParts {
  readonly scheduler: Scheduler;
  readonly random: SimRandom;
  readonly cluster: Cluster;
}

export abstract class SimActor {
  protected readonly scheduler: Scheduler;
  protected readonly random: SimRandom;
  protected readonly cluster: Cluster;

  /** Draws nothing: a subclass's draws keep their place in the seed's sequence. */
  protected constructor(parts: SimParts) {
    this.scheduler = parts.scheduler;
    this.random = parts.random;
    this.cluster = parts.cluster;
  }
}
