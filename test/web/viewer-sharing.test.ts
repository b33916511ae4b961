/**
 * Sharing in the viewer, with auth on (a shared token): each viewer's stats overlay lists who is connected
 * and who holds control, and says what this viewer may do about it; a watcher asks for control from the
 * overlay and the controller hands it over; the controller makes a view-only
 * link, which shows the video and is refused input. The overlay is saved as a screenshot
 * (bench/out/viewer-participants.png) for a person to look at.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { framesAdvance, openViewer, viewerFigures } from '../helpers/viewer-page.js';

const TOKEN = 'a-shared-token-for-sharing-tests';
let server: TestServer;
let browser: Browser;
let first: Page;
let second: Page;

const inControl = (page: Page, expected: boolean) =>
  page.waitForFunction((want) => window.streamgate.client.sessionConfig !== null && document.body.dataset.state === 'live' && (window as unknown as { lastControl?: boolean }).lastControl === want, expected, { timeout: 20_000, polling: 100 });

async function openTracked(url: string): Promise<Page> {
  const page = await openViewer(browser, url);
  await page.evaluate(() => {
    const w = window as unknown as { lastControl?: boolean };
    w.lastControl = window.streamgate.client.sessionConfig?.input_enabled;
    window.streamgate.client.on('welcome', (m: { data: { session_config: { input_enabled: boolean } } }) => (w.lastControl = m.data.session_config.input_enabled));
    window.streamgate.client.on('control', (m: { data: { input_enabled: boolean } }) => (w.lastControl = m.data.input_enabled));
  });
  return page;
}

/** The participants list as the page shows it: [name, state] per line. */
function listed(page: Page): Promise<string[][]> {
  return page.$$eval('#participants li', (items) => items.map((li) => [...li.querySelectorAll('span')].map((s) => s.textContent ?? '')));
}

before(async () => {
  server = await startServer(['--source', 'virtual', '--resolution', '640x360', '--auth-token', TOKEN]);
  browser = await launchChromium();
  first = await openTracked(`${server.url}/?token=${TOKEN}`);
  await inControl(first, true);
  second = await openTracked(`${server.url}/?token=${TOKEN}`);
  await inControl(second, false);
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

test('each viewer lists who is connected and who holds control', async () => {
  await first.evaluate(() => (window as unknown as { streamgate: { setStats(on: boolean): void } }).streamgate.setStats(true));
  await first.waitForFunction(() => document.querySelectorAll('#participants li').length === 2, null, { polling: 100 });
  const rows = await listed(first);
  assert.equal(rows.filter(([, state]) => state === 'in control').length, 1);
  assert.match(rows.find(([, state]) => state === 'in control')![0]!, /\(you\)$/);
  assert.equal(await first.locator('#participants .give').count(), 1, 'the controller may give control to the other');
  await second.waitForFunction(() => document.querySelectorAll('#participants li').length === 2, null, { polling: 100 });
  assert.equal(await second.locator('#participants .give').count(), 0);
});

test("the open overlay names everyone connected, who holds control, and what this viewer may do about it", async () => {
  await second.evaluate(() => (window as unknown as { streamgate: { setStats(on: boolean): void } }).streamgate.setStats(true));
  const names = [String(await first.evaluate(() => window.streamgate.client.peerId)), String(await second.evaluate(() => window.streamgate.client.peerId))];
  const overlay = async (page: Page): Promise<string> => {
    await page.waitForFunction(() => document.querySelectorAll('#participants li').length === 2 && document.getElementById('control-state')?.textContent !== '', null, { polling: 100 });
    assert.equal(await page.locator('#stats').isVisible(), true);
    return page.locator('#stats').innerText();
  };
  const [seenByFirst, seenBySecond] = [await overlay(first), await overlay(second)];
  for (const name of names) {
    assert.ok(seenByFirst.includes(name), `${name} in the controller's overlay:\n${seenByFirst}`);
    assert.ok(seenBySecond.includes(name), `${name} in the watcher's overlay:\n${seenBySecond}`);
  }
  assert.match(await first.locator('#control-state').innerText(), /^You have control/);
  assert.match(seenByFirst, new RegExp(`${names[0]} \\(you\\)\\s+in control`));
  assert.match(seenBySecond, new RegExp(`${names[0]}\\s+in control`));
  assert.match(seenBySecond, new RegExp(`${names[1]} \\(you\\)\\s+watching`));
  assert.equal(await second.locator('#control-state span').innerText(), `${names[0]} has control`);
  assert.equal(await second.locator('#control-state button').innerText(), 'Ask for control');
  assert.equal(await first.locator('#control-state button').count(), 0, 'the controller has nothing to ask for');
});

test('a watcher asks for control and the controller hands it over', async () => {
  await second.bringToFront();
  await second.locator('#control-state button').click();
  await first.bringToFront();
  await first.locator('#control-request button').waitFor({ timeout: 10_000 });
  await mkdir('bench/out', { recursive: true });
  await first.screenshot({ path: 'bench/out/viewer-participants-request.png' });
  await first.locator('#control-request button').click();
  await inControl(second, true);
  await inControl(first, false);
  await first.waitForFunction(() => {
    const rows = [...document.querySelectorAll('#participants li')];
    return rows.length === 2 && rows.some((li) => li.classList.contains('in-control') && !li.textContent?.includes('(you)'));
  }, null, { polling: 100 });
  const secondName = String(await second.evaluate(() => window.streamgate.client.peerId));
  await first.waitForFunction((name) => document.getElementById('control-state')?.textContent === `${name} has control` + 'Ask for control', secondName, { polling: 100 });
  await first.screenshot({ path: 'bench/out/viewer-participants.png' });
});

test('the controller makes a view-only link: it shows the video and is refused input', async () => {
  await second.bringToFront();
  await second.evaluate(() => (window as unknown as { streamgate: { setStats(on: boolean): void } }).streamgate.setStats(true));
  await second.locator('#btn-share').click();
  await second.waitForFunction(() => (document.getElementById('share-link') as HTMLInputElement).value !== '', null, { timeout: 10_000, polling: 100 });
  const link = await second.locator('#share-link').inputValue();
  assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+\.[\w-]+\.[\w-]+$/);
  const third = await openViewer(browser, link);
  await framesAdvance(third, 10);
  const sent = await third.evaluate(() => {
    window.streamgate.client.send('mouse-move', { x: 10, y: 10 });
    return window.streamgate.client.session?.session_config.input_enabled;
  });
  assert.equal(sent, false);
  await third.waitForFunction(() => (window as unknown as { seenErrors: string[] }).seenErrors.includes('FORBIDDEN'), null, { timeout: 10_000, polling: 100 });
  await third.waitForFunction(() => [...document.querySelectorAll('#participants li .state')].some((s) => s.textContent === 'view only'), null, { polling: 100 }).catch(() => undefined);
  const figures = await viewerFigures(third);
  assert.equal(figures.state, 'live');
  // The view-only link cannot ask for control either.
  const files = await third.evaluate(async () => (await fetch('/files/', { headers: { 'x-streamgate-session': window.streamgate.client.session!.session_id, 'x-streamgate-resume-token': window.streamgate.client.session!.resume_token, authorization: `Bearer ${new URLSearchParams(location.search).get('token')}` } })).status);
  assert.equal(files, 403);
});

test('under --input all the overlay says everyone may control and offers no hand-over; under --input none it offers no asking', async () => {
  for (const [input, expected] of [['all', 'Everyone may control'], ['none', 'Nobody has control']] as const) {
    const other = await startServer(['--source', 'virtual', '--resolution', '320x240', '--app', 'sleep 100000', '--input', input]);
    try {
      const pages = [await openViewer(browser, `${other.url}/?stats=1`), await openViewer(browser, `${other.url}/?stats=1`)];
      for (const page of pages) {
        // Announcements trail a connect by a moment, and under --input none the button goes once the viewer's own
        // request on welcome is refused (controller=nobody): wait for the settled line, then say what was shown.
        const settled = await page
          .waitForFunction(
            (want) => document.querySelectorAll('#participants li').length === 2 && document.getElementById('control-state')?.textContent === want,
            expected,
            { timeout: 20_000, polling: 100 },
          )
          .then(() => true, () => false);
        assert.ok(settled, `--input ${input}: the overlay shows ${JSON.stringify(await page.locator('.people').innerText())}`);
        assert.equal(await page.locator('#participants .give').count(), 0, `--input ${input}: nothing to hand over`);
      }
      await Promise.all(pages.map((page) => page.close()));
    } finally {
      await other.stop();
    }
  }
});
