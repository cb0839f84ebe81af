// The tour panel: which guided tour is open, its step's text, and whether what the text
// claims is what the frame shows (the step's own check, sim/replay/tours.ts). Reads only;
// main.ts moves the cursor.

import type { Frame } from '../../sim/replay/frame.js';
import type { RunVerdict } from '../../sim/replay/survey.js';
import type { Tour } from '../../sim/replay/tours.js';
import { TOURS } from '../../sim/replay/tours.js';
import { byId } from './dom.js';

export interface TourState {
  readonly tour: Tour;
  /** The step shown, 0-based. */
  step: number;
}


/** Fills the tour picker once. */
export function fillTourPicker(): void {
  const pick = byId('tour-pick');
  if (!(pick instanceof HTMLSelectElement)) return;
  for (const tour of TOURS) pick.append(new Option(tour.title, tour.name));
}

export function renderTour(state: TourState | null, frame: Frame, verdict: RunVerdict | null, stepAt: number | null): void {
  const panel = byId('tour');
  const pick = byId('tour-pick');
  if (pick instanceof HTMLSelectElement) pick.value = state?.tour.name ?? '';
  panel.dataset['tour'] = state?.tour.name ?? '';
  byId('tour-body').hidden = state === null;
  if (state === null) return;
  const step = state.tour.steps[state.step];
  if (step === undefined) return;
  byId('tour-step').textContent = `step ${state.step + 1} of ${state.tour.steps.length}, event ${stepAt ?? '?'}`;
  byId('tour-text').textContent = step.text;
  const check = byId('tour-check');
  if (stepAt !== frame.index) {
    check.textContent = `(the cursor has left this step's event ${stepAt ?? '?'}: press next or prev to come back)`;
    check.dataset['ok'] = '';
    return;
  }
  const problem = step.check(frame, verdict);
  check.textContent = problem === null ? '✓ the page shows what the text says' : `⚠ not as described: ${problem}`;
  check.dataset['ok'] = problem === null ? 'yes' : 'no';
  panel.dataset['step'] = String(state.step);
}
