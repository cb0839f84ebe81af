// The KV side of the page, drawn from a frame and the run's survey: the clients'
// operations on a timeline (invoke → complete bars, one lane per history process, as
// Porcupine draws them, in a window around the moment shown), the puts and reads sent
// from the page with their answers, and the end-of-run verdicts. Reads only.

import type { Frame } from '../../sim/replay/frame.js';
import type { OpBar, Survey } from '../../sim/replay/survey.js';
import { byId, html, svg } from './dom.js';

/** The timeline shows this much simulated time around the moment shown, µs. */
export const OPS_WINDOW_US = 1_000_000;
const LANES_MAX = 16;
const LANE_HEIGHT = 13;
const WIDTH = 1000;
const LABEL_WIDTH = 60;

const OUTCOME_FILL: ReadonlyMap<string, string> = new Map([
  ['ok', '#2e9e58'], ['fail', '#999'], ['unknown', '#e39b2d'], ['stale', '#8aa4c8'], ['pending', '#e39b2d'],
]);




/** An op as seen at `nowUs`: not yet invoked (null), running, or done with its outcome. */
function seenAt(op: OpBar, nowUs: number): { readonly endUs: number; readonly outcome: string } | null {
  if (op.callUs > nowUs) return null;
  if (op.retUs === null || op.retUs > nowUs) return { endUs: nowUs, outcome: 'pending' };
  return { endUs: op.retUs, outcome: op.outcome };
}

/**
 * The ops timeline in the window [now − ½w, now + ½w]: what happened by now drawn
 * solid (a running op up to now, open-ended), what comes later not drawn — the future
 * of the run is not shown, as the cards do not show it.
 */
export function renderOps(frame: Frame, found: Survey | null): void {
  const root = byId('ops');
  if (!(root instanceof SVGSVGElement)) return;
  root.replaceChildren();
  const ops = found?.ops ?? [];
  byId('ops-panel').hidden = ops.length === 0;
  if (ops.length === 0) return;
  const now = frame.timeUs;
  const from = now - OPS_WINDOW_US / 2;
  const to = now + OPS_WINDOW_US / 2;
  const x = (us: number): number => LABEL_WIDTH + ((us - from) / (to - from)) * (WIDTH - LABEL_WIDTH);
  // The minimal failing window's ops (a failing run's), outlined red.
  const inWindow = new Set((found?.verdict?.window?.ops ?? []).map((o) => (o.record === null ? undefined : ops[o.record])));
  const visible = ops.filter((op) => op.callUs <= now && op.callUs < to && (op.retUs === null || op.retUs >= from || op.retUs > now));
  const lanes = [...new Set(visible.map((op) => op.process))].sort((a, b) => a - b).slice(0, LANES_MAX);
  const height = Math.max(1, lanes.length) * LANE_HEIGHT + 16;
  root.setAttribute('viewBox', `0 0 ${WIDTH} ${height}`);
  lanes.forEach((process, lane) => {
    const label = svg('text', { x: 2, y: lane * LANE_HEIGHT + 10, class: 'lane' });
    label.textContent = `p${process}`;
    root.append(label);
  });
  let drawn = 0;
  for (const op of visible) {
    const lane = lanes.indexOf(op.process);
    const seen = seenAt(op, now);
    if (lane < 0 || seen === null) continue;
    const x1 = Math.max(LABEL_WIDTH, x(op.callUs));
    const x2 = Math.max(x1 + 1.5, x(seen.endUs));
    const bar = svg('rect', {
      x: x1, y: lane * LANE_HEIGHT + 2, width: x2 - x1, height: LANE_HEIGHT - 4, rx: 2,
      fill: OUTCOME_FILL.get(seen.outcome) ?? '#ccc', class: `op ${seen.outcome}${op.manual ? ' manual' : ''}${inWindow.has(op) ? ' window' : ''}`,
      'data-outcome': seen.outcome,
    });
    const title = svg('title', {});
    title.textContent = `p${op.process} → member ${op.member}: ${op.text}, ${seen.outcome}` +
      ` (${(op.callUs / 1000).toFixed(1)}–${seen.outcome === 'pending' ? '…' : (seen.endUs / 1000).toFixed(1)} ms)`;
    bar.append(title);
    root.append(bar);
    if (x2 - x1 > 46) {
      const text = svg('text', { x: x1 + 2, y: lane * LANE_HEIGHT + 9.5, class: 'optext' });
      text.textContent = op.text.slice(0, Math.floor((x2 - x1) / 5.5));
      root.append(text);
    }
    drawn++;
  }
  root.append(svg('line', { x1: x(now), x2: x(now), y1: 0, y2: height - 14, class: 'now' }));
  const axis = svg('text', { x: LABEL_WIDTH, y: height - 3, class: 'lane' });
  axis.textContent = `${(from / 1000).toFixed(0)} ms … now ${(now / 1000).toFixed(1)} ms … ${(to / 1000).toFixed(0)} ms · ${drawn} ops` +
    ` (green ok, grey failed, orange unknown or still running, blue serializable; outlined: sent from this page; red outline: the failing window)`;
  root.append(axis);
}

/** The puts and reads sent from the page, and what each got by now. */
export function renderClientOps(frame: Frame): void {
  const list = byId('client-ops');
  list.replaceChildren(...frame.clientOps.map((op, i) => {
    const what = op.kind === 'put' ? `put ${op.key}=${op.value}` : `read ${op.key}${op.rangeEnd === '' ? '' : `..${op.rangeEnd}`}`;
    const done = op.retUs !== null && op.retUs <= frame.timeUs;
    const state = op.process === null ? 'refused (the member is down, or the clients are not running)'
      : done ? `${op.outcome} at ${(op.retUs / 1000).toFixed(1)} ms: ${op.response === '' ? '(no answer)' : op.response}`
        : `sent at ${((op.callUs ?? 0) / 1000).toFixed(1)} ms, waiting`;
    const row = html('div', `#${i + 1} ${what} → member ${op.member}: ${state}`, 'client-op');
    row.dataset['outcome'] = op.process === null ? 'refused' : done ? op.outcome : 'pending';
    return row;
  }));
}

/** The end-of-run verdicts (the run is judged whole, as the CLI judges it, whatever moment is shown). */
export function renderVerdict(frame: Frame, found: Survey | null): void {
  const root = byId('verdict');
  const v = found?.verdict ?? null;
  if (v === null || found === null) {
    root.textContent = '';
    return;
  }
  const atEnd = frame.index >= found.events;
  const leases = v.leaseOutlived.length === 0 ? 'ok' : `outlived: ${v.leaseOutlived[0] ?? ''}`;
  root.replaceChildren(
    html('b', `Verdict of the whole run${atEnd ? '' : ' (judged at its end; the moment shown is earlier)'}: `),
    html('span', `linearizable ${v.linearizable} (${v.checkMethod}; ${v.opsOk} ok, ${v.opsFail} failed, ${v.opsUnknown} unknown)`,
      v.linearizable === 'ok' ? 'good' : 'bad'),
    html('span', ` · serializable reads ${v.serializable}`, v.serializable === 'ok' ? 'good' : 'bad'),
    html('span', ` · watches ${v.watch} (${v.watchStreams} streams, ${v.watchEvents} events)`, v.watch === 'ok' ? 'good' : 'bad'),
    html('span', ` · leases ${leases}`, v.leaseOutlived.length === 0 ? 'good' : 'bad'),
    ...v.detail.map((d) => html('div', d, 'bad')),
  );
  root.dataset['linearizable'] = v.linearizable;
  root.dataset['watch'] = v.watch;
  root.dataset['leases'] = v.leaseOutlived.length === 0 ? 'ok' : 'outlived';
}
