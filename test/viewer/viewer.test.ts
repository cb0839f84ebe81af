// The viewer page in a real browser: Debian's chromium, headless, driven by
// playwright-core (no browser download). The page is built by the real build
// (buildPage.ts) and served by the real `npm run viewer` server; what it shows is
// compared with the Node replay engine and with the simulator's CLI for the same run
// and event index; clicks on a member and on a link fork the run. A screenshot after each step goes to build/viewer-screenshots/.
import test from 'ava';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Page } from 'playwright-core';
import type { Frame } from '../../sim/replay/frame.js';
import { parseHash, specOf } from '../../sim/replay/runSpec.js';
import { cliHashes, cliTraceText } from '../sim/cliTrace.js';
import { engineFrame, openPage, OUT, pageFrame, ready, shot, useBrowser, waitForRun } from './browser.js';

useBrowser();

/** What the member cards show, read from the DOM (not from the page's engine). */
async function visibleMembers(page: Page): Promise<{ id: string; state: string; role: string; term: string; commit: string }[]> {
  const cards = page.locator('#members .card');
  const found: { id: string; state: string; role: string; term: string; commit: string }[] = [];
  for (let i = 0; i < await cards.count(); i++) {
    const card = cards.nth(i);
    const attribute = async (name: string): Promise<string> => (await card.getAttribute(name)) ?? '';
    found.push({
      id: await attribute('data-member'), state: await attribute('data-state'), role: await attribute('data-role'),
      term: await attribute('data-term'), commit: await attribute('data-commit'),
    });
  }
  return found;
}

function membersOf(frame: Frame): { id: string; state: string; role: string; term: string; commit: string }[] {
  return frame.members.map((m) => ({ id: String(m.id), state: m.state, role: m.role, term: String(m.term), commit: String(m.commit) }));
}

/** The first link (lower id first) that no partition cuts in either direction. */
function openLink(frame: Frame): readonly [number, number] | null {
  const cut = (a: number, b: number): boolean => frame.blocked.some(([x, y]) => x === a && y === b);
  for (const a of frame.members) {
    for (const b of frame.members) {
      if (a.id < b.id && !cut(a.id, b.id) && !cut(b.id, a.id)) return [a.id, b.id];
    }
  }
  return null;
}

async function pressTimes(page: Page, key: string, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await page.keyboard.press(key);
}

test.serial('a seed opened in chromium steps, goes back and forks exactly as the engine and the CLI say', async (t) => {
  const spec = specOf({ seed: 17, nodes: 5 });
  const { page, errors } = await openPage(t, `${ready().baseUrl}#seed=17&nodes=5`);
  t.log(`opened a 10 s, 5-member seed in ${Math.round(await page.evaluate<number>('window.ternViewer.openMs()'))} ms (survey included)`);
  await shot(page, '01-opened');

  // Step: ten clicks on "next", then the event field to 500.
  for (let i = 0; i < 10; i++) await page.click('#next');
  t.is(await page.textContent('#index'), '10');
  await page.fill('#goto input', '500');
  await page.click('#goto button');
  await page.click('h1'); // focus off the field: the arrow keys step the run
  const at500 = await pageFrame(page);
  const cli = cliHashes(spec);
  t.is(at500.index, 500);
  t.is(await page.textContent('#hash'), cli.byIndex[500] ?? 'missing', 'the hash shown is the CLI\'s at event 500');
  t.deepEqual(at500, engineFrame(spec, 500), 'the page\'s frame is the Node engine\'s');
  t.deepEqual(await visibleMembers(page), membersOf(at500), 'the cards show that frame');
  await shot(page, '02-event-500');

  // Back 200 with the arrow key, then forward 200 again.
  await pressTimes(page, 'ArrowLeft', 200);
  t.is(await page.textContent('#index'), '300');
  t.is(await page.textContent('#hash'), cli.byIndex[300] ?? 'missing');
  t.deepEqual(await pageFrame(page), engineFrame(spec, 300));
  await shot(page, '03-back-to-300');
  await pressTimes(page, 'ArrowRight', 200);
  t.deepEqual(await pageFrame(page), at500, 'forward again: identical');
  await shot(page, '04-forward-to-500');
  // Speed is printed, never asserted (CI is a loaded box).
  const speed = await page.evaluate<{ events: number; eventsPerS: number }>('window.ternViewer.measure(3)');
  t.log(`replay in chromium: ${speed.events} events start to end, best of 3: ${speed.eventsPerS} events/s`);

  // Crash a running member by clicking it: a fork, recorded in the URL.
  const victim = at500.members.find((m) => m.state === 'up');
  if (victim === undefined) return t.fail('some member is up at event 500');
  await page.click(`#cluster g[data-member="${victim.id}"]`);
  await page.waitForFunction(`location.hash.includes('fork=500:crash:${victim.id}')`);
  const forked = await pageFrame(page);
  t.is(forked.members.find((m) => m.id === victim.id)?.state, 'down');
  t.is(await page.getAttribute(`#members .card[data-member="${victim.id}"]`, 'data-state'), 'down');
  const hash = await page.evaluate<string>('location.hash');
  const parsed = parseHash(hash);
  if (!parsed.ok) return t.fail(parsed.error);
  t.deepEqual(forked, engineFrame(parsed.spec, 500), 'the fork\'s spec replays to what the page shows');
  await shot(page, '05-forked');

  // Reloading the fork's URL comes back to the same state.
  await page.reload();
  await waitForRun(page);
  t.deepEqual(await pageFrame(page), forked);
  await shot(page, '06-fork-reloaded');

  // Further along the fork, the page and the engine still agree.
  await page.fill('#goto input', '2000');
  await page.click('#goto button');
  t.deepEqual(await pageFrame(page), engineFrame(parsed.spec, 2000));
  await shot(page, '07-fork-at-2000');

  // Cut a link the swarm has not cut (either way) by clicking it: a second action in the script.
  const link = openLink(engineFrame(parsed.spec, 2000));
  if (link === null) return t.fail('some link is open at event 2000');
  const [from, to] = link;
  await page.click(`#cluster line[data-link="${from}-${to}"]`);
  await page.waitForFunction(`location.hash.includes('fork=500:crash:${victim.id},2000:cut:${from}-${to}')`);
  const cut = await pageFrame(page);
  t.true(cut.blocked.some(([a, b]) => a === from && b === to) && cut.blocked.some(([a, b]) => a === to && b === from), 'both directions cut');
  const twice = parseHash(await page.evaluate<string>('location.hash'));
  if (!twice.ok) return t.fail(twice.error);
  t.deepEqual(cut, engineFrame(twice.spec, 2000));
  await shot(page, '08-link-cut');

  // Shift-click pauses a running member (it keeps its state, stops ticking and receiving).
  const running = cut.members.find((m) => m.state === 'up');
  if (running === undefined) return t.fail('some member is up at event 2000');
  await page.click(`#cluster g[data-member="${running.id}"]`, { modifiers: ['Shift'] });
  await page.waitForFunction(`location.hash.includes('2000:pause:${running.id}')`);
  t.is((await pageFrame(page)).members.find((m) => m.id === running.id)?.state, 'paused');

  t.deepEqual(errors, [], 'no errors in the page');
});

test.serial('the built page works opened from disk, jumps to a planted bug\'s violation, ends on the CLI\'s trace hash, and opens a trace file', async (t) => {
  // Seed 10 finds appendWithoutTruncate (logMatching) within 2 s: `sim --seeds 1..30` says so.
  const spec = specOf({ seed: 10, nodes: 3, timeMs: 2000, workload: 'none', bugs: ['appendWithoutTruncate'] });
  const url = `${pathToFileURL(path.join(OUT, 'index.html')).href}#seed=10&nodes=3&time-ms=2000&workload=none&bug=appendWithoutTruncate`;
  const { page, errors } = await openPage(t, url);
  const total = Number(await page.textContent('#total'));
  await page.click('[data-jump=violation]');
  const atViolation = await pageFrame(page);
  await shot(page, '09-file-url-violation');
  const cli = cliHashes(spec);
  t.is(total, cli.byIndex.length - 1, 'the timeline spans the CLI\'s events');
  t.is(atViolation.violations[0]?.kind, 'logMatching', 'the jump lands on the violation');
  t.is(atViolation.traceHash, cli.byIndex[atViolation.index] ?? 'missing');
  t.regex(await page.textContent('#violations') ?? '', /violation logMatching/);
  await page.fill('#goto input', String(total));
  await page.click('#goto button');
  t.is(await page.textContent('#hash'), cli.printed, 'the end of the run is the hash the CLI printed');
  await shot(page, '10-file-url-end');

  // A trace file the CLI wrote, given to the page's file field: the page replays its run.
  const traced = specOf({ seed: 5, nodes: 3, timeMs: 1500, workload: 'none' });
  await page.setInputFiles('#trace-file', { name: 'run.jsonl', mimeType: 'application/json', buffer: Buffer.from(cliTraceText(traced)) });
  await page.waitForFunction('document.getElementById("note").textContent.includes("the replay ends on the file\'s trace hash")');
  const reopened = parseHash(await page.evaluate<string>('location.hash'));
  t.true(reopened.ok && reopened.spec.seed === 5 && reopened.spec.workload === 'none', 'the URL names the trace file\'s run');
  await shot(page, '11-trace-file');
  t.deepEqual(errors, [], 'no errors in the page');
});
