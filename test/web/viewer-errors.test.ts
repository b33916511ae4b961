/**
 * The viewer when things are not simply fine, in headless Chromium against the real server with its
 * own desktop and an access token (`--source virtual --auth-token`): a wrong or missing token says how
 * to get in, a killed capture worker says the desktop is restarting, and a second viewer watches while
 * the first has control, says who has it and offers to ask for it, and gets it once the first leaves; a
 * signaling endpoint that cannot be reached when the page opens says so and keeps trying. Elsewhere: the server
 * lost while watching (viewer.test.ts), a browser that cannot decode the codec (firefox-viewer-default.test.ts).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { descendants } from '../helpers/processes.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { gotoViewer } from '../helpers/viewer-page.js';
import type { StreamgateClient } from '../../src/client/index.js';

declare global {
  interface Window {
    streamgate: { client: StreamgateClient };
  }
}

const TOKEN = 'viewer-errors-secret';
let server: TestServer;
let browser: Browser;
const consoleLines: string[] = [];

before(async () => {
  server = await startServer(['--source', 'virtual', '--resolution', '640x360', '--auth-token', TOKEN]);
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

interface Shown {
  state: string;
  status: string;
  curtain: string;
  controlButton: boolean;
  inputEnabled: boolean | null;
}

/** `bundleDelayMs` holds app.js back, as a loaded machine does: index.html's early socket then sees the server's reply first. */
async function open(query: string, bundleDelayMs = 0): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
  if (bundleDelayMs > 0) {
    await page.route('**/app.js*', async (route) => {
      await new Promise((r) => setTimeout(r, bundleDelayMs));
      await route.continue();
    });
  }
  await gotoViewer(page, `${server.url}/${query}`);
  return page;
}

function shown(page: Page): Promise<Shown> {
  return page.evaluate(() => ({
    state: document.body.dataset.state ?? '',
    status: document.getElementById('status-text')?.textContent ?? '',
    curtain: document.getElementById('curtain-text')?.textContent ?? '',
    controlButton: !(document.getElementById('btn-control') as HTMLButtonElement).hidden,
    inputEnabled: window.streamgate.client.sessionConfig?.input_enabled ?? null,
  }));
}

async function waitShown(page: Page, what: string, ok: (s: Shown) => boolean, timeoutMs = 30_000): Promise<Shown> {
  const deadline = Date.now() + timeoutMs;
  let last = await shown(page);
  while (!ok(last)) {
    if (Date.now() > deadline) assert.fail(`${what}: not within ${timeoutMs} ms; last: ${JSON.stringify(last)}\nconsole:\n${consoleLines.slice(-15).join('\n')}`);
    await new Promise((r) => setTimeout(r, 150));
    last = await shown(page);
  }
  return last;
}

test('a wrong token: the page stops and says the token in its address is wrong and how to get the right one, even when the refusal comes before the bundle runs', async () => {
  const page = await open('?token=not-the-token', 1500);
  try {
    const s = await waitShown(page, 'access refused', (x) => x.state === 'closed' && /Access refused/.test(x.status));
    assert.match(s.status, /the token in this page's address \(\?token=…\) is wrong\. Ask the server's owner for the right link/);
    assert.match(s.curtain, /Access refused/);
  } finally {
    await page.close();
  }
});

test('no token: the page says the server needs one and where it goes', async () => {
  const page = await open('');
  try {
    const s = await waitShown(page, 'access refused', (x) => x.state === 'closed' && /Access refused/.test(x.status));
    assert.match(s.status, /this server needs an access token\. Open the link with \?token=…/);
  } finally {
    await page.close();
  }
});

test('the signaling endpoint unreachable as the page opens: it says it cannot reach the server and keeps trying', async () => {
  // A port nothing listens on: index.html's early socket fails, likely before the client takes it over.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  const page = await open(`?token=${TOKEN}&ws=${encodeURIComponent(`ws://127.0.0.1:${port}/ws`)}`);
  try {
    const s = await waitShown(page, 'cannot reach', (x) => x.state === 'reconnecting' && /^Cannot reach the server · reconnecting/.test(x.status));
    assert.match(s.curtain, /Cannot reach the server/);
    await waitShown(page, 'a later attempt', (x) => / \(attempt [2-9]\d*\)…$/.test(x.status), 20_000);
  } finally {
    await page.close();
  }
});

test('the capture worker killed: the page says the desktop is restarting, then plays again by itself', async () => {
  const page = await open(`?token=${TOKEN}`);
  try {
    await waitShown(page, 'live', (x) => x.state === 'live' && /^Live · \d+×\d+/.test(x.status));
    const capture = descendants(server.process.pid!).find((p) => p.command.includes('pipeline-worker') && p.command.includes('ximagesrc'));
    assert.ok(capture, 'an X capture worker runs');
    process.kill(capture.pid, 'SIGKILL');
    const s = await waitShown(page, 'the restart explained', (x) => /desktop is restarting/.test(x.status));
    assert.equal(s.status, 'The desktop is restarting; the picture comes back by itself in a few seconds.');
    await waitShown(page, 'live again, the message gone', (x) => x.state === 'live' && /^Live · \d+×\d+/.test(x.status), 45_000);
  } finally {
    await page.close();
  }
});

test('a second viewer is view only: it names the peer in control as the overlay does and offers to ask; control passes to it when the first leaves', async () => {
  const first = await open(`?token=${TOKEN}`);
  let second: Page | null = null;
  try {
    await waitShown(first, 'the first viewer live with control', (x) => x.state === 'live' && x.inputEnabled === true && !/view only/.test(x.status));
    // The participants list names each peer by its peer_id; the bar says the same name (before the list, the session's).
    const controller = String(await first.evaluate(() => window.streamgate.client.peerId));
    second = await open(`?token=${TOKEN}`);
    const s = await waitShown(second, 'view only, naming the controller', (x) => x.state === 'live' && x.status.includes(`view only: ${controller} has control`));
    assert.match(s.status, /passes to you when they leave or release it/);
    assert.ok(s.controlButton, 'the "Take control" button is offered');
    assert.doesNotMatch(s.status, /Error/);

    // Asking while the first holds control is refused, and the page still says who holds it.
    await second.click('#btn-control');
    await new Promise((r) => setTimeout(r, 500));
    assert.ok((await shown(second)).status.includes(`view only: ${controller} has control`), 'the page still names the controller');

    await first.close();
    const after = await waitShown(second, 'control passed on', (x) => !/view only/.test(x.status) && !x.controlButton, 30_000);
    assert.match(after.status, /^Live/);
  } finally {
    await second?.close();
    if (!first.isClosed()) await first.close();
  }
});
