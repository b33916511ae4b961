/**
 * The SDK's input capture in real Chromium, driven by real (trusted) mouse and keyboard events:
 * a 640×360 video letterboxed in an 800×600 element (CSS-scaled, bars top and bottom) must give
 * coordinates in the video's own pixels, pair every press with a release, and release what is held
 * on blur and on detach. The sink records what would be sent; no server is involved.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';

type Sent = { kind: string; [k: string]: unknown };

let browser: Browser;
let page: Page;

// Video box: 800×600 at (100, 50). A 16:9 picture in it is 800×450, so it starts at y = 50 + 75.
const BOX = { left: 100, top: 50, width: 800, height: 600 };
const PIC_TOP = BOX.top + 75;
const SCALE = 800 / 640; // client px per video px

const PAGE = `<!doctype html><html><body style="margin:0">
<input id="elsewhere">
<video id="v" autoplay muted playsinline style="position:absolute;left:${BOX.left}px;top:${BOX.top}px;width:${BOX.width}px;height:${BOX.height}px;background:#000"></video>
</body></html>`;

before(async () => {
  // The SDK as a browser bundle, as the viewer gets it.
  const bundle = await build({
    entryPoints: [fileURLToPath(new URL('../../../src/client/index.ts', import.meta.url))], // from dist/test/web
    bundle: true,
    format: 'iife',
    globalName: 'Streamgate',
    platform: 'browser',
    write: false,
    logLevel: 'error',
  });
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
  await page.setContent(PAGE);
  await page.addScriptTag({ content: bundle.outputFiles[0]!.text });
  await page.evaluate(async () => {
    const canvas = document.createElement('canvas');
    canvas.width = 640;
    canvas.height = 360;
    const ctx = canvas.getContext('2d')!;
    const paint = (): void => {
      ctx.fillStyle = `hsl(${Date.now() % 360} 60% 50%)`;
      ctx.fillRect(0, 0, 640, 360);
    };
    paint();
    setInterval(paint, 50);
    const video = document.getElementById('v') as HTMLVideoElement;
    video.srcObject = canvas.captureStream(20);
    await video.play();
    while (video.videoWidth === 0) await new Promise((r) => setTimeout(r, 20));
    const w = window as unknown as { sent: Sent[]; controller: unknown; Streamgate: typeof import('../../src/client/index.js') };
    w.sent = [];
    const sink = {
      mouseMove: (x: number, y: number) => w.sent.push({ kind: 'move', x, y }),
      mouseClick: (x: number, y: number, button?: string, action?: string) => w.sent.push({ kind: 'click', x, y, button, action }),
      mouseWheel: (dx: number, dy: number, x?: number, y?: number) => w.sent.push({ kind: 'wheel', dx, dy, x, y }),
      key: (k: { key: string; code?: string; action?: string; repeat?: boolean; modifiers?: { shift: boolean } }) =>
        w.sent.push({ kind: 'key', key: k.key, code: k.code, action: k.action, shift: k.modifiers?.shift ?? null }),
    };
    w.controller = new w.Streamgate.InputController(video, sink);
  });
});

after(async () => {
  await browser?.close();
});

async function take(): Promise<Sent[]> {
  // Moves are coalesced per animation frame: let one pass.
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 30))));
  return page.evaluate(() => (window as unknown as { sent: Sent[] }).sent.splice(0));
}

/** Client point of video pixel (x, y). */
const at = (x: number, y: number): [number, number] => [BOX.left + (x + 0.5) * SCALE, PIC_TOP + (y + 0.5) * SCALE];

test('a pointer move over the letterboxed picture is sent in video pixels', async () => {
  await take();
  await page.mouse.move(...at(320, 180));
  assert.deepEqual(await take(), [{ kind: 'move', x: 320, y: 180 }]);
  await page.mouse.move(...at(0, 0));
  assert.deepEqual(await take(), [{ kind: 'move', x: 0, y: 0 }]);
  await page.mouse.move(...at(639, 359));
  assert.deepEqual(await take(), [{ kind: 'move', x: 639, y: 359 }]);
});

test('moves over the letterbox bars are not sent', async () => {
  await take();
  await page.mouse.move(500, BOX.top + 10); // top bar
  await page.mouse.move(500, BOX.top + BOX.height - 10); // bottom bar
  assert.deepEqual(await take(), []);
});

test('a click is a press and a release at the same video pixel, with the button named', async () => {
  await page.mouse.move(...at(100, 50));
  await take();
  await page.mouse.down();
  await page.mouse.up();
  assert.deepEqual(await take(), [
    { kind: 'click', x: 100, y: 50, button: 'left', action: 'down' },
    { kind: 'click', x: 100, y: 50, button: 'left', action: 'up' },
  ]);
  await page.mouse.down({ button: 'right' });
  await page.mouse.up({ button: 'right' });
  const right = await take();
  assert.deepEqual(right.map((s) => [s.button, s.action]), [
    ['right', 'down'],
    ['right', 'up'],
  ]);
});

test('a press in a letterbox bar does nothing; a drag that leaves the picture still releases, clamped', async () => {
  await page.mouse.move(500, BOX.top + 5);
  await take();
  await page.mouse.down();
  await page.mouse.up();
  assert.deepEqual(await take(), [], 'a press on the bar is not a press on the desktop');

  await page.mouse.move(...at(10, 10));
  await page.mouse.down();
  await page.mouse.move(500, 5); // above the element entirely
  await page.mouse.up();
  const sent = (await take()).filter((s) => s.kind === 'click');
  assert.deepEqual(sent[0], { kind: 'click', x: 10, y: 10, button: 'left', action: 'down' });
  const up = sent.find((s) => s.action === 'up');
  assert.ok(up, `no release in ${JSON.stringify(sent)}`);
  assert.equal(up.y, 0, 'clamped to the top edge');
});

test('the wheel scrolls by notches at the pointer', async () => {
  await page.mouse.move(...at(200, 100));
  await take();
  await page.mouse.wheel(0, 300);
  const sent = (await take()).filter((s) => s.kind === 'wheel');
  const total = sent.reduce((n, s) => n + (s.dy as number), 0);
  assert.equal(total, 3, JSON.stringify(sent));
  assert.deepEqual([sent[0]!.x, sent[0]!.y], [200, 100]);
});

test('keys go down and up in pairs by physical key; Shift+1 comes up as it went down', async () => {
  await page.mouse.click(...at(5, 5)); // focus the video
  await take();
  await page.keyboard.down('Shift');
  await page.keyboard.down('Digit1');
  await page.keyboard.up('Shift');
  await page.keyboard.up('Digit1');
  assert.deepEqual(await take(), [
    { kind: 'key', key: 'Shift', code: 'ShiftLeft', action: 'down', shift: true },
    { kind: 'key', key: '!', code: 'Digit1', action: 'down', shift: true },
    { kind: 'key', key: 'Shift', code: 'ShiftLeft', action: 'up', shift: false },
    { kind: 'key', key: '!', code: 'Digit1', action: 'up', shift: false },
  ]);
});

test('leaving the video (blur) releases every held key', async () => {
  await page.mouse.click(...at(5, 5));
  await take();
  await page.keyboard.down('Control');
  await page.keyboard.down('KeyA');
  await page.focus('#elsewhere');
  const sent = await take();
  assert.deepEqual(
    sent.filter((s) => s.action === 'up').map((s) => s.code).sort(),
    ['ControlLeft', 'KeyA'],
    JSON.stringify(sent),
  );
  await page.keyboard.up('KeyA');
  await page.keyboard.up('Control');
  assert.deepEqual(await take(), [], 'the later physical releases are not sent twice');
});

test('detach releases a held button and stops listening', async () => {
  await page.mouse.move(...at(50, 60));
  await page.mouse.down();
  await take();
  await page.evaluate(() => (window as unknown as { controller: { detach(): void } }).controller.detach());
  assert.deepEqual(await take(), [{ kind: 'click', x: 50, y: 60, button: 'left', action: 'up' }]);
  await page.mouse.up();
  await page.mouse.move(...at(70, 70));
  assert.deepEqual(await take(), []);
});
