/**
 * Resize to the window against `--source virtual --resize controller`: the controller's picture area
 * becomes the desktop's size through RandR, the encoders follow, and both the controller and another
 * viewer decode video of the new size, without reconnecting.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { framesAdvance } from '../helpers/viewer-page.js';

const run = promisify(execFile);
let server: TestServer;
let browser: Browser;
let display: string;
let controller: Page;
let watcher: Page;

async function screenSize(): Promise<string> {
  const { stdout } = await run('xwininfo', ['-root'], { env: { ...process.env, DISPLAY: display } });
  return `${/Width: (\d+)/.exec(stdout)?.[1]}x${/Height: (\d+)/.exec(stdout)?.[1]}`;
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const decoded = (page: Page) => page.evaluate(() => {
  const v = document.getElementById('video') as HTMLVideoElement;
  return `${v.videoWidth}x${v.videoHeight}`;
});

async function open(viewport: { width: number; height: number }, inControl: boolean): Promise<Page> {
  const page = await browser.newPage({ viewport });
  await page.goto(server.url);
  // framesAdvance reads the errors openViewer would record.
  await page.evaluate(() => ((window as unknown as { seenErrors: string[] }).seenErrors = []));
  await page.waitForFunction((c) => window.streamgate?.client.state === 'live' && window.streamgate.client.sessionConfig?.input_enabled === c, inControl, { timeout: 30_000, polling: 100 });
  return page;
}

before(async () => {
  server = await startServer(['--source', 'virtual', '--resolution', '640x360', '--resize', 'controller', '--max-resolution', '1920x1080']);
  display = ((await (await fetch(`${server.url}/healthz`)).json()) as { display: string }).display;
  browser = await launchChromium();
  controller = await open({ width: 800, height: 500 }, true);
  watcher = await open({ width: 640, height: 360 }, false);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("the desktop takes the controller's window size, and the video follows", async () => {
  await until('desktop 800x500', async () => (await screenSize()) === '800x500');
  await until('controller decodes 800x500', async () => (await decoded(controller)) === '800x500');
  await framesAdvance(controller, 10);
});

test('resizing the page resizes the desktop again; another viewer sees the new size', async () => {
  await controller.setViewportSize({ width: 1000, height: 600 });
  await until('desktop 1000x600', async () => (await screenSize()) === '1000x600');
  await until('controller decodes 1000x600', async () => (await decoded(controller)) === '1000x600');
  await until('watcher decodes 1000x600', async () => (await decoded(watcher)) === '1000x600');
  await framesAdvance(watcher, 10);
  // The watcher's own window size changes nothing: it is not in control.
  await watcher.setViewportSize({ width: 700, height: 400 });
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(await screenSize(), '1000x600');
  assert.equal(await controller.evaluate(() => window.streamgate.client.state), 'live');
});
