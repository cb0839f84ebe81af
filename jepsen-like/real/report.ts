// report.html: one self-contained static page (inline SVG and CSS, no script, no
// network): the verdicts, then a timeline with one row per client, every operation a
// bar from its call to its return (green ok, grey failed, orange unknown: drawn to when
// its error came back, then faded to the end), the nemesis's faults as bands across all
// rows, the checker's minimal failing window outlined in red, and the lease findings
// marked. Hovering a bar shows its request and response. Porcupine's visualiser is the
// model; real time is kept linear here so that faults line up with what they caused.

import type { FaultEvent } from './nemesis.js';
import type { HistoryRecord } from './recorder.js';
import type { Summary } from './summary.js';

export interface ReportInput {
  readonly summary: Summary;
  /** In history.jsonl's order (line i + 1 is records[i]). */
  readonly records: readonly HistoryRecord[];
  readonly faults: readonly FaultEvent[];
}

const ROW_PX = 18;
const LABEL_PX = 130;
/** Beyond this many bars the page gets slow in a browser: the rest are left out (and said so). */
const MAX_BARS = 15_000;

function esc(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

interface Scale {
  readonly x: (us: number) => number;
  readonly width: number;
  /** The first whole second before the first op or fault (the members' start is left out). */
  readonly startUs: number;
  readonly endUs: number;
}

function scaleFor(records: readonly HistoryRecord[], faults: readonly FaultEvent[]): Scale {
  const ends = [...records.map((r) => r.return ?? r.errorAt ?? r.call), ...faults.map((f) => f.end)];
  const starts = [...records.map((r) => r.call), ...faults.map((f) => f.start)];
  // Loops, not spreads: Math.max(...array) overflows the stack past ~100,000 arguments.
  let [startUs, endUs] = [Infinity, 1];
  for (const t of starts) startUs = Math.min(startUs, t);
  for (const t of ends) endUs = Math.max(endUs, t);
  startUs = Number.isFinite(startUs) ? Math.floor(startUs / 1e6) * 1e6 : 0;
  const span = Math.max(1, endUs - startUs);
  // About 5 ms a pixel, between 1200 and 24000 pixels wide.
  const plot = Math.min(24_000, Math.max(1200, span / 5000));
  return { x: (us) => LABEL_PX + ((us - startUs) / span) * plot, width: LABEL_PX + plot + 20, startUs, endUs };
}

function bar(r: HistoryRecord, line: number, y: number, s: Scale, inWindow: boolean): string {
  const x0 = s.x(r.call);
  const end = r.return ?? r.errorAt ?? r.call;
  const w = Math.max(2, s.x(end) - x0);
  const tip = `line ${line}: ${r.client} (process ${r.process}) ${r.outcome}\n${JSON.stringify(r.request)}\n-> ${r.response === undefined ? r.error ?? '?' : JSON.stringify(r.response)}\n[${(r.call / 1000).toFixed(1)} ms, ${r.return === null ? '∞' : `${(r.return / 1000).toFixed(1)} ms`}]`;
  const tail = r.outcome === 'unknown' ? `<rect class="tail" x="${(x0 + w).toFixed(1)}" y="${y + 6}" width="${Math.max(0, s.x(s.endUs) - x0 - w).toFixed(1)}" height="2"/>` : '';
  return `<g class="op ${r.outcome}${inWindow ? ' window' : ''}"><title>${esc(tip)}</title><rect x="${x0.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${ROW_PX - 4}" rx="2"/>${tail}</g>`;
}

function timeline(input: ReportInput, s: Scale, windowLines: ReadonlySet<number>): string {
  const clients = [...new Set(input.records.map((r) => r.client))].sort();
  const row = new Map(clients.map((c, i) => [c, i]));
  const top = 24;
  const leaseRow = clients.length;
  const height = top + (clients.length + 1) * ROW_PX + 10;
  const bands = input.faults.map((f) => {
    const [x0, x1] = [s.x(f.start), s.x(f.end)];
    const tip = `${f.kind} ${f.target}${f.aimedAtLeader ? ' (the leader)' : ''}: ${f.detail}`;
    return `<g class="fault ${f.kind}"><title>${esc(tip)}</title><rect x="${x0.toFixed(1)}" y="${top - 4}" width="${Math.max(2, x1 - x0).toFixed(1)}" height="${height - top}"/><text x="${(x0 + 2).toFixed(1)}" y="${top - 8}">${esc(`${f.kind} ${f.target}`)}</text></g>`;
  });
  const drawn = input.records.slice(0, MAX_BARS);
  const bars = drawn.map((r, i) => bar(r, i + 1, top + (row.get(r.client) ?? 0) * ROW_PX, s, windowLines.has(i + 1)));
  const labels = clients.map((c, i) => `<text class="label" x="4" y="${top + i * ROW_PX + 12}">${esc(c)}</text>`);
  const lease = input.summary.verdicts.lease;
  const marks = lease === undefined ? [] : [...lease.outlived.map((f) => ['outlived', f] as const), ...lease.early.map((f) => ['early', f] as const)].map(([kind, f]) => {
    const x = s.x(f.at);
    return `<g class="mark ${kind}"><title>${esc(`${f.key}: ${f.detail}`)}</title><path d="M${x.toFixed(1)} ${top + leaseRow * ROW_PX} l-5 12 h10 z"/></g>`;
  });
  const ticks: string[] = [];
  for (let sec = s.startUs / 1e6; sec * 1e6 <= s.endUs; sec++) ticks.push(`<line class="tick" x1="${s.x(sec * 1e6).toFixed(1)}" x2="${s.x(sec * 1e6).toFixed(1)}" y1="${top - 4}" y2="${height}"/><text class="tick" x="${(s.x(sec * 1e6) + 2).toFixed(1)}" y="${height - 2}">${sec}s</text>`);
  if (lease !== undefined) labels.push(`<text class="label" x="4" y="${top + leaseRow * ROW_PX + 12}">lease findings</text>`);
  return `<svg width="${s.width.toFixed(0)}" height="${height}" xmlns="http://www.w3.org/2000/svg">${ticks.join('')}${bands.join('')}${labels.join('')}${bars.join('\n')}${marks.join('')}</svg>`
    + (input.records.length > MAX_BARS ? `<p>Only the first ${MAX_BARS} of ${input.records.length} operations are drawn; history.jsonl has them all.</p>` : '');
}

const CSS = `body{font:13px system-ui,sans-serif;margin:16px;color:#222}pre{background:#f4f4f4;padding:8px;overflow:auto}
.scroll{overflow-x:auto;border:1px solid #ddd}table{border-collapse:collapse}td,th{border:1px solid #ddd;padding:2px 6px;text-align:left;font-family:monospace;font-size:12px}
.op.ok rect{fill:#6bbf6b}.op.fail rect{fill:#bbb}.op.unknown rect{fill:#f0a030}.op .tail{fill:#f0a030;opacity:.35}
.op.window rect{stroke:#d00;stroke-width:2}.fault rect{opacity:.13}.fault.kill rect{fill:#d33}.fault.pause rect{fill:#36c}.fault.partition rect{fill:#a3c}.fault.member rect{fill:#963}
.fault text{font-size:11px;fill:#555}.label{font-size:11px;fill:#333}.tick{stroke:#eee;font-size:10px;fill:#999}
.mark.outlived path{fill:#d00}.mark.early path{fill:#06c}.bad{color:#c00;font-weight:bold}.good{color:#080}`;

function verdictRows(s: Summary): string {
  const v = s.verdicts;
  const row = (name: string, ok: boolean | null, text: string): string =>
    `<tr><th>${esc(name)}</th><td class="${ok === null ? '' : ok ? 'good' : 'bad'}">${ok === null ? 'unknown' : ok ? 'ok' : 'FAILED'}</td><td>${esc(text)}</td></tr>`;
  const lin = v.linearizable;
  const rows = [
    row('linearizable', lin.verdict === 'unknown' ? null : lin.verdict === 'ok', `${lin.verdict}: ${lin.method}, ${lin.ms} ms${lin.reason === undefined ? '' : `; ${lin.reason}`}`),
    row('acknowledged writes', v.lostWrites.lost.length === 0, `${v.lostWrites.checked} read back at their revision, ${v.lostWrites.lost.length} lost`),
    row('revisions per client', v.revisionMonotonic.ok, `${v.revisionMonotonic.regressions.length} regressions`),
    row('HashKV after healing', v.hashKv.ok, Object.entries(v.hashKv.hashes).map(([m, h]) => `${m}: ${h}`).join(', ')),
  ];
  if (v.lease !== undefined) rows.push(row('lease expiry', v.lease.ok, `${v.lease.leases} leases (TTL ${v.lease.ttlS} s): ${v.lease.outlived.length} outlived TTL + ${v.lease.slackMs} ms, ${v.lease.early.length} gone before TTL, ${v.lease.undecided} undecided`));
  const w = v.watch;
  if (w !== undefined) rows.push(row('watch streams', w.ok, `${w.streams} streams, ${w.events} events, ${w.violations.length} violations${w.violations.slice(0, 3).map((x) => `; ${x.property} (${x.stream < 0 ? 'the streams together' : `stream ${x.stream}, response ${x.response}`}): ${x.message}`).join('')}${w.note === undefined ? '' : `; ${w.note}`}`));
  return rows.join('');
}

export function renderRunReport(input: ReportInput): string {
  const s = input.summary;
  const windowLines = new Set(s.verdicts.linearizable.windowLines ?? []);
  const scale = scaleFor(input.records, input.faults);
  const windowTable = windowLines.size === 0 ? '' : `<h2>Minimal failing window (outlined in red)</h2><table><tr><th>line</th><th>client</th><th>request</th><th>response</th></tr>${
    [...windowLines].sort((a, b) => a - b).map((l) => { const r = input.records[l - 1]; return r === undefined ? '' : `<tr><td>${l}</td><td>${esc(r.client)}</td><td>${esc(JSON.stringify(r.request))}</td><td>${esc(r.response === undefined ? r.outcome : JSON.stringify(r.response))}</td></tr>`; }).join('')}</table>`;
  const leaseFindings = s.verdicts.lease === undefined ? '' : [...s.verdicts.lease.outlived, ...s.verdicts.lease.early].map((f) => `<tr><td>${esc(f.key)}</td><td>${(f.at / 1e6).toFixed(2)} s</td><td>${esc(f.detail)}</td></tr>`).join('');
  return `<!doctype html><html><head><meta charset="utf-8"><title>jepsen-like: ${esc(s.target)} ${esc(s.result)}</title><style>${CSS}</style></head><body>
<h1>${esc(s.target)} x${s.nodes}: ${esc(s.workloads.join('+'))} under ${esc(s.nemesis.join('+') || 'no faults')} — <span class="${s.result === 'ok' ? 'good' : 'bad'}">${esc(s.result)}</span></h1>
<p>seed ${s.seed}, ${s.timeS} s; ${s.ops.total} ops (ok ${s.ops.ok}, failed ${s.ops.fail}, unknown ${s.ops.unknown}); ${s.acknowledgedWrites} acknowledged writes; faults ${esc(JSON.stringify(s.faults))}</p>
<pre>${esc(s.reproduce)}</pre><table>${verdictRows(s)}</table>${windowTable}
${leaseFindings === '' ? '' : `<h2>Lease findings</h2><table><tr><th>key</th><th>seen at</th><th>what</th></tr>${leaseFindings}</table>`}
<h2>Timeline</h2><p>One row per client; bars from call to return (green ok, grey failed, orange unknown); shaded bands: faults (red kill, blue pause, purple partition, brown member); triangles: lease findings. Hover for details.</p>
<div class="scroll">${timeline(input, scale, windowLines)}</div></body></html>
`;
}
