// A self-contained HTML explanation of an illegal history: every operation on a
// timeline, one row per process, coloured by role — in the longest linearizable
// prefix found, in the minimal failing window, or neither — plus the window and
// the prefix as tables. Only illegal verdicts get a report: a search that was
// cut short has nothing trustworthy to draw.

import type { DescribedOp } from '../checkers.js';

/** Which history was checked, and how. */
export type CheckedHistory = Readonly<Record<'file' | 'model', string>>;

/** What the checker found: the ops, the minimal failing window and the longest linearizable prefix (op ids). */
export interface IllegalFinding {
  readonly ops: readonly DescribedOp[];
  readonly window: readonly number[];
  readonly longestPrefix: readonly number[];
  readonly reason?: string;
}

export type ReportInput = CheckedHistory & IllegalFinding;

const ROW = 22;
const WIDTH = 1400;
const MAX_DRAWN = 3000;

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function renderReport(input: ReportInput): string {
  const inWindow = new Set(input.window);
  const inPrefix = new Set(input.longestPrefix);
  const byId = new Map(input.ops.map((op) => [op.id, op]));
  const windowOps = input.window.map((id) => byId.get(id)).filter((op): op is DescribedOp => op !== undefined);

  // Draw the window's neighbourhood when the history is large.
  let drawn = input.ops;
  if (drawn.length > MAX_DRAWN && windowOps.length > 0) {
    const from = Math.min(...windowOps.map((op) => op.call));
    const to = Math.max(...windowOps.map((op) => (Number.isFinite(op.ret) ? op.ret : op.call)));
    drawn = input.ops.filter((op) => op.ret >= from && op.call <= to).slice(0, MAX_DRAWN);
  }
  // Compress time to ranks so that bursts stay readable.
  const times = [...new Set(drawn.flatMap((op) => (Number.isFinite(op.ret) ? [op.call, op.ret] : [op.call])))].sort((a, b) => a - b);
  const rank = new Map(times.map((t, i) => [t, i]));
  const span = Math.max(1, times.length);
  const x = (t: number): number => (Number.isFinite(t) ? 160 + ((rank.get(t) ?? 0) / span) * (WIDTH - 200) : WIDTH - 20);
  const processes = [...new Set(drawn.map((op) => String(op.process)))];
  const row = new Map(processes.map((p, i) => [p, i]));

  const bars = drawn
    .map((op) => {
      const y = 30 + (row.get(String(op.process)) ?? 0) * ROW;
      const x0 = x(op.call);
      const w = Math.max(4, x(op.ret) - x0);
      const cls = inWindow.has(op.id) ? 'window' : inPrefix.has(op.id) ? 'prefix' : 'other';
      const tip = `line ${op.line}: ${op.text} [${op.call}, ${Number.isFinite(op.ret) ? op.ret : '∞'}] ${op.outcome}`;
      return `<g class="${cls}${op.outcome === 'unknown' ? ' unknown' : ''}"><title>${escapeHtml(tip)}</title><rect x="${x0.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${ROW - 6}" rx="3"/><text x="${(x0 + 3).toFixed(1)}" y="${y + ROW - 10}">${escapeHtml(op.text.slice(0, Math.max(0, Math.floor(w / 6))))}</text></g>`;
    })
    .join('\n');
  const labels = processes.map((p, i) => `<text class="label" x="8" y="${30 + i * ROW + ROW - 10}">process ${escapeHtml(p)}</text>`).join('\n');
  const height = 40 + processes.length * ROW;
  const table = (ids: readonly number[]): string =>
    ids
      .map((id) => byId.get(id))
      .filter((op): op is DescribedOp => op !== undefined)
      .map((op) => `<tr><td>${op.line}</td><td>${escapeHtml(String(op.process))}</td><td>${op.call}</td><td>${Number.isFinite(op.ret) ? op.ret : '∞'}</td><td>${op.outcome}</td><td><code>${escapeHtml(op.text)}</code></td></tr>`)
      .join('\n');
  const head = '<tr><th>line</th><th>process</th><th>call</th><th>return</th><th>outcome</th><th>operation</th></tr>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>illegal: ${escapeHtml(input.file)}</title>
<style>
body { font: 14px system-ui, sans-serif; margin: 1.5em; }
svg text { font: 10px monospace; pointer-events: none; }
svg text.label { font-weight: bold; }
.window rect { fill: #f4a3a3; stroke: #b00; }
.prefix rect { fill: #b9e3b9; stroke: #393; }
.other rect { fill: #ddd; stroke: #999; }
.unknown rect { stroke-dasharray: 4 2; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
.key span { display: inline-block; width: 1em; height: 1em; margin: 0 0.3em 0 1em; vertical-align: middle; }
</style></head><body>
<h1>Not linearizable: ${escapeHtml(input.file)}</h1>
<p>Model <code>${escapeHtml(input.model)}</code>, ${input.ops.length} operations.${input.reason === undefined ? '' : ` ${escapeHtml(input.reason)}`}</p>
<p class="key"><span style="background:#f4a3a3"></span>minimal failing window (${input.window.length} ops: they cannot be linearized together)
<span style="background:#b9e3b9"></span>longest linearizable prefix found (${input.longestPrefix.length} ops)
<span style="background:#ddd"></span>other; dashed = unknown outcome (return at ∞). Hover a bar for details; time is drawn by rank.</p>
<svg width="${WIDTH}" height="${height}" xmlns="http://www.w3.org/2000/svg">
${labels}
${bars}
</svg>
<h2>Minimal failing window</h2>
<table>${head}
${table(input.window)}</table>
<h2>Longest linearizable prefix, in linearization order</h2>
<table>${head}
${table(input.longestPrefix)}</table>
</body></html>
`;
}
