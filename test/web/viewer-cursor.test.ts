/**
 * The desktop's cursor drawn by the browser, against `--source virtual` with its xterm shrunk into a corner:
 * the controller's CSS cursor turns into xterm's I-beam over the terminal and back to the root window's
 * cursor beside it, and the other viewer sees the pointer's position, sent on the data channel. The video
 * leaves the pointer out while both viewers draw the cursor, and shows it while a viewer that did not
 * announce `cursor` watches too.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { brightPixelsBelowTerminal, countWebSocketPointers, helloWithoutCursor } from '../helpers/cursor-probes.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { gotoViewer } from '../helpers/viewer-page.js';

const run = promisify(execFile);
// Page and desktop of one size: a page pixel is a desktop pixel.
const SIZE = { width: 640, height: 360 };
let server: TestServer;
let browser: Browser;
let controller: Page;
let watcher: Page;

/**
 * The viewer page; `init` runs before the page's own scripts: the watcher counts the `pointer` messages its
 * WebSocket brings (none should: they take the data channel), and a viewer that does not draw the cursor
 * leaves `cursor` out of its hello, as a client written before the capability (a seed client) does.
 */
async function openLive(inControl: boolean, init?: 'count-websocket-pointers' | 'without-cursor'): Promise<Page> {
  const page = await browser.newPage({ viewport: SIZE });
  if (init === 'count-websocket-pointers') await page.addInitScript(countWebSocketPointers);
  if (init === 'without-cursor') await page.addInitScript(helloWithoutCursor);
  await gotoViewer(page, server.url);
  await page.waitForFunction(
    (control) => {
      const c = window.streamgate?.client;
      const v = document.getElementById('video') as HTMLVideoElement;
      return c?.state === 'live' && v.videoWidth > 0 && c.sessionConfig?.input_enabled === control;
    },
    inControl,
    { timeout: 30_000 },
  );
  return page;
}

/** The controller's CSS cursor and its serial once it settles on a serial other than `not`. */
async function cursorAfter(page: Page, not: string | undefined): Promise<{ serial: string; css: string }> {
  await page.waitForFunction((prev) => {
    const v = document.getElementById('video') as HTMLVideoElement;
    return v.dataset.cursorSerial !== undefined && v.dataset.cursorSerial !== prev;
  }, not, { timeout: 10_000, polling: 100 });
  return page.evaluate(() => {
    const v = document.getElementById('video') as HTMLVideoElement;
    return { serial: v.dataset.cursorSerial!, css: v.style.cursor };
  });
}

before(async () => {
  server = await startServer(['--source', 'virtual', '--resolution', `${SIZE.width}x${SIZE.height}`]);
  const { display } = (await (await fetch(`${server.url}/healthz`)).json()) as { display: string };
  // The desktop fits its app to the screen when the app maps its window; shrunk into the corner after that,
  // the xterm leaves root window beside it. Shrinking before the fit lost the race to it (the fit came after).
  const xdotool = (...args: string[]) => run('xdotool', args, { env: { ...process.env, DISPLAY: display }, timeout: 5000 }).then((r) => r.stdout, () => '');
  const geometry = async () => /Geometry: (\d+x\d+)/.exec(await xdotool('search', '--sync', '--class', 'xterm', 'getwindowgeometry', '%1'))?.[1];
  for (let attempt = 0; (await geometry()) !== `${SIZE.width}x${SIZE.height}`; attempt++) {
    if (attempt > 40) throw new Error(`the desktop never fitted the xterm to the screen (last: ${await geometry()})`);
    await new Promise((r) => setTimeout(r, 250));
  }
  for (let attempt = 0; (await geometry()) !== '160x90'; attempt++) {
    if (attempt > 20) throw new Error(`the xterm could not be shrunk (last: ${await geometry()})`);
    await xdotool('search', '--class', 'xterm', 'windowsize', '%@', '160', '90');
    await new Promise((r) => setTimeout(r, 250));
  }
  browser = await launchChromium();
  controller = await openLive(true);
  watcher = await openLive(false, 'count-websocket-pointers');
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test("the controller's cursor is the desktop's: xterm's I-beam over the terminal, the root cursor beside it", async () => {
  // A page in the background gets its input events and timers late.
  await controller.bringToFront();
  await controller.mouse.move(500, 300);
  await cursorAfter(controller, undefined);
  // The picture sent with the welcome may still be the one under the pointer before it moved: let it settle.
  await new Promise((r) => setTimeout(r, 1000));
  const root = await cursorAfter(controller, undefined);
  await controller.mouse.move(40, 40);
  const ibeam = await cursorAfter(controller, root.serial);
  assert.notEqual(ibeam.css, root.css);
  assert.match(ibeam.css, /^url\("?data:image\/png;base64,[A-Za-z0-9+/=]+"?\) \d+ \d+, auto$/);
  // Back beside the terminal: the root cursor again, drawn from the picture the viewer kept.
  await controller.mouse.move(450, 250);
  const again = await cursorAfter(controller, ibeam.serial);
  assert.equal(again.serial, root.serial);
  assert.equal(again.css, root.css);
});

test("the other viewer sees where the controller points, told on the data channel", async () => {
  await watcher.evaluate(() => ((window as unknown as { wsPointers: { n: number } }).wsPointers.n = 0));
  for (const [x, y] of [[400, 200], [120, 300]] as const) {
    await controller.mouse.move(x, y);
    await watcher.waitForFunction(
      ([wx, wy]) => {
        const m = document.getElementById('remote-pointer')!;
        return !m.hidden && Math.abs(Number(m.dataset.x) - wx) <= 2 && Math.abs(Number(m.dataset.y) - wy) <= 2;
      },
      [x, y] as const,
      { timeout: 10_000 },
    );
    const box = await watcher.locator('#remote-pointer').boundingBox();
    assert.ok(box && Math.abs(box.x + box.width / 2 - x) <= 3 && Math.abs(box.y + box.height / 2 - y) <= 3, `marker at ${JSON.stringify(box)} for ${x},${y}`);
  }
  assert.ok(await controller.locator('#remote-pointer').isHidden(), 'the controller has no marker: its pointer is its mouse');
  assert.equal(await watcher.evaluate(() => (window as unknown as { wsPointers: { n: number } }).wsPointers.n), 0, 'no pointer came on the WebSocket');
});

/** Waits until the page's cursor says the picture does (or does not) show the pointer, and its decoded frames agree. */
async function pictureShowsPointer(page: Page, shows: boolean): Promise<number> {
  await page.waitForFunction((want) => (document.getElementById('video') as HTMLVideoElement).dataset.cursorInPicture === String(want), shows, { timeout: 10_000 });
  return framesShowPointer(page, shows);
}

/** The bright pixels once the decoded frames show the pointer (or not), or after 10 s. */
async function framesShowPointer(page: Page, shows: boolean): Promise<number> {
  const deadline = Date.now() + 10_000;
  let bright = await page.evaluate(brightPixelsBelowTerminal);
  while ((shows ? bright < 10 : bright > 2) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    bright = await page.evaluate(brightPixelsBelowTerminal);
  }
  return bright;
}

test('the video leaves the pointer out while every viewer draws the cursor, and shows it while one does not', async () => {
  const [x, y] = [500, 300];
  await controller.bringToFront();
  await controller.mouse.move(x, y);
  await watcher.waitForFunction(([wx, wy]) => document.getElementById('remote-pointer')!.dataset.x === String(wx) && document.getElementById('remote-pointer')!.dataset.y === String(wy), [x, y] as const, { timeout: 10_000 });
  let bright = await pictureShowsPointer(watcher, false);
  assert.ok(bright <= 2, `the watcher's video shows no pointer (${bright} bright pixels)`);
  assert.equal(await watcher.locator('#remote-pointer').getAttribute('data-drawn'), 'true', "the watcher draws the cursor's picture on its marker");

  const plain = await openLive(false, 'without-cursor');
  try {
    bright = await framesShowPointer(plain, true);
    assert.ok(bright >= 10, `the viewer without \`cursor\` sees the pointer in its video (${bright} bright pixels)`);
    bright = await pictureShowsPointer(watcher, true);
    assert.ok(bright >= 10, `with it watching, the shared video shows the pointer to everyone (${bright} bright pixels)`);
    assert.equal(await watcher.locator('#remote-pointer').getAttribute('data-drawn'), 'false', 'and the watcher draws no second one');
  } finally {
    await plain.close();
  }
  bright = await pictureShowsPointer(watcher, false);
  assert.ok(bright <= 2, `once it left, the pointer is out of the video again (${bright} bright pixels)`);
});
