// The viewer page in a real browser: Debian's chromium, headless, driven by
// playwright-core (no browser download). The page is built by the real build
// (buildPage.ts) and served by the real `npm run viewer` server; what it shows is
// compared with the Node replay engine and with the simulator's CLI for the same run
// and event index; clicks on a member and on a link fork the run. A screenshot after each step goes to build/viewer-screenshots/.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import type { Frame } from '../../sim/replay/frame.js';
import { Replay } from '../../sim/replay/replay.js';
import type { RunSpec } from '../../sim/replay/runSpec.js';
import { parseHash, specOf } from '../../sim/replay/runSpec.js';
import { buildViewer } from '../../viewer/bin/buildPage.js';
import { cliHashes, cliTraceText } from '../sim/cliTrace.js';

const CHROMIUM = '/usr/bin/chromium';
// Without the background-networking flags chromium dials out, and this closed network refuses it.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ROOT = process.cwd();
const OUT = path.join(ROOT, 'build/viewer');
const SHOTS = path.join(ROOT, 'build/viewer-screenshots');
const SERVE = path.join(ROOT, 'build/viewer/bin/serve.js');

interface Harness {
  browser: Browser;
  server: ChildProcess;
  baseUrl: string;
}

let harness: Harness | null = null;

/** Starts `npm run viewer`'s server on a free port and waits for the URL it prints. */
async function startServer(): Promise<{ server: ChildProcess; baseUrl: string }> {
  const server = spawn(process.execPath, [SERVE, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  const baseUrl = await new Promise<string>((resolve, reject) => {
    let out = '';
    server.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /serving (http:\/\/127\.0\.0\.1:[0-9]+\/)/.exec(out);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    server.once('exit', (code) => { reject(new Error(`the viewer server exited (${String(code)}) before serving: ${out}`)); });
  });
  return { server, baseUrl };
}

test.before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`chromium is missing at ${CHROMIUM}: the viewer test drives Debian's chromium ` +
      '(apt-get install chromium; CI: .ci/run must install it)');
  }
  mkdirSync(SHOTS, { recursive: true });
  await buildViewer(ROOT, OUT);
  const { server, baseUrl } = await startServer();
  try {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    harness = { browser, server, baseUrl };
  } catch (error: unknown) {
    server.kill();
    throw error;
  }
});

test.after.always(async () => {
  if (harness === null) return;
  await harness.browser.close();
  harness.server.kill();
});

function ready(): Harness {
  if (harness === null) throw new Error('the browser did not start');
  return harness;
}

/** Opens `url` in a new tab; `errors` collects the page's uncaught errors (a test ends by asserting there were none). */
async function openPage(t: ExecutionContext, url: string): Promise<{ readonly page: Page; readonly errors: string[] }> {
  const page = await ready().browser.newPage({ viewport: { width: 1300, height: 900 } });
  t.teardown(async () => { await page.close(); });
  const errors: string[] = [];
  page.on('pageerror', (error) => { errors.push(error.message); });
  await page.goto(url);
  try {
    await waitForRun(page);
  } catch (error: unknown) {
    throw new Error(`the page did not open a run (${errors.length > 0 ? `page errors: ${errors.join('; ')}` : 'no page error'})`, { cause: error });
  }
  return { page, errors };
}

async function waitForRun(page: Page): Promise<void> {
  await page.waitForFunction('window.ternViewer !== undefined && window.ternViewer.frame() !== null', undefined, { timeout: 30_000 });
}

async function pageFrame(page: Page): Promise<Frame> {
  return page.evaluate<Frame>('window.ternViewer.frame()');
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
}

/** The Node engine's frame for the same spec and index. */
function engineFrame(spec: RunSpec, index: number): Frame {
  const replay = new Replay(spec);
  replay.seek(index);
  return replay.frame();
}

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

  // Cut the link between members 1 and 2 by clicking it: a second action in the script.
  await page.click('#cluster line[data-link="1-2"]');
  await page.waitForFunction(`location.hash.includes('fork=500:crash:${victim.id},2000:cut:1-2')`);
  const cut = await pageFrame(page);
  t.true(cut.blocked.some(([a, b]) => a === 1 && b === 2) && cut.blocked.some(([a, b]) => a === 2 && b === 1), 'both directions cut');
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
  // Seed 11 finds appendWithoutTruncate (stateMachineSafety) within 2 s: `sim --seeds 1..30` says so.
  const spec = specOf({ seed: 11, nodes: 3, timeMs: 2000, workload: 'none', bugs: ['appendWithoutTruncate'] });
  const url = `${pathToFileURL(path.join(OUT, 'index.html')).href}#seed=11&nodes=3&time-ms=2000&workload=none&bug=appendWithoutTruncate`;
  const { page, errors } = await openPage(t, url);
  const total = Number(await page.textContent('#total'));
  await page.click('[data-jump=violation]');
  const atViolation = await pageFrame(page);
  await shot(page, '09-file-url-violation');
  const cli = cliHashes(spec);
  t.is(total, cli.byIndex.length - 1, 'the timeline spans the CLI\'s events');
  t.is(atViolation.violations[0]?.kind, 'stateMachineSafety', 'the jump lands on the violation');
  t.is(atViolation.traceHash, cli.byIndex[atViolation.index] ?? 'missing');
  t.regex(await page.textContent('#violations') ?? '', /violation stateMachineSafety/);
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
