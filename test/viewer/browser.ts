// The viewer tests' browser: Debian's chromium, headless, driven by playwright-core
// (no browser download), opening the page the real build makes (buildPage.ts) as the
// real `npm run viewer` server serves it. One server and one browser per test file;
// both are stopped by test.after.always, also when a test fails.
import test from 'ava';
import type { ExecutionContext } from 'ava';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import type { Frame } from '../../sim/replay/frame.js';
import { Replay } from '../../sim/replay/replay.js';
import type { RunSpec } from '../../sim/replay/runSpec.js';
import { buildViewer } from '../../viewer/bin/buildPage.js';

export const CHROMIUM = '/usr/bin/chromium';
// Without the background-networking flags chromium dials out, and this closed network refuses it.
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const ROOT = process.cwd();
export const OUT = path.join(ROOT, 'build/viewer');
export const SHOTS = path.join(ROOT, 'build/viewer-screenshots');
const SERVE = path.join(ROOT, 'build/viewer/bin/serve.js');

export interface Harness {
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

/** Registers the file's before/after hooks: build the page, start the server and chromium; stop both after. */
export function useBrowser(): void {
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
}

export function ready(): Harness {
  if (harness === null) throw new Error('the browser did not start');
  return harness;
}

/** Opens `url` in a new tab; `errors` collects the page's uncaught errors (a test ends by asserting there were none). */
/** How long a page may take to answer a wait (playwright's default is 30 s). */
const PAGE_WAIT_MS = 120_000;

export async function openPage(t: ExecutionContext, url: string): Promise<{ readonly page: Page; readonly errors: string[] }> {
  const page = await ready().browser.newPage({ viewport: { width: 1300, height: 900 } });
  // A bound on every wait of the page, not a speed claim: on a loaded 2-core CI box a
  // reload that replays and surveys a 22,000-event run took more than playwright's 30 s.
  page.setDefaultTimeout(PAGE_WAIT_MS);
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

export async function waitForRun(page: Page): Promise<void> {
  await page.waitForFunction('window.ternViewer !== undefined && window.ternViewer.frame() !== null', undefined, { timeout: PAGE_WAIT_MS });
}

export async function pageFrame(page: Page): Promise<Frame> {
  return page.evaluate<Frame>('window.ternViewer.frame()');
}

export async function shot(page: Page, name: string, fullPage = false): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, `${name}.png`), fullPage });
}

/** The Node engine's frame for the same spec and index. */
export function engineFrame(spec: RunSpec, index: number): Frame {
  const replay = new Replay(spec);
  replay.seek(index);
  return replay.frame();
}

/** Moves the page's cursor to event `index` with the event field, then takes the focus off it. */
export async function gotoEvent(page: Page, index: number): Promise<void> {
  await page.fill('#goto input', String(index));
  await page.click('#goto button');
  await page.click('h1');
}
