// Actions from the page in a real browser (browser.ts): a put and a read sent from the
// client panel, a clogged link and a full disk. Each is a fork action in the URL; the
// page's frame equals the Node engine's for the fork's spec, a reload of the fork's URL
// comes back identical, and the answers the page shows are the history's.
import test from 'ava';
import type { Page } from 'playwright-core';
import { parseHash } from '../../sim/replay/runSpec.js';
import type { RunSpec } from '../../sim/replay/runSpec.js';
import { engineFrame, gotoEvent, openPage, pageFrame, ready, shot, useBrowser, waitForRun } from './browser.js';

useBrowser();

async function specOfPage(page: Page): Promise<RunSpec> {
  const parsed = parseHash(await page.evaluate<string>('location.hash'));
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.spec;
}

test.serial('a put and a read sent by click fork the run, show their answers, and the fork\'s URL reloads identical', async (t) => {
  // A calm three-member KV run: the put commits, and the read on another member sees it.
  const { page, errors } = await openPage(t, `${ready().baseUrl}#seed=3&nodes=3&faults=none&time-ms=3000`);
  await gotoEvent(page, 500);
  await page.selectOption('#client select[name=member]', '1');
  await page.fill('#client input[name=key]', 'viewer/x');
  await page.fill('#client input[name=value]', 'hello');
  await page.click('#send-put');
  await page.waitForFunction('location.hash.includes("fork=500:put:1:viewer/x=hello")');
  t.is((await pageFrame(page)).clientOps[0]?.outcome, 'pending', 'sent, not yet answered');
  await gotoEvent(page, 1500);
  t.regex(await page.textContent('#client-ops') ?? '', /put viewer\/x=hello → member 1: ok at [0-9.]+ ms: \{"revision":[0-9]+/);

  await page.selectOption('#client select[name=member]', '2');
  await page.click('#send-read');
  await page.waitForFunction('location.hash.includes("fork=500:put:1:viewer/x=hello,1500:read:2:viewer/x")');
  await gotoEvent(page, 2500);
  const frame = await pageFrame(page);
  const read = frame.clientOps[1];
  t.is(read?.outcome, 'ok');
  t.regex(read?.response ?? '', /"key":"viewer\/x","value":"hello"/, 'the read on member 2 sees the put');
  t.is(await page.getAttribute('#client-ops .client-op:nth-child(2)', 'data-outcome'), 'ok');
  t.true(await page.locator('#ops rect.op.manual').count() >= 1, 'the page\'s ops are on the timeline, outlined');
  const spec = await specOfPage(page);
  t.deepEqual(frame, engineFrame(spec, 2500), 'the page\'s frame is the Node engine\'s for the fork\'s spec');
  await shot(page, '20-client-put-read');

  await page.reload();
  await waitForRun(page);
  t.deepEqual(await pageFrame(page), frame, 'the fork\'s URL reopens the same state');
  await gotoEvent(page, Number(await page.textContent('#total')));
  t.is(await page.getAttribute('#verdict', 'data-linearizable'), 'ok', 'the history with the page\'s ops is linearizable');
  t.is(await page.getAttribute('#verdict', 'data-watch'), 'ok');
  await shot(page, '21-client-verdict', true);
  t.deepEqual(errors, [], 'no errors in the page');
});

test.serial('a clogged link and a full disk, clicked, are fork actions that replay exactly', async (t) => {
  const { page, errors } = await openPage(t, `${ready().baseUrl}#seed=3&nodes=3&faults=none&time-ms=3000`);
  await gotoEvent(page, 400);
  await page.click('#cluster line[data-link="1-2"]', { modifiers: ['Shift'] });
  await page.waitForFunction('location.hash.includes("fork=400:clog:1-2")');
  const clogged = await pageFrame(page);
  t.true(clogged.clogged.some(([a, b]) => a === 1 && b === 2) && clogged.clogged.some(([a, b]) => a === 2 && b === 1), 'both directions clogged');
  t.true(await page.locator('#cluster line.clog').count() >= 2, 'drawn');
  await page.click('#members .card[data-member="3"] button[data-disk=diskfull]');
  await page.waitForFunction('location.hash.includes("fork=400:clog:1-2,400:diskfull:3")');
  await gotoEvent(page, 900);
  const spec = await specOfPage(page);
  t.deepEqual(await pageFrame(page), engineFrame(spec, 900));
  await shot(page, '22-clog-diskfull');
  await page.reload();
  await waitForRun(page);
  t.deepEqual(await pageFrame(page), engineFrame(spec, 900), 'reloaded: the same');
  t.deepEqual(errors, [], 'no errors in the page');
});
