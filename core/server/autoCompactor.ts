// etcd's auto compaction (--auto-compaction-mode / --auto-compaction-retention),
// decided on the leader from its injected clock and proposed through Raft as an
// ordinary Compact, so every member compacts at the same revision.
//
//   periodic  keep `retention` of history: the compactor samples the latest revision
//             every tenth of its period and, once per period (the retention, at most an
//             hour), compacts to the newest sample that is at least `retention` old.
//   revision  keep `retention` revisions: every 5 minutes, compact to latest − retention.
//
// A member that is not the leader forgets its samples; a new leader starts sampling
// afresh (etcd pauses and resumes its compactor the same way).

export type AutoCompaction =
  | { readonly mode: 'periodic'; readonly retentionMs: number }
  | { readonly mode: 'revision'; readonly retention: number };

const HOUR_MS = 3600_000;
const REVISION_MODE_INTERVAL_MS = 5 * 60_000;

/**
 * Parses etcd's flag pair. In periodic mode a bare number counts hours ("1" = one
 * hour, as etcd 3.4); otherwise a Go duration ("30m", "1h30m", "10s"). "0" disables.
 * Returns null for disabled, a string describing the problem for bad input.
 */
export function parseAutoCompaction(mode: string, retention: string): AutoCompaction | null | string {
  if (mode !== 'periodic' && mode !== 'revision') {
    return `invalid auto-compaction-mode "${mode}" (expected "periodic" or "revision")`;
  }
  if (mode === 'revision') {
    const n = Number(retention);
    if (!Number.isInteger(n) || n < 0) return `invalid auto-compaction-retention "${retention}" for revision mode (expected a revision count)`;
    return n === 0 ? null : { mode, retention: n };
  }
  const ms = /^\d+$/.test(retention) ? Number(retention) * HOUR_MS : goDurationMs(retention);
  if (ms === null) return `invalid auto-compaction-retention "${retention}" (expected hours or a duration such as 30m)`;
  return ms === 0 ? null : { mode, retentionMs: ms };
}

/** A Go duration such as "1h30m", "90s", "1.5h"; null if it is not one. */
function goDurationMs(text: string): number | null {
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: HOUR_MS };
  const part = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < text.length) {
    part.lastIndex = at;
    const match = part.exec(text);
    if (match === null) return null;
    total += Number(match[1]) * (units[match[2] ?? ''] ?? 0);
    at = part.lastIndex;
  }
  return text.length === 0 ? null : total;
}

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
