// Each guided tour run to its end in a real browser (browser.ts): opened by its URL
// (#tour=NAME), stepped with the tour panel's "next", each step's text shown, the
// cursor on the step's event, and what the text claims visible in the page's frame
// (the step's check, sim/replay/tours.ts) — e.g. Figure 8's commit-rule violation with
// the planted bug. A screenshot of every step goes to build/viewer-screenshots/.
import test from 'ava';
import { parseHash } from '../../sim/replay/runSpec.js';
import { survey } from '../../sim/replay/survey.js';
import { stepIndex, TOURS } from '../../sim/replay/tours.js';
import { openPage, pageFrame, ready, shot, useBrowser } from './browser.js';

useBrowser();

for (const tour of TOURS) {
  test.serial(`the tour ${tour.name} runs to its end, each step's text shown and its claim visible`, async (t) => {
    const parsed = parseHash(tour.hash);
    if (!parsed.ok) return t.fail(parsed.error);
    const found = survey(parsed.spec, () => performance.now());
    const { page, errors } = await openPage(t, `${ready().baseUrl}#tour=${tour.name}`);
    for (const [i, step] of tour.steps.entries()) {
      if (i > 0) await page.click('#tour-next');
      await page.waitForFunction(`document.getElementById('tour').dataset.step === '${i}'`);
      t.is(await page.textContent('#tour-text'), step.text, `step ${i + 1}'s text`);
      const frame = await pageFrame(page);
      t.is(frame.index, stepIndex(step, found.events), `step ${i + 1} shows its event`);
      t.is(step.check(frame, found.verdict), null, `step ${i + 1}: what its text claims is in the frame`);
      t.is(await page.getAttribute('#tour-check', 'data-ok'), 'yes', `step ${i + 1}: the page says so too`);
      t.is(await page.evaluate<string>('location.hash'), `#tour=${tour.name}&step=${i + 1}`, 'the URL reopens the step');
      await shot(page, `tour-${tour.name}-${String(i + 1).padStart(2, '0')}`, true);
    }
    t.deepEqual(errors, [], 'no errors in the page');
  });
}

test.serial('a tour step\'s URL reopens that step', async (t) => {
  const tour = TOURS[0];
  if (tour === undefined) return t.fail('no tours');
  const { page } = await openPage(t, `${ready().baseUrl}#tour=${tour.name}&step=3`);
  await page.waitForFunction(`document.getElementById('tour').dataset.step === '2'`);
  t.is(await page.textContent('#tour-text'), tour.steps[2]?.text ?? 'missing');
});
