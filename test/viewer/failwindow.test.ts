// A failing seed in chromium: the minimal failing window listed under the verdict, its
// ops outlined red on the ops timeline, "jump to window" moving the cursor to the event
// that invoked its first op; and a broken watch guarantee with its stream. Screenshots
// in build/viewer-screenshots/30-*.png.
import test from 'ava';
import { specOf } from '../../sim/replay/runSpec.js';
import { survey } from '../../sim/replay/survey.js';
import { openPage, pageFrame, ready, shot, useBrowser } from './browser.js';

useBrowser();

test.serial('a non-linearizable seed: the window is listed, outlined on the timeline, and "jump to window" goes to its first op', async (t) => {
  const spec = specOf({ seed: 10, nodes: 1, bugs: ['ackBeforeDurable'], keepGoing: true });
  const window = survey(spec, () => performance.now()).verdict?.window ?? null;
  if (window === null) return t.fail('the Node engine finds no window for this seed');
  const { page, errors } = await openPage(t, `${ready().baseUrl}#seed=10&nodes=1&bug=ackBeforeDurable&keep-going=1`);
  t.is(await page.getAttribute('#verdict', 'data-linearizable'), 'illegal');
  t.true(await page.isVisible('#failure'), 'the failure panel is shown');
  const rows = page.locator('#failure li.window-op');
  t.is(await rows.count(), window.ops.length);
  for (let i = 0; i < window.ops.length; i++) {
    const op = window.ops[i];
    if (op === undefined) continue;
    t.is(await rows.nth(i).getAttribute('data-line'), String(op.line));
    const text = await rows.nth(i).textContent() ?? '';
    t.true(text.includes(`p${op.process} → member ${op.member}`) && text.includes(op.text) && text.includes(op.response.slice(0, 60)),
      `row ${i + 1} says the client, the op and the response: ${text}`);
  }
  t.regex(await page.textContent('#failure') ?? '', /two writes claim revision/);
  const first = window.ops[0];
  if (first === undefined) return t.fail('an empty window');
  await page.click('#jump-window');
  const at = await pageFrame(page);
  t.is(at.index, first.invokedAt, 'the cursor is on the event that invoked the first op');
  t.is(await page.textContent('#index'), String(first.invokedAt));
  t.true(await page.locator('#ops rect.op.window').count() >= 1, 'the first op is drawn, outlined as the window\'s');
  const last = window.ops[window.ops.length - 1];
  if (last === undefined) return t.fail('an empty window');
  await page.click(`#failure li.window-op[data-line="${last.line}"] button`);
  t.is((await pageFrame(page)).index, last.invokedAt, 'a row\'s button goes to its op\'s event');
  // This seed's window is two puts 90 ms apart: at the second's invocation both are on the one-second timeline.
  t.true(window.ops.every((o) => o.retUs !== null && o.retUs > last.callUs - 500_000), 'the window fits the timeline');
  t.is(await page.locator('#ops rect.op.window').count(), window.ops.length, 'all the window\'s ops are outlined');
  await shot(page, '30-failing-window', true);
  t.deepEqual(errors, [], 'no errors in the page');
});

test.serial('a broken watch guarantee: the first violation with its stream, and a jump to where the stream opened', async (t) => {
  const spec = specOf({ seed: 3, nodes: 3, bugs: ['watchBackInTime'] });
  const finding = survey(spec, () => performance.now()).verdict?.watchFirst ?? null;
  if (finding === null) return t.fail('the Node engine finds no watch violation for this seed');
  const { page, errors } = await openPage(t, `${ready().baseUrl}#seed=3&nodes=3&bug=watchBackInTime`);
  t.is(await page.getAttribute('#verdict', 'data-watch'), finding.property);
  t.is(await page.getAttribute('#failure .watch-first', 'data-stream'), String(finding.stream));
  t.is(await page.locator('#failure li.window-op').count(), 0, 'a linearizable history has no window');
  const text = await page.textContent('#failure .watch-first') ?? '';
  t.true(text.includes(`stream ${finding.stream}: client ${finding.client} on member ${finding.member}`) && text.includes(finding.message), text);
  await page.click('#jump-watch');
  t.is((await pageFrame(page)).index, finding.openedAt);
  await shot(page, '31-watch-violation', true);
  t.deepEqual(errors, [], 'no errors in the page');
});
