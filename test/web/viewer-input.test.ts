/**
 * Input end to end, as a person at the viewer: the real server with its own virtual desktop
 * (Xvfb + xterm running `cat > file`), headless Chromium on `/`, real keyboard and mouse events in
 * the page. What was typed must come out of the terminal; clicks must land on the desktop at the
 * video pixel under the pointer, through the page's letterboxing and scaling.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { gotoViewer } from '../helpers/viewer-page.js';
import { Observer } from '../helpers/x-observer.js';
import type { StreamgateClient } from '../../src/client/index.js';

declare global {
  interface Window {
    streamgate: { client: StreamgateClient };
  }
}

// The desktop is 1024×576; the page 1280×800: the picture is scaled by 1.25 and letterboxed by 40 px.
const DESKTOP = { width: 1024, height: 576 };
const VIEWPORT = { width: 1280, height: 800 };

let dir: string;
let server: TestServer;
let browser: Browser;
let page: Page;
let display: string;
const consoleLines: string[] = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'streamgate-viewer-input-'));
  // The desktop's app (the xterm writing here) runs as an unprivileged user when the tests run as root.
  await chmod(dir, 0o777);
  const file = join(dir, 'typed.txt');
  server = await startServer([
    '--source', 'virtual',
    '--resolution', `${DESKTOP.width}x${DESKTOP.height}`,
    '--app', `xterm -e sh -c "exec cat > '${file}'"`,
  ]);
  const health = (await (await fetch(`${server.url}/healthz`)).json()) as { display?: string };
  assert.ok(health.display, `healthz names the display: ${JSON.stringify(health)}`);
  display = health.display;
  browser = await launchChromium();
  page = await browser.newPage({ viewport: VIEWPORT });
  page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
  await gotoViewer(page, server.url);
  await page
    .waitForFunction(
      () => {
        const c = window.streamgate.client;
        const v = document.getElementById('video') as HTMLVideoElement;
        return c.state === 'live' && v.videoWidth > 0 && c.sessionConfig?.input_enabled === true && c.usingDataChannel;
      },
      null,
      { timeout: 30_000 },
    )
    .catch((err: Error) => {
      throw new Error(`${err.message}\nconsole:\n${consoleLines.slice(-20).join('\n')}`);
    });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Page point of desktop pixel (x, y): the video fills the viewport with object-fit: contain. */
function pagePoint(x: number, y: number): [number, number] {
  const scale = Math.min(VIEWPORT.width / DESKTOP.width, VIEWPORT.height / DESKTOP.height);
  const top = (VIEWPORT.height - DESKTOP.height * scale) / 2;
  const left = (VIEWPORT.width - DESKTOP.width * scale) / 2;
  return [left + (x + 0.5) * scale, top + (y + 0.5) * scale];
}

test('typing in the viewer reaches the terminal on the remote desktop', async () => {
  await page.mouse.move(...pagePoint(512, 288)); // no window manager: X focus follows the pointer into xterm
  await new Promise((r) => setTimeout(r, 400));
  await page.keyboard.type('hello viewer 42');
  await page.keyboard.press('Shift+Digit1');
  await page.keyboard.press('Enter');
  const file = join(dir, 'typed.txt');
  let text = '';
  for (const end = Date.now() + 10_000; Date.now() < end && !text.endsWith('\n'); await new Promise((r) => setTimeout(r, 100))) {
    text = await readFile(file, 'utf8').catch(() => '');
  }
  assert.equal(text, 'hello viewer 42!\n');
});

test('clicks, right-clicks and the wheel land on the desktop at the video pixel under the pointer', async () => {
  const observer = await Observer.open(display); // a full-screen window on top that records what arrives
  try {
    await observer.settle();
    const expectPress = async (x: number, y: number, button: 'left' | 'right', xButton: number): Promise<void> => {
      const down = observer.next((e) => e.type === 'button-down' && e.detail === xButton, 5000);
      const up = observer.next((e) => e.type === 'button-up' && e.detail === xButton, 5000);
      await page.mouse.move(...pagePoint(x, y));
      await page.mouse.down({ button });
      await page.mouse.up({ button });
      const [d, u] = await Promise.all([down, up]);
      assert.ok(Math.abs(d.x - x) <= 1 && Math.abs(d.y - y) <= 1, `${button} press at (${d.x}, ${d.y}), expected (${x}, ${y})`);
      assert.ok(Math.abs(u.x - x) <= 1 && Math.abs(u.y - y) <= 1, `${button} release at (${u.x}, ${u.y})`);
    };
    await expectPress(100, 50, 'left', 1);
    await expectPress(900, 500, 'left', 1);
    await expectPress(3, 570, 'right', 3);

    const wheel = observer.next((e) => e.type === 'button-down' && e.detail === 5, 5000);
    const wheelUp = observer.next((e) => e.type === 'button-up' && e.detail === 5, 5000);
    await page.mouse.move(...pagePoint(400, 300));
    await page.mouse.wheel(0, 100);
    const [w] = await Promise.all([wheel, wheelUp]);
    assert.ok(Math.abs(w.x - 400) <= 1 && Math.abs(w.y - 300) <= 1, `wheel at (${w.x}, ${w.y})`);

    // Nothing stays pressed on the desktop.
    await observer.settle();
    assert.equal((await observer.pointer()).buttons, 0);
  } finally {
    await observer.close();
  }
});
