// Draws a frame (sim/replay/frame.ts) with plain DOM and SVG: the status line, the
// cluster picture (members on a circle, messages in flight on the links between them,
// cut links dashed red), one card per member (role, term, vote, log coloured by term
// with commit and apply marks, KV state), the violations, and the timeline's marks.
// Rendering reads the frame only; every action goes back through main.ts.

import type { Frame, MemberFrame, MessageFrame } from '../../sim/replay/frame.js';
import type { MarkKind, Survey } from '../../sim/replay/survey.js';
import { byId, html, svg } from './dom.js';

const RING_RADIUS = 170;
const MEMBER_RADIUS = 34;
/** Messages arriving later than this are drawn near their sender. */
const FLIGHT_HORIZON_US = 50_000;
/** Labels drawn per link direction (the rest are counted). */
const LABELS_PER_LINK = 2;

const ROLE_FILL: ReadonlyMap<string, string> = new Map([
  ['leader', '#2e9e58'], ['candidate', '#e39b2d'], ['preCandidate', '#f1c979'], ['follower', '#8aa4c8'], ['down', '#bbb'],
]);

const MARK_COLOUR: Readonly<Record<MarkKind, string>> = {
  election: '#2e9e58', commit: '#8aa4c8', fault: '#c77a1c', violation: '#c22',
};

/** A colour per term: the golden angle keeps neighbouring terms apart. */
export function termColour(term: number): string {
  return `hsl(${Math.round((term * 137.508) % 360)}, 55%, 42%)`;
}




function svgById(id: string): SVGSVGElement {
  const element = document.getElementById(id);
  if (!(element instanceof SVGSVGElement)) throw new Error(`the page has no <svg id=${id}>`);
  return element;
}

export function position(index: number, count: number): { readonly x: number; readonly y: number } {
  const angle = -Math.PI / 2 + (2 * Math.PI * index) / count;
  return { x: RING_RADIUS * Math.cos(angle), y: RING_RADIUS * Math.sin(angle) };
}

export function renderStatus(frame: Frame, total: number | null, note: string): void {
  byId('index').textContent = String(frame.index);
  byId('total').textContent = total === null ? '?' : String(total);
  byId('time').textContent = (frame.timeUs / 1000).toFixed(3);
  byId('hash').textContent = frame.traceHash;
  byId('stage').textContent = frame.stage;
  byId('event').textContent = frame.event === null ? 'before the first event' : `last event: ${frame.event.text}`;
  byId('note').textContent = note;
}

/** What a click on the picture asks for: a member, or the link between two. */
export interface ClusterClicks {
  /** `alternative`: shift held (pause instead of crash). */
  readonly member: (id: number, alternative: boolean) => void;
  /** `alternative`: shift held (clog instead of cut). */
  readonly link: (a: number, b: number, alternative: boolean) => void;
}

/** What the buttons on a member's card ask for: a disk fault. */
export type DiskClick = (id: number, action: 'diskfull' | 'rot') => void;

function drawLinks(group: SVGGElement, frame: Frame, at: (id: number) => { x: number; y: number }, onLink: ClusterClicks['link']): void {
  const ids = frame.members.map((m) => m.id);
  for (const a of ids) {
    for (const b of ids) {
      if (b <= a) continue;
      const p = at(a);
      const q = at(b);
      // A wide transparent stroke is the click target: a thin line is hard to hit.
      const hit = svg('line', { class: 'link', x1: p.x, y1: p.y, x2: q.x, y2: q.y, 'data-link': `${a}-${b}`, stroke: 'transparent', 'stroke-width': 14 });
      const title = svg('title', {});
      title.textContent = `link ${a}–${b}: click to cut it (or heal it when it is cut), shift-click to clog it for a second`;
      hit.append(title);
      hit.addEventListener('click', (event) => { onLink(a, b, event.shiftKey); });
      group.append(hit);
    }
  }
  for (const [from, to, untilUs] of frame.clogged) {
    const a = at(from);
    const b = at(to);
    const line = svg('line', { class: 'clog', x1: a.x, y1: a.y, x2: b.x, y2: b.y, 'data-clog': `${from}-${to}`, 'pointer-events': 'none' });
    const title = svg('title', {});
    title.textContent = `link ${from}→${to} clogged until ${(untilUs / 1000).toFixed(1)} ms`;
    line.append(title);
    group.append(line);
  }
  for (const [from, to] of frame.blocked) {
    const a = at(from);
    const b = at(to);
    group.append(svg('line', { class: 'cut', x1: a.x, y1: a.y, x2: b.x, y2: b.y, 'data-cut': `${from}-${to}`, 'pointer-events': 'none' }));
  }
}

function drawMessages(group: SVGGElement, frame: Frame, at: (id: number) => { x: number; y: number }): void {
  const byLink = new Map<string, MessageFrame[]>();
  for (const m of frame.messages) {
    const key = `${m.from}-${m.to}`;
    const list = byLink.get(key) ?? [];
    list.push(m);
    byLink.set(key, list);
  }
  for (const [key, list] of byLink) {
    const first = list[0];
    if (first === undefined) continue;
    const a = at(first.from);
    const b = at(first.to);
    // Each direction of a link on its own side: offset perpendicular to the line.
    const length = Math.hypot(b.x - a.x, b.y - a.y) || 1;
    const ox = (-(b.y - a.y) / length) * 7;
    const oy = ((b.x - a.x) / length) * 7;
    const link = svg('g', { class: 'msg', 'data-flight': key, 'pointer-events': 'none' });
    link.append(svg('line', { x1: a.x + ox, y1: a.y + oy, x2: b.x + ox, y2: b.y + oy, stroke: '#c9d2de', 'stroke-width': 1.5 }));
    list.slice(0, LABELS_PER_LINK).forEach((m, i) => {
      const soon = Math.min(1, Math.max(0, (m.arriveUs - frame.timeUs) / FLIGHT_HORIZON_US));
      const f = 0.25 + 0.6 * (1 - soon) - i * 0.12;
      const x = a.x + (b.x - a.x) * f + ox * 2;
      const y = a.y + (b.y - a.y) * f + oy * 2;
      link.append(svg('circle', { cx: x, cy: y, r: 3.5, fill: m.reject ? '#c22' : termColour(m.term) }));
      const label = svg('text', { x: x + 5, y: y - 4 });
      label.textContent = m.type.replace(/^Msg/, '') + (m.entries > 0 ? `(${m.entries})` : '');
      link.append(label);
    });
    if (list.length > LABELS_PER_LINK) {
      const more = svg('text', { x: (a.x + b.x) / 2 + ox * 3, y: (a.y + b.y) / 2 + oy * 3 });
      more.textContent = `+${list.length - LABELS_PER_LINK}`;
      link.append(more);
    }
    group.append(link);
  }
}

function drawMember(m: MemberFrame, p: { x: number; y: number }, onClick: ClusterClicks['member']): SVGGElement {
  const group = svg('g', { class: 'member', 'data-member': m.id, 'data-state': m.state, transform: `translate(${p.x} ${p.y})` });
  const fill = m.state === 'paused' ? '#d9c6f0' : ROLE_FILL.get(m.role) ?? '#ccc';
  group.append(svg('circle', { r: MEMBER_RADIUS, fill }));
  const title = svg('title', {});
  title.textContent = m.state === 'down' ? `member ${m.id} is down: click to restart it`
    : m.state === 'paused' ? `member ${m.id} is paused: click to resume it` : `member ${m.id}: click to crash it, shift-click to pause it`;
  group.append(title);
  const lines = [`${m.id}`, m.state === 'up' ? m.role : m.state, `term ${m.term}`];
  lines.forEach((text, i) => {
    const t = svg('text', { y: -10 + i * 15, 'font-weight': i === 0 ? 'bold' : 'normal' });
    t.textContent = text;
    group.append(t);
  });
  if (m.state === 'down' || m.state === 'refused') {
    group.append(svg('path', { d: 'M-24,-24L24,24M24,-24L-24,24', stroke: '#822', 'stroke-width': 3, 'pointer-events': 'none' }));
  }
  group.addEventListener('click', (event) => { onClick(m.id, event.shiftKey); });
  return group;
}

export function renderCluster(frame: Frame, clicks: ClusterClicks): void {
  const root = svgById('cluster');
  root.replaceChildren();
  const count = frame.members.length;
  const places = new Map(frame.members.map((m, i) => [m.id, position(i, count)]));
  const at = (id: number): { x: number; y: number } => places.get(id) ?? { x: 0, y: 0 };
  const links = svg('g', {});
  drawLinks(links, frame, at, clicks.link);
  drawMessages(links, frame, at);
  root.append(links);
  for (const m of frame.members) root.append(drawMember(m, at(m.id), clicks.member));
}

function logRow(m: MemberFrame): HTMLDivElement {
  const row = html('div', '', 'log');
  if (m.log.length > 0 && (m.log[0]?.index ?? 1) > 1) row.append(html('span', '…'));
  for (const e of m.log) {
    const cell = html('span', String(e.term));
    cell.style.background = termColour(e.term);
    cell.title = `index ${e.index}, term ${e.term}${e.empty ? ' (a new leader\'s empty entry)' : ''}`;
    if (e.index <= m.commit) cell.classList.add('committed');
    if (e.index <= m.applied) cell.classList.add('applied');
    row.append(cell);
  }
  return row;
}

function leaseList(m: MemberFrame): HTMLDivElement | null {
  if (m.leases === null || m.leases.length === 0) return null;
  const list = html('div', '', 'leases');
  list.textContent = m.leases.map((l) => {
    const deadline = l.leaderDeadlineMs === null ? '' : `, leader's deadline ${l.leaderDeadlineMs.toFixed(0)} ms`;
    const left = l.remainingMs >= 0 ? `${(l.remainingMs / 1000).toFixed(2)} s left` : `expired ${(-l.remainingMs / 1000).toFixed(2)} s ago`;
    return `lease ${l.id}: TTL ${l.ttlSeconds} s, ${left}${deadline}` +
      (l.keys.length === 0 ? '' : ` · keys ${l.keys.join(' ')}`);
  }).join('\n');
  return list;
}

function diskButtons(m: MemberFrame, onDisk: DiskClick): HTMLDivElement {
  const row = html('div', '', 'disk');
  const full = html('button', 'disk full 1 s');
  full.dataset['disk'] = 'diskfull';
  full.title = 'its disk refuses writes for a second (the nemesis\'s disk-full fault)';
  full.addEventListener('click', () => { onDisk(m.id, 'diskfull'); });
  const rot = html('button', 'bit rot');
  rot.dataset['disk'] = 'rot';
  rot.title = 'a bit of its durable log flips (seen when it next recovers: crash it to see)';
  rot.addEventListener('click', () => { onDisk(m.id, 'rot'); });
  row.append(full, rot);
  return row;
}

function memberCard(m: MemberFrame, onDisk: DiskClick): HTMLDivElement {
  const card = html('div', '', `card ${m.state === 'up' ? m.role : m.state}`);
  card.dataset['member'] = String(m.id);
  card.dataset['state'] = m.state;
  card.dataset['role'] = m.role;
  card.dataset['term'] = String(m.term);
  card.dataset['commit'] = String(m.commit);
  card.append(html('h3', `member ${m.id} — ${m.state === 'up' ? m.role : m.state}`));
  const vote = m.vote === 0 ? 'none' : String(m.vote);
  card.append(html('div', `term ${m.term} · vote ${vote} · leader ${m.lead === 0 ? '?' : m.lead}`, 'facts'));
  card.append(html('div', `log ${m.firstIndex}..${m.lastIndex} · commit ${m.commit} · applied ${m.applied}`, 'facts'));
  card.append(logRow(m));
  if (m.kv !== null) {
    const kv = html('div', '', 'kv');
    kv.textContent = m.kv.length === 0
      ? `revision ${m.revision}: no keys`
      : `revision ${m.revision}\n` + m.kv.map((k) => `${k.key} = ${k.value.slice(0, 28)} @${k.modRevision}${k.lease === '0' ? '' : ` lease ${k.lease}`}`).join('\n');
    kv.style.whiteSpace = 'pre';
    card.append(kv);
  } else if (m.chain !== null) {
    card.append(html('div', `applied hash chain ${m.chain}`, 'kv'));
  }
  const leases = leaseList(m);
  if (leases !== null) card.append(leases);
  card.append(diskButtons(m, onDisk));
  return card;
}

export function renderMembers(frame: Frame, onDisk: DiskClick): void {
  byId('members').replaceChildren(...frame.members.map((m) => memberCard(m, onDisk)));
  const violations = byId('violations');
  violations.replaceChildren(...frame.violations.map((v) => html('div', `violation ${v.kind} at ${v.atMs} ms on member ${v.node}: ${v.detail}`)));
}

/** Ticks under the timeline: where elections, faults and violations happen (commits are too dense to draw). */
export function renderMarks(found: Survey | null): void {
  const root = svgById('marks');
  root.replaceChildren();
  if (found === null || found.events === 0) return;
  root.setAttribute('viewBox', `0 0 ${found.events} 14`);
  const kinds: readonly MarkKind[] = ['election', 'fault', 'violation'];
  kinds.forEach((kind, row) => {
    for (const index of found.marks[kind]) {
      root.append(svg('rect', { x: index, y: row * 4 + 1, width: Math.max(1, found.events / 800), height: 3, fill: MARK_COLOUR[kind] }));
    }
  });
}
