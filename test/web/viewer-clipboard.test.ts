/**
 * Clipboard both ways between the desktop of `--source virtual` and the viewer in Chromium (clipboard
 * permissions granted): text and a PNG copied in the desktop reach the browser's clipboard, and text and an
 * image in the browser's clipboard become the desktop's. Only the peer in control may; sizes are bounded.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { gotoViewer } from '../helpers/viewer-page.js';
import { WsPeer } from '../helpers/ws-peer.js';
import { encodePng } from '../../src/desktop/png-encoder.js';

const run = promisify(execFile);
let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let display: string;
const apps: ChildProcess[] = [];

const env = () => ({ ...process.env, DISPLAY: display, LANG: 'C.UTF-8' });
/** A desktop app copying `data`: an xclip serving it in the foreground until another owner takes over. */
function copyInDesktop(data: Buffer, target?: string): void {
  const app = spawn('xclip', ['-quiet', '-selection', 'clipboard', '-i', ...(target ? ['-t', target] : [])], { env: env(), stdio: ['pipe', 'ignore', 'ignore'] });
  apps.push(app);
  app.stdin.end(data);
}
async function pasteInDesktop(selection: string, target?: string): Promise<Buffer> {
  const { stdout } = await run('xclip', ['-selection', selection, '-o', ...(target ? ['-t', target] : [])], { env: env(), encoding: 'buffer' });
  return stdout;
}
async function until<T>(what: string, probe: () => Promise<T | null>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => null);
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

before(async () => {
  server = await startServer(['--source', 'virtual', '--resolution', '640x360', '--max-clipboard-size', '65536']);
  const health = (await (await fetch(`${server.url}/healthz`)).json()) as { display?: string };
  assert.ok(health.display);
  display = health.display;
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 800, height: 500 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: server.url });
  page = await context.newPage();
  await gotoViewer(page, server.url);
  await page.waitForFunction(() => window.streamgate?.client.sessionConfig?.input_enabled === true, null, { timeout: 30_000 });
  await page.bringToFront();
});

after(async () => {
  for (const app of apps) app.kill('SIGKILL');
  await browser?.close();
  await server?.stop();
});

test('text copied in the desktop arrives in the browser clipboard', async () => {
  const text = 'copied in the desktop: héllo ✓ 日本';
  copyInDesktop(Buffer.from(text));
  const got = await until('browser clipboard text', async () => {
    const t = await page.evaluate(() => navigator.clipboard.readText());
    return t === text ? t : null;
  });
  assert.equal(got, text);
});

test('a PNG copied in the desktop arrives in the browser clipboard as that picture', async () => {
  // 3×2: red, green, blue / white, black, half-grey.
  const rgba = Uint8Array.from([255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 255, 255, 255, 255, 0, 0, 0, 255, 128, 128, 128, 255]);
  copyInDesktop(encodePng(3, 2, rgba), 'image/png');
  const pixels = await until('browser clipboard image', () =>
    page.evaluate(async () => {
      const items = await navigator.clipboard.read();
      const item = items.find((i) => i.types.includes('image/png'));
      if (!item) return null;
      const bitmap = await createImageBitmap(await item.getType('image/png'));
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const ctx = canvas.getContext('2d')!;
      ctx.drawImage(bitmap, 0, 0);
      return { width: bitmap.width, height: bitmap.height, data: Array.from(ctx.getImageData(0, 0, bitmap.width, bitmap.height).data) };
    }),
  );
  assert.equal(pixels.width, 3);
  assert.equal(pixels.height, 2);
  assert.deepEqual(pixels.data, Array.from(rgba));
});

test('text in the browser clipboard becomes the desktop CLIPBOARD and PRIMARY when the page gets the focus', async () => {
  const text = 'from the browser: ünïcode ✓';
  await page.evaluate(async (t) => {
    await navigator.clipboard.writeText(t);
    window.dispatchEvent(new Event('focus'));
  }, text);
  for (const selection of ['clipboard', 'primary']) {
    const got = await until(`desktop ${selection} text`, async () => {
      const b = (await pasteInDesktop(selection, 'UTF8_STRING')).toString('utf8');
      return b === text ? b : null;
    });
    assert.equal(got, text);
  }
});

test('an image in the browser clipboard becomes the desktop CLIPBOARD as a PNG', async () => {
  await page.evaluate(async () => {
    const canvas = new OffscreenCanvas(5, 4);
    const ctx = canvas.getContext('2d')!;
    ctx.fillStyle = '#00ff00';
    ctx.fillRect(0, 0, 5, 4);
    const png = await canvas.convertToBlob({ type: 'image/png' });
    await navigator.clipboard.write([new ClipboardItem({ 'image/png': png })]);
    await (window as unknown as { streamgate: { clipboard: { toDesktop(): Promise<void> } } }).streamgate.clipboard.toDesktop();
  });
  const png = await until('desktop clipboard PNG', async () => {
    const b = await pasteInDesktop('clipboard', 'image/png');
    return b.length > 24 && b.readUInt32BE(12) === 0x49484452 ? b : null;
  });
  assert.deepEqual([png.readUInt32BE(16), png.readUInt32BE(20)], [5, 4], 'IHDR width and height');
});

test('only the peer in control, and within --max-clipboard-size', async () => {
  const session = page.evaluate(() => window.streamgate.client.session!);
  const { session_id, resume_token } = await session;
  const headers = { 'x-streamgate-session': session_id, 'x-streamgate-resume-token': resume_token };
  const big = await fetch(`${server.url}/clipboard`, { method: 'PUT', headers: { ...headers, 'content-type': 'text/plain' }, body: 'x'.repeat(70_000) });
  assert.equal(big.status, 413);
  assert.equal(((await big.json()) as { error: string }).error, 'too-large');
  const odd = await fetch(`${server.url}/clipboard`, { method: 'PUT', headers: { ...headers, 'content-type': 'application/pdf' }, body: 'x' });
  assert.equal(odd.status, 415);

  const other = await WsPeer.open(server.wsUrl);
  try {
    const welcome = await other.hello({ capabilities: ['clipboard'] });
    const res = await fetch(`${server.url}/clipboard`, { headers: { 'x-streamgate-session': welcome.data.session_id, 'x-streamgate-resume-token': welcome.data.resume_token } });
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as { error: string }).error, 'not-in-control');
    // A desktop copy is announced to the controller only.
    copyInDesktop(Buffer.from('not for the watcher'));
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(other.received.filter((m) => m.type === 'clipboard').length, 0);
  } finally {
    other.close();
  }
});
