/**
 * The viewer's file panel in Chromium against the real server: a file dropped on the screen lands in
 * --upload-dir byte for byte, and a file of --download-dir downloads byte for byte.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { openViewer } from '../helpers/viewer-page.js';

let dir: string;
let server: TestServer;
let browser: Browser;
let page: Page;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'streamgate-viewer-files-'));
  await mkdir(join(dir, 'up'));
  await mkdir(join(dir, 'down'));
  server = await startServer(['--upload-dir', join(dir, 'up'), '--download-dir', join(dir, 'down')]);
  browser = await launchChromium();
  page = await openViewer(browser, server.url);
  await page.waitForSelector('#btn-files:not([hidden])', { timeout: 20_000 });
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

test('a file dropped on the viewer appears in the upload folder', async () => {
  const bytes = randomBytes(300_000);
  await page.evaluate((b64) => {
    const data = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const transfer = new DataTransfer();
    transfer.items.add(new File([data], 'dropped file.bin'));
    const stage = document.getElementById('stage')!;
    stage.dispatchEvent(new DragEvent('dragover', { dataTransfer: transfer, bubbles: true, cancelable: true }));
    stage.dispatchEvent(new DragEvent('drop', { dataTransfer: transfer, bubbles: true, cancelable: true }));
  }, bytes.toString('base64'));
  await page.waitForFunction(() => document.getElementById('file-status')?.textContent === 'Uploaded dropped file.bin.', null, { timeout: 20_000 });
  assert.deepEqual(await readFile(join(dir, 'up', 'dropped file.bin')), bytes);
});

test('a file of the download folder downloads byte-identical', async () => {
  const bytes = randomBytes(200_000);
  await writeFile(join(dir, 'down', 'from-desktop.bin'), bytes);
  // Opening the panel lists the folder anew (the drop above opened it before this file existed).
  if (await page.isVisible('#files')) await page.click('#btn-files');
  await page.click('#btn-files');
  const link = page.locator('.file-link', { hasText: 'from-desktop.bin' });
  await link.waitFor({ timeout: 10_000 });
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  assert.equal(download.suggestedFilename(), 'from-desktop.bin');
  assert.deepEqual(await readFile((await download.path())!), bytes);
});
