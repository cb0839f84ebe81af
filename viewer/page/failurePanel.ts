// A failing run's explanation on the page: the KV checker's minimal failing window
// (its ops listed, each with a button to its invoking event; "jump to window" to the
// first) and the watch validator's first violation with the stream it names. The ops
// timeline outlines the window's ops in red (panels.ts). Reads only: the buttons call
// back with an event index.

import type { Survey } from '../../sim/replay/survey.js';
import { html } from './dom.js';


function ms(us: number): string {
  return (us / 1000).toFixed(1);
}

/** A response shown in full up to this many characters (a range's kvs can be long; the title has it all). */
const RESPONSE_CHARS = 160;

function button(text: string, title: string, onClick: () => void): HTMLButtonElement {
  const b = html('button', text);
  b.type = 'button';
  b.title = title;
  b.addEventListener('click', onClick);
  return b;
}

/** Draws #failure from the survey (the same for every moment: it is the whole run's verdict). */
export function renderFailure(found: Survey | null, goto: (index: number) => void): void {
  const root = document.getElementById('failure');
  if (root === null) return;
  const v = found?.verdict ?? null;
  const window = v?.window ?? null;
  const watch = v?.watchFirst ?? null;
  root.hidden = window === null && watch === null;
  const parts: HTMLElement[] = [];
  if (window !== null) {
    const first = window.ops[0];
    const head = html('h2', `Minimal failing window: ${window.ops.length} ops that cannot be linearized together (outlined red on the ops timeline)`);
    const jump = button('jump to window', 'the event where the window\'s first op was invoked', () => { if (first !== undefined) goto(first.invokedAt); });
    jump.id = 'jump-window';
    parts.push(head, html('div', window.reason === '' ? '' : `The checker: ${window.reason}`, 'bad'), jump);
    const list = html('ol', '', 'window-ops');
    for (const op of window.ops) {
      const row = html('li', '', 'window-op');
      row.dataset['line'] = String(op.line);
      row.dataset['invoked'] = String(op.invokedAt);
      const response = op.response === '' ? `(${op.outcome}, no answer)` : op.response;
      const shown = html('code', response.length > RESPONSE_CHARS ? `${response.slice(0, RESPONSE_CHARS)}…` : response);
      shown.title = response;
      row.append(
        html('span', `history line ${op.line} · p${op.process} → member ${op.member} · `),
        html('b', op.text),
        html('span', ` · ${op.outcome} · ${ms(op.callUs)}–${op.retUs === null ? '…' : ms(op.retUs)} ms · response `),
        shown, ' ',
        button(`event ${op.invokedAt}`, 'go to the event that invoked this op', () => { goto(op.invokedAt); }),
      );
      list.append(row);
    }
    parts.push(list);
  }
  if (watch !== null) {
    const range = watch.rangeEnd === '' ? watch.key : `[${watch.key}, ${watch.rangeEnd})`;
    const start = watch.startRevision === null ? 'from now' : `from revision ${watch.startRevision}`;
    const at = watch.response < 0 ? 'the stream as a whole'
      : `response ${watch.response} (header revision ${watch.responseRevision ?? '?'}${watch.eventRevisions.length === 0 ? ', no events' : `, events at ${watch.eventRevisions.join(', ')}`})`;
    const box = html('div', '', 'watch-first');
    box.dataset['property'] = watch.property;
    box.dataset['stream'] = String(watch.stream);
    const jump = button(`jump to stream ${watch.stream} opening`, 'the first event at the time the stream was opened', () => { goto(watch.openedAt); });
    jump.id = 'jump-watch';
    box.append(
      html('h2', `The watch validator's first violation: ${watch.property}`),
      html('div', `stream ${watch.stream}: client ${watch.client} on member ${watch.member}, watching ${range} ${start}, opened at ${ms(watch.openedUs)} ms (event ${watch.openedAt}), created at revision ${watch.createdRevision}`),
      html('div', `${at}: ${watch.message}`, 'bad'),
      jump,
    );
    parts.push(box);
  }
  root.replaceChildren(...parts);
}
