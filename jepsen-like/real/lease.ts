// The lease workload's verdict type (the workload itself follows).

export interface LeaseFinding {
  readonly lease: string;
  readonly key: string;
  /** Microseconds since the start. */
  readonly at: number;
  readonly detail: string;
}

export interface LeaseVerdict {
  readonly ok: boolean;
  readonly leases: number;
  readonly ttlS: number;
  readonly slackMs: number;
  readonly outlived: readonly LeaseFinding[];
  readonly early: readonly LeaseFinding[];
  readonly undecided: number;
}
