// The progress line of a sweep: seeds done, failures so far, time spent and time left.
// Pure (the times come in), so that its text is tested; the CLI redraws it in place on a
// terminal and prints it as plain lines, at most every PLAIN_EVERY_MS, otherwise.

/** A pipe (CI logs) gets a plain line this often at most. */
export const PLAIN_EVERY_MS = 10_000;

export interface SweepProgress {
  readonly done: number;
  readonly total: number;
  readonly failing: number;
  readonly elapsedMs: number;
}

/** "12m05s", "45s": minutes and seconds. */
export function formatDuration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  const minutes = Math.floor(seconds / 60);
  const rest = seconds % 60;
  return minutes === 0 ? `${rest}s` : `${minutes}m${String(rest).padStart(2, '0')}s`;
}

/** Time left at the rate so far ('?' before the first seed is done). */
export function timeLeft(p: SweepProgress): string {
  if (p.done === 0) return '?';
  return formatDuration((p.elapsedMs / p.done) * (p.total - p.done));
}

/** The bar for a terminal: `[#####.....] 50/100 seeds, 1 failing, 1m02s spent, 1m02s left`. */
export function progressBar(p: SweepProgress, width = 30): string {
  const filled = p.total === 0 ? width : Math.round((p.done / p.total) * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${progressText(p)}`;
}

export function progressText(p: SweepProgress): string {
  return `${p.done}/${p.total} seeds, ${p.failing} failing, ${formatDuration(p.elapsedMs)} spent, ${timeLeft(p)} left`;
}
