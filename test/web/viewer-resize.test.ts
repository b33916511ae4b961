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
import { framesAdvance, gotoViewer } from '../helpers/viewer-page.js';

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

/**
 * Samples the page's decoded-frame count every 100 ms from now on; the returned function stops sampling and
 * gives the longest time (ms) the count stood still. A renegotiated peer connection counts from zero again:
 * a drop counts as progress.
 */
async function sampleDecoding(page: Page): Promise<() => Promise<{ longestStallMs: number; samples: number }>> {
  await page.evaluate(() => {
    const w = window as unknown as { decodeSamples: { at: number; frames: number }[]; decodeTimer: number };
    w.decodeSamples = [];
    w.decodeTimer = window.setInterval(() => {
      void window.streamgate.client.peerConnection?.getStats().then((report) => {
        let frames = 0;
        report.forEach((r: Record<string, unknown>) => {
          if (r.type === 'inbound-rtp' && r.kind === 'video') frames = (r.framesDecoded as number) ?? 0;
        });
        w.decodeSamples.push({ at: performance.now(), frames });
      });
    }, 100);
  });
  return () =>
    page.evaluate(() => {
      const w = window as unknown as { decodeSamples: { at: number; frames: number }[]; decodeTimer: number };
      clearInterval(w.decodeTimer);
      let longestStallMs = 0;
      let since = w.decodeSamples[0]?.at ?? 0;
      for (let i = 1; i < w.decodeSamples.length; i++) {
        const [prev, cur] = [w.decodeSamples[i - 1], w.decodeSamples[i]] as [{ at: number; frames: number }, { at: number; frames: number }];
        if (cur.frames !== prev.frames) since = cur.at;
        longestStallMs = Math.max(longestStallMs, cur.at - since);
      }
      return { longestStallMs: Math.round(longestStallMs), samples: w.decodeSamples.length };
    });
}

const decoded = (page: Page) => page.evaluate(() => {
  const v = document.getElementById('video') as HTMLVideoElement;
  return `${v.videoWidth}x${v.videoHeight}`;
});

async function open(viewport: { width: number; height: number }, inControl: boolean): Promise<Page> {
  const page = await browser.newPage({ viewport });
  await gotoViewer(page, server.url);
  await page.evaluate(() => {
    const w = window as unknown as { seenErrors: string[] };
    w.seenErrors = [];
    window.streamgate.client.on('error', (e: { code: string }) => w.seenErrors.push(e.code));
  });
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

test('a resize is seamless: no viewer stalls or hears of the media going away', async () => {
  // Only what this resize brings counts (the watcher's own window resize above may have been refused).
  for (const page of [controller, watcher]) await page.evaluate(() => ((window as unknown as { seenErrors: string[] }).seenErrors.length = 0));
  const stops = await Promise.all([controller, watcher].map((page) => sampleDecoding(page)));
  await new Promise((r) => setTimeout(r, 500));
  await controller.setViewportSize({ width: 900, height: 540 });
  await until('desktop 900x540', async () => (await screenSize()) === '900x540');
  await until('controller decodes 900x540', async () => (await decoded(controller)) === '900x540');
  await until('watcher decodes 900x540', async () => (await decoded(watcher)) === '900x540');
  await new Promise((r) => setTimeout(r, 1000));
  const [ctl, watch] = await Promise.all(stops.map((stop) => stop()));
  console.log(`# longest decode stall across a resize: controller ${ctl?.longestStallMs} ms, watcher ${watch?.longestStallMs} ms`);
  for (const [name, page, figures] of [['controller', controller, ctl], ['watcher', watcher, watch]] as const) {
    assert.ok(figures && figures.samples > 10, `${name}: too few samples`);
    // Generous, for a loaded machine (a handover runs two encoders for a moment): the restart this replaced
    // stalled ~1 s at load 8 and 1.3–1.9 s at load 28–36 on 2 cores; a handover 0–0.6 s, 1.2 s at load 39.
    assert.ok(figures.longestStallMs < 1500, `${name} stalled ${figures.longestStallMs} ms`);
    assert.deepEqual(await page.evaluate(() => (window as unknown as { seenErrors: string[] }).seenErrors), [], `${name} heard errors`);
  }
});
