/**
 * Cursor and resize in Firefox ESR, as in Chromium (test/web/viewer-cursor.test.ts, viewer-resize.test.ts):
 * against `--source virtual --resize controller`, the desktop takes the Firefox page's size and the video
 * follows; the page's CSS cursor becomes xterm's I-beam over the (shrunk) terminal and the root cursor beside it;
 * the video leaves the pointer out while the page is its only viewer, and shows it while a viewer that did not
 * announce `cursor` watches too. The page never reads the clipboard on its own: Firefox would show its Paste menu each time.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Page } from 'puppeteer-core';
import { brightPixelsBelowTerminal, countWebSocketPointers, helloWithoutCursor } from '../helpers/cursor-probes.js';
import { launchFirefox, type FirefoxBrowser } from '../helpers/firefox.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { waitUntil } from '../helpers/processes.js';

const run = promisify(execFile);
const SIZE = { width: 720, height: 400 };
let server: TestServer;
let firefox: FirefoxBrowser;
let page: Page;
let display: string;

const x = (args: string[]) => run(args[0]!, args.slice(1), { env: { ...process.env, DISPLAY: display }, timeout: 5000 });
const shown = () =>
  page.evaluate(() => {
    const v = document.getElementById('video') as HTMLVideoElement;
    return { size: `${v.videoWidth}x${v.videoHeight}`, serial: v.dataset.cursorSerial ?? '', css: v.style.cursor };
  });

before(async () => {
  const started = await Promise.allSettled([
    startServer(['--source', 'virtual', '--resolution', '640x360', '--resize', 'controller']).then((s) => (server = s)),
    launchFirefox().then((f) => (firefox = f)),
  ]);
  for (const result of started) if (result.status === 'rejected') throw result.reason;
  display = ((await (await fetch(`${server.url}/healthz`)).json()) as { display: string }).display;
  page = await firefox.newPage();
  await page.setViewport(SIZE);
  await page.goto(server.url);
  // The page's boot loads the app once the first frame shows, at the first trouble, or after 3 s (web/boot.ts).
  await page.waitForFunction(() => Boolean((window as { streamgate?: unknown }).streamgate));
});

after(async () => {
  await firefox?.close();
  await server?.stop();
});

test('the desktop takes the Firefox page size and the video follows', async () => {
  const inner = await page.evaluate(() => ({ w: window.innerWidth * devicePixelRatio, h: window.innerHeight * devicePixelRatio }));
  const want = `${Math.round(inner.w / 2) * 2}x${Math.round(inner.h / 2) * 2}`;
  await waitUntil(`the video is ${want}`, async () => (await shown()).size === want, 40_000);
  const { stdout } = await x(['xwininfo', '-root']);
  assert.equal(`${/Width: (\d+)/.exec(stdout)?.[1]}x${/Height: (\d+)/.exec(stdout)?.[1]}`, want);
});

test("the page's cursor is the desktop's: the I-beam over the terminal, the root cursor beside it", async () => {
  // The desktop refits its app when the screen changes size (the test above): shrink until it stays shrunk.
  const geometry = async () => /Geometry: (\d+x\d+)/.exec((await x(['xdotool', 'search', '--sync', '--class', 'xterm', 'getwindowgeometry', '%1'])).stdout)?.[1];
  for (let attempt = 0; (await geometry()) !== '160x90'; attempt++) {
    if (attempt > 20) throw new Error(`the xterm could not be shrunk (last: ${await geometry()})`);
    await x(['xdotool', 'search', '--sync', '--class', 'xterm', 'windowsize', '%@', '160', '90']);
    await new Promise((r) => setTimeout(r, 250));
  }
  await page.mouse.move(500, 300);
  await new Promise((r) => setTimeout(r, 1000));
  const root = await shown();
  await page.mouse.move(40, 40);
  await waitUntil('a new cursor over the terminal', async () => (await shown()).serial !== root.serial, 10_000);
  const ibeam = await shown();
  assert.match(ibeam.css, /^url\("?data:image\/png;base64,/);
  assert.notEqual(ibeam.css, root.css);
});

test('returning to the page does not read the clipboard: Firefox would ask with its Paste menu each time', async () => {
  const reads = await page.evaluate(async () => {
    const clipboard = navigator.clipboard as Clipboard & { read?: () => Promise<ClipboardItems> };
    if (typeof clipboard.read !== 'function') return 'no read()';
    let calls = 0;
    const real = clipboard.read.bind(clipboard);
    clipboard.read = () => {
      calls++;
      return real();
    };
    await (window as unknown as { streamgate: { clipboard: { toDesktop(): Promise<void> } } }).streamgate.clipboard.toDesktop();
    window.dispatchEvent(new FocusEvent('focus'));
    await new Promise((r) => setTimeout(r, 500));
    return calls;
  });
  // Firefox ESR 128 and later have read(): without the check, the focus handler calls it.
  assert.equal(reads, 0);
  assert.equal(await page.evaluate(() => window.streamgate.client.session?.session_config.input_enabled), true, 'the page is in control, so only the browser kept it from reading');
});

test('the video has no pointer while the page (drawing the cursor) is its only viewer, and has it while a viewer without `cursor` watches', async () => {
  await page.mouse.move(500, 300);
  const inPicture = () => page.evaluate(() => (document.getElementById('video') as HTMLVideoElement).dataset.cursorInPicture);
  await waitUntil('the page told the picture has no pointer', async () => (await inPicture()) === 'false', 10_000);
  await waitUntil('a decoded frame without the pointer', async () => (await page.evaluate(brightPixelsBelowTerminal)) <= 2, 10_000).catch(async () => {
    assert.fail(`the video still shows the pointer: ${await page.evaluate(brightPixelsBelowTerminal)} bright pixels`);
  });

  const plain = await firefox.newPage();
  try {
    // As a client written before the capability (a seed client): its hello leaves `cursor` out.
    await plain.evaluateOnNewDocument(helloWithoutCursor);
    await plain.setViewport(SIZE);
    await plain.goto(server.url);
    await waitUntil('the page told the picture shows the pointer', async () => (await inPicture()) === 'true', 30_000);
    await waitUntil('a decoded frame with the pointer', async () => (await page.evaluate(brightPixelsBelowTerminal)) >= 10, 10_000).catch(async () => {
      assert.fail(`the video shows no pointer with a viewer that needs it: ${await page.evaluate(brightPixelsBelowTerminal)} bright pixels`);
    });
  } finally {
    await plain.close();
  }
  await waitUntil('the pointer out of the picture again', async () => (await inPicture()) === 'false', 10_000);
});

test('another Firefox viewer sees where the controller points, told on the data channel', async () => {
  const watcher = await firefox.newPage();
  try {
    // Counts the `pointer` messages its WebSocket brings: none should, they take the data channel.
    await watcher.evaluateOnNewDocument(countWebSocketPointers);
    await watcher.setViewport(SIZE);
    await watcher.goto(server.url);
    await waitUntil('the watcher plays', () => watcher.evaluate(() => (document.getElementById('video') as HTMLVideoElement).videoWidth > 0), 30_000);
    await watcher.evaluate(() => ((window as unknown as { wsPointers: { n: number } }).wsPointers.n = 0));
    for (const [px, py] of [[400, 200], [120, 300]] as const) {
      await page.mouse.move(px, py);
      const marker = () => watcher.evaluate(() => ({ x: document.getElementById('remote-pointer')!.dataset.x, y: document.getElementById('remote-pointer')!.dataset.y }));
      await waitUntil(`the watcher's marker at ${px},${py}`, async () => {
        const m = await marker();
        return Math.abs(Number(m.x) - px) <= 2 && Math.abs(Number(m.y) - py) <= 2;
      }, 10_000);
    }
    assert.equal(await watcher.evaluate(() => (window as unknown as { wsPointers: { n: number } }).wsPointers.n), 0, 'no pointer came on the WebSocket');
  } finally {
    await watcher.close();
  }
});
