// etcd's auto compaction (--auto-compaction-mode / --auto-compaction-retention),
// decided on the leader from its injected clock and proposed through Raft as an
// ordinary Compact, so every member compacts at the same revision.
//
//   periodic  keep `retention` of history: the compactor samples the latest revision
//             every tenth of its period and, once per period (the retention, at most an
//             hour), compacts to the newest sample that is at least `retention` old.
//   revision  keep `retention` revisions: every 5 minutes, compact to latest − retention.
//
// The flags are parsed in net/config/flags.ts. A member that is not the leader forgets its
// samples; a new leader starts sampling afresh (etcd pauses and resumes its compactor).

export type AutoCompaction =
  | { readonly mode: 'periodic'; readonly retentionMs: number }
  | { readonly mode: 'revision'; readonly retention: number };

const HOUR_MS = 3600_000;
const REVISION_MODE_INTERVAL_MS = 5 * 60_000;

interface Sample {
  readonly atMs: number;
  readonly revision: number;
}

export class AutoCompactor {
  private readonly config: AutoCompaction;
  private samples: Sample[] = [];
  private lastSampleMs: number | null = null;
  private lastRunMs: number | null = null;

  constructor(config: AutoCompaction) {
    this.config = config;
  }

  /**
   * Called every tick. Returns the revision the leader should compact to now, or null.
   * `compacted` is the store's compact revision (nothing at or below it is proposed).
   */
  onTick(nowMs: number, isLeader: boolean, currentRevision: number, compacted: number): number | null {
    if (!isLeader) {
      this.samples = [];
      this.lastSampleMs = null;
      this.lastRunMs = null;
      return null;
    }
    const target = this.config.mode === 'revision'
      ? this.revisionMode(nowMs, currentRevision, this.config.retention)
      : this.periodicMode(nowMs, currentRevision, this.config.retentionMs);
    return target !== null && target > compacted ? target : null;
  }

  private revisionMode(nowMs: number, current: number, retention: number): number | null {
    this.lastRunMs ??= nowMs;
    if (nowMs - this.lastRunMs < REVISION_MODE_INTERVAL_MS) return null;
    this.lastRunMs = nowMs;
    return current - retention;
  }

  private periodicMode(nowMs: number, current: number, retentionMs: number): number | null {
    const period = Math.min(retentionMs, HOUR_MS);
    if (this.lastSampleMs === null || nowMs - this.lastSampleMs >= period / 10) {
      this.lastSampleMs = nowMs;
      this.samples.push({ atMs: nowMs, revision: current });
    }
    this.lastRunMs ??= nowMs;
    if (nowMs - this.lastRunMs < period) return null;
    this.lastRunMs = nowMs;
    // The newest revision that is at least `retention` old; older samples are spent.
    let target: Sample | undefined;
    while (this.samples.length > 0 && (this.samples[0]?.atMs ?? Infinity) <= nowMs - retentionMs) target = this.samples.shift();
    return target?.revision ?? null;
  }
}
