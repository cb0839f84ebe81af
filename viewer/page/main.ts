// The viewer page: opens a run from the URL hash or the form, and drives the replay
// engine (sim/replay/, bundled with core/ and sim/ exactly as they are) from the
// controls: step, play at a speed, scrub the timeline, jump to the next mark, click a
// member to fork. Everything shown is a frame the engine made (render.ts).

import { AUTH_BUG_NAMES, BUG_NAMES, ETCD_BUG_NAMES } from '../../sim/args.js';
import { Execution } from '../../sim/replay/execution.js';
import type { Frame } from '../../sim/replay/frame.js';
import { Replay } from '../../sim/replay/replay.js';
import type { RunSpec } from '../../sim/replay/runSpec.js';
import { formatHash, parseHash } from '../../sim/replay/runSpec.js';
import type { MarkKind, Survey } from '../../sim/replay/survey.js';
import { specFromTrace } from '../../sim/replay/traceSpec.js';
import { MARK_KINDS, nextMark, survey } from '../../sim/replay/survey.js';
import { stepIndex, tourNamed } from '../../sim/replay/tours.js';
import { renderFailure } from './failurePanel.js';
import { renderClientOps, renderOps, renderVerdict } from './panels.js';
import type { TourState } from './tourPanel.js';
import { fillTourPicker, renderTour } from './tourPanel.js';
import { renderCluster, renderMarks, renderMembers, renderStatus } from './render.js';

/** Work one animation frame may do while playing at "max", ms. */
const PLAY_BUDGET_MS = 12;
/** Exact frames kept behind each play step (going back right after playing is then instant). */
const PLAY_KEEP_BEHIND = 32;
const SCRUB_SETTLE_MS = 120;

interface Viewer {
  replay: Replay | null;
  found: Survey | null;
  playing: boolean;
  /** Fractional events owed to the play loop at a finite speed. */
  owed: number;
  lastTickMs: number;
  note: string;
  /** The hash this page wrote last: a hashchange to it is ours, not a new run. */
  writtenHash: string;
  openMs: number;
  scrubTimer: number | null;
  /** The guided tour open, if any (its URL is #tour=NAME&step=K while it is). */
  tour: TourState | null;
}

const viewer: Viewer = {
  replay: null, found: null, playing: false, owed: 0, lastTickMs: 0, note: '', writtenHash: '', openMs: 0, scrubTimer: null, tour: null,
};

function element(id: string): HTMLElement {
  const found = document.getElementById(id);
  if (found === null) throw new Error(`the page has no #${id}`);
  return found;
}

/** The element with this id, checked to be of the expected kind. */
function typed<T extends HTMLElement>(id: string, kind: new () => T): T {
  const found = element(id);
  if (!(found instanceof kind)) throw new Error(`#${id} is not a ${kind.name}`);
  return found;
}

function render(frame?: Frame): void {
  const replay = viewer.replay;
  if (replay === null) return;
  const shown = frame ?? replay.frame();
  renderStatus(shown, viewer.found?.events ?? null, viewer.note);
  renderCluster(shown, { member: onMemberClick, link: onLinkClick });
  renderMembers(shown, onDiskClick);
  renderOps(shown, viewer.found);
  renderClientOps(shown);
  renderVerdict(shown, viewer.found);
  renderTour(viewer.tour, shown, viewer.found?.verdict ?? null, tourStepIndex());
  const slider = typed('slider', HTMLInputElement);
  slider.value = String(shown.index);
  typed('play', HTMLButtonElement).textContent = viewer.playing ? '❚❚ pause' : '▶ play';
  if (!viewer.playing) writeHash(replay.spec, replay.position, false);
}

/** The event index of the tour step shown, or null outside a tour. */
function tourStepIndex(): number | null {
  const state = viewer.tour;
  const step = state?.tour.steps[state.step];
  if (step === undefined || viewer.found === null) return null;
  return stepIndex(step, viewer.found.events);
}

/** Keeps the URL on the run and the moment shown (a reload comes back here); in a tour, on the tour's step. */
function writeHash(spec: RunSpec, at: number, push: boolean): void {
  const hash = viewer.tour === null ? formatHash(spec, at) : `#tour=${viewer.tour.tour.name}&step=${viewer.tour.step + 1}`;
  if (hash === location.hash) return;
  viewer.writtenHash = hash;
  try {
    if (push) history.pushState(null, '', hash); else history.replaceState(null, '', hash);
  } catch {
    // Some file:// setups refuse history changes: setting the hash still works.
    location.hash = hash;
  }
}

function open(spec: RunSpec, at: number | null): void {
  pause();
  const started = performance.now();
  viewer.replay = new Replay(spec);
  viewer.found = survey(spec, () => performance.now());
  viewer.openMs = performance.now() - started;
  const slider = typed('slider', HTMLInputElement);
  slider.max = String(viewer.found.events);
  renderMarks(viewer.found);
  renderFailure(viewer.found, gotoEvent);
  viewer.note = `opened in ${Math.round(viewer.openMs)} ms`;
  fillForm(spec);
  fillClientMembers(spec);
  viewer.replay.seek(at ?? 0);
  render();
}

/** Opens a guided tour at its step `step` (0-based): the tour's run, the cursor on the step's event. */
function openTour(name: string, step: number): void {
  const tour = tourNamed(name);
  if (tour === null) {
    element('note').textContent = `no tour named '${name}'`;
    return;
  }
  const parsed = parseHash(tour.hash);
  if (!parsed.ok) {
    element('note').textContent = `tour ${name}: ${parsed.error}`;
    return;
  }
  viewer.tour = { tour, step: Math.max(0, Math.min(tour.steps.length - 1, step)) };
  open(parsed.spec, null);
  gotoTourStep(viewer.tour.step);
}

function gotoTourStep(step: number): void {
  const state = viewer.tour;
  const replay = viewer.replay;
  if (state === null || replay === null) return;
  pause();
  state.step = Math.max(0, Math.min(state.tour.steps.length - 1, step));
  const at = tourStepIndex();
  if (at !== null) replay.seek(at);
  viewer.note = '';
  render();
}

function openFromHash(): void {
  const tourMatch = /^#tour=([a-z0-9-]+)(?:&step=([0-9]{1,3}))?$/.exec(location.hash);
  if (tourMatch?.[1] !== undefined) {
    openTour(tourMatch[1], Number(tourMatch[2] ?? '1') - 1);
    return;
  }
  viewer.tour = null;
  if (location.hash === '' || location.hash === '#') {
    viewer.note = 'type a seed and open, or put one in the URL: #seed=17&nodes=5';
    element('note').textContent = viewer.note;
    return;
  }
  const parsed = parseHash(location.hash);
  if (!parsed.ok) {
    element('note').textContent = `cannot open ${location.hash}: ${parsed.error}`;
    return;
  }
  open(parsed.spec, parsed.at);
}

/** Click: crash a running member, restart a crashed one, resume a paused one; shift-click: pause a running one. */
function onMemberClick(id: number, alternative: boolean): void {
  const replay = viewer.replay;
  if (replay === null) return;
  pause();
  const member = replay.frame().members.find((m) => m.id === id);
  if (member === undefined) return;
  if (member.state === 'refused') {
    viewer.note = `member ${id}'s disk is corrupt: it cannot restart`;
    render();
    return;
  }
  const running = alternative ? 'pause' : 'crash';
  const action = member.state === 'down' ? 'restart' : member.state === 'paused' ? 'resume' : running;
  forkWith(replay, replay.fork(action, id), `${action} member ${id}`);
}

/** Click: cut a link (heal it when cut); shift-click: clog it both ways for CLOG_MS. */
function onLinkClick(a: number, b: number, alternative: boolean): void {
  const replay = viewer.replay;
  if (replay === null) return;
  pause();
  const cut = replay.frame().blocked.some(([from, to]) => (from === a && to === b) || (from === b && to === a));
  const action = alternative ? 'clog' : cut ? 'heal' : 'cut';
  forkWith(replay, replay.fork(action, a, b), `${action} the link ${a}–${b}`);
}

function onDiskClick(id: number, action: 'diskfull' | 'rot'): void {
  const replay = viewer.replay;
  if (replay === null) return;
  pause();
  forkWith(replay, replay.fork(action, id), `${action === 'rot' ? 'bit rot on' : 'disk full on'} member ${id}`);
}

/** The client panel's put or read: a request from a client of its own to the chosen member, as a fork action. */
function onClientSend(kind: 'put' | 'read'): void {
  const replay = viewer.replay;
  if (replay === null) return;
  pause();
  const form = typed('client', HTMLFormElement);
  const value = (name: string): string => {
    const field = form.elements.namedItem(name);
    return field instanceof HTMLInputElement || field instanceof HTMLSelectElement ? field.value.trim() : '';
  };
  const spec = replay.spec;
  if (spec.workload !== 'kv' || spec.auth) {
    viewer.note = 'puts and reads need the KV clients (workload kv, no auth)';
    render();
    return;
  }
  const member = Number(value('member'));
  const key = value('key');
  const rangeEnd = value('range-end');
  const arg = kind === 'put' ? `${key}=${value('value')}` : rangeEnd === '' ? key : `${key}..${rangeEnd}`;
  const action = { eventIndex: replay.position, action: kind, node: member, peer: 0, arg };
  // The hash parser is the one judge of a valid action: the same words a URL would carry.
  const parsed = parseHash(formatHash({ ...spec, script: [...spec.script.filter((a) => a.eventIndex <= action.eventIndex), action] }));
  if (!parsed.ok) {
    viewer.note = parsed.error;
    render();
    return;
  }
  forkWith(replay, replay.fork(kind, member, 0, arg), `${kind} ${arg} to member ${member}`);
}

/** After a fork: survey the new run for its timeline, and put its spec in the URL. */
function forkWith(replay: Replay, spec: RunSpec | null, what: string): void {
  if (spec === null) {
    viewer.note = 'the run is over: step back to fork it';
    render();
    return;
  }
  viewer.tour = null; // a fork leaves the tour: its URL is the fork's now
  viewer.found = survey(spec, () => performance.now());
  typed('slider', HTMLInputElement).max = String(viewer.found.events);
  renderMarks(viewer.found);
  renderFailure(viewer.found, gotoEvent);
  viewer.note = `forked: ${what} at event ${replay.position}`;
  writeHash(spec, replay.position, true);
  render();
}

function step(delta: number): void {
  const replay = viewer.replay;
  if (replay === null) return;
  pause();
  if (delta > 0) replay.next(); else replay.previous();
  viewer.note = '';
  render();
}

function pause(): void {
  viewer.playing = false;
}

function togglePlay(): void {
  if (viewer.replay === null) return;
  viewer.playing = !viewer.playing;
  viewer.owed = 0;
  viewer.lastTickMs = performance.now();
  render();
  if (viewer.playing) requestAnimationFrame(playTick);
}

function playTick(nowMs: number): void {
  const replay = viewer.replay;
  if (!viewer.playing || replay === null) return;
  const speed = typed('speed', HTMLSelectElement).value;
  if (speed === 'max') {
    const until = performance.now() + PLAY_BUDGET_MS;
    while (performance.now() < until && !replay.atEnd) replay.seek(replay.position + 200, PLAY_KEEP_BEHIND);
  } else {
    viewer.owed += (Number(speed) * Math.max(0, nowMs - viewer.lastTickMs)) / 1000;
    const whole = Math.floor(viewer.owed);
    viewer.owed -= whole;
    if (whole > 0) replay.seek(replay.position + whole, PLAY_KEEP_BEHIND);
  }
  viewer.lastTickMs = nowMs;
  if (replay.atEnd) viewer.playing = false;
  render();
  if (viewer.playing) requestAnimationFrame(playTick);
}

function jump(kind: MarkKind): void {
  const replay = viewer.replay;
  const found = viewer.found;
  if (replay === null || found === null) return;
  pause();
  const target = nextMark(found, kind, replay.position);
  if (target === null) {
    viewer.note = `no ${kind} after event ${replay.position}`;
  } else {
    replay.seek(target);
    viewer.note = `${kind} at event ${target}`;
  }
  render();
}

/** The cursor to `index` (the failing window's and the watch finding's buttons). */
function gotoEvent(index: number): void {
  const replay = viewer.replay;
  if (replay === null) return;
  pause();
  replay.seek(index);
  viewer.note = `event ${index}`;
  render();
}

/** While the timeline is dragged, the checkpoint before it shows at once; the exact frame follows when it settles. */
function scrub(index: number): void {
  const replay = viewer.replay;
  if (replay === null) return;
  pause();
  render(replay.checkpointBefore(index).frame);
  typed('slider', HTMLInputElement).value = String(index);
  if (viewer.scrubTimer !== null) clearTimeout(viewer.scrubTimer);
  viewer.scrubTimer = window.setTimeout(() => {
    viewer.scrubTimer = null;
    replay.seek(index);
    render();
  }, SCRUB_SETTLE_MS);
}

function fillForm(spec: RunSpec): void {
  const form = typed('open', HTMLFormElement);
  const set = (name: string, value: string): void => {
    const field = form.elements.namedItem(name);
    if (field instanceof HTMLInputElement || field instanceof HTMLSelectElement) field.value = value;
  };
  set('seed', String(spec.seed));
  set('nodes', String(spec.nodes));
  set('time-ms', String(spec.timeMs));
  set('faults', spec.faults);
  set('workload', spec.workload);
  set('bug', spec.bugs[0] ?? '');
}

function fillClientMembers(spec: RunSpec): void {
  const select = typed('client', HTMLFormElement).querySelector('select[name=member]');
  if (!(select instanceof HTMLSelectElement)) return;
  const chosen = select.value;
  select.replaceChildren();
  for (let id = 1; id <= spec.nodes; id++) select.append(new Option(`member ${id}`, String(id)));
  if (Number(chosen) >= 1 && Number(chosen) <= spec.nodes) select.value = chosen;
  typed('client-panel', HTMLElement).hidden = spec.workload !== 'kv' || spec.auth;
}

function specFromForm(): string {
  const data = new FormData(typed('open', HTMLFormElement));
  const field = (name: string): string => {
    const value = data.get(name);
    return typeof value === 'string' ? value.trim() : '';
  };
  const parts = [`seed=${field('seed')}`, `nodes=${field('nodes')}`, `time-ms=${field('time-ms')}`,
    `faults=${field('faults')}`, `workload=${field('workload')}`];
  if (field('bug') !== '') parts.push(`bug=${field('bug')}`);
  return '#' + parts.join('&');
}

/** A trace file names its run in its last line: the page replays that run and checks it against the file's hash. */
async function openTraceFile(file: File): Promise<void> {
  const parsed = specFromTrace(await file.text());
  if (!parsed.ok) {
    element('note').textContent = `cannot open ${file.name}: ${parsed.error}`;
    return;
  }
  viewer.tour = null;
  writeHash(parsed.spec, 0, true);
  open(parsed.spec, null);
  const replayed = viewer.found?.traceHash ?? '';
  viewer.note = replayed === parsed.facts.traceHash
    ? `${file.name}: the replay ends on the file's trace hash ${replayed} (${parsed.facts.events} events)`
    : `${file.name}: the replay ends on ${replayed}, the file says ${parsed.facts.traceHash} (was it run with another --liveness-ms, or another version of Tern?)`;
  render();
}

function wireTraceFiles(): void {
  const input = typed('trace-file', HTMLInputElement);
  input.addEventListener('change', () => {
    const file = input.files?.[0];
    if (file !== undefined) void openTraceFile(file);
  });
  document.body.addEventListener('dragover', (event) => {
    event.preventDefault();
    document.body.classList.add('dropping');
  });
  document.body.addEventListener('dragleave', () => { document.body.classList.remove('dropping'); });
  document.body.addEventListener('drop', (event) => {
    event.preventDefault();
    document.body.classList.remove('dropping');
    const file = event.dataTransfer?.files[0];
    if (file !== undefined) void openTraceFile(file);
  });
}

function wire(): void {
  wireTraceFiles();
  const bugs = typed('open', HTMLFormElement).querySelector('select[name=bug]');
  for (const name of [...BUG_NAMES, ...ETCD_BUG_NAMES, ...AUTH_BUG_NAMES]) bugs?.append(new Option(name, name));
  element('open').addEventListener('submit', (event) => {
    event.preventDefault();
    viewer.tour = null;
    location.hash = specFromForm();
  });
  element('goto').addEventListener('submit', (event) => {
    event.preventDefault();
    const input = typed('goto', HTMLFormElement).elements.namedItem('index');
    if (!(input instanceof HTMLInputElement) || viewer.replay === null) return;
    pause();
    viewer.replay.seek(Math.max(0, Math.floor(Number(input.value) || 0)));
    viewer.note = '';
    render();
  });
  element('client').addEventListener('submit', (event) => { event.preventDefault(); onClientSend('put'); });
  element('send-put').addEventListener('click', (event) => { event.preventDefault(); onClientSend('put'); });
  element('send-read').addEventListener('click', (event) => { event.preventDefault(); onClientSend('read'); });
  fillTourPicker();
  const pick = typed('tour-pick', HTMLSelectElement);
  pick.addEventListener('change', () => {
    if (pick.value === '') return;
    location.hash = `#tour=${pick.value}&step=1`;
  });
  element('tour-next').addEventListener('click', () => { gotoTourStep((viewer.tour?.step ?? 0) + 1); });
  element('tour-prev').addEventListener('click', () => { gotoTourStep((viewer.tour?.step ?? 0) - 1); });
  element('prev').addEventListener('click', () => { step(-1); });
  element('next').addEventListener('click', () => { step(1); });
  element('play').addEventListener('click', togglePlay);
  for (const kind of MARK_KINDS) {
    document.querySelector(`[data-jump=${kind}]`)?.addEventListener('click', () => { jump(kind); });
  }
  typed('slider', HTMLInputElement).addEventListener('input', (event) => {
    scrub(Number((event.target as HTMLInputElement).value));
  });
  document.addEventListener('keydown', (event) => {
    if (event.target instanceof HTMLInputElement || event.target instanceof HTMLSelectElement) return;
    if (event.key === 'ArrowLeft') step(-1);
    else if (event.key === 'ArrowRight') step(1);
    else if (event.key === ' ') togglePlay();
    else return;
    event.preventDefault();
  });
  window.addEventListener('hashchange', () => {
    if (location.hash !== viewer.writtenHash) openFromHash();
  });
}

/** What the browser test reads (and a curious person can call from the console). */
interface ViewerApi {
  frame(): Frame | null;
  survey(): { readonly events: number; readonly traceHash: string } | null;
  openMs(): number;
  /** Replays the open spec start to end in a fresh execution, `rounds` times; the best rate. */
  measure(rounds: number): { readonly events: number; readonly eventsPerS: number };
}

const api: ViewerApi = {
  frame: () => viewer.replay?.frame() ?? null,
  survey: () => (viewer.found === null ? null : { events: viewer.found.events, traceHash: viewer.found.traceHash }),
  openMs: () => viewer.openMs,
  measure: (rounds) => {
    const spec = viewer.replay?.spec;
    if (spec === undefined) return { events: 0, eventsPerS: 0 };
    let best = 0;
    let events = 0;
    for (let i = 0; i < rounds; i++) {
      const started = performance.now();
      const execution = new Execution(spec);
      execution.advanceTo(Number.MAX_SAFE_INTEGER);
      events = execution.index;
      best = Math.max(best, events / Math.max(0.001, (performance.now() - started) / 1000));
    }
    return { events, eventsPerS: Math.round(best) };
  },
};

(window as unknown as { ternViewer: ViewerApi }).ternViewer = api;
wire();
openFromHash();
