#!/usr/bin/env node
/**
 * Takes README's picture of the viewer, docs/images/viewer.png: the real server (`--source virtual`, auth on,
 * started by the tests' one launcher) with three people connected — "alice" in control and "carol" on a
 * view-only share link, both SDK clients in Node, and the viewer itself in Debian's Chromium — and the
 * stats overlay open, so the picture shows the stream figures, who is connected and who holds control.
 *
 *   npx tsc -p tsconfig.json && node scripts/build-web.mjs && node scripts/screenshot.mjs [out.png]
 */
import { mkdir, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import WebSocket from 'ws';
import { StreamgateClient } from '../dist/src/client/index.js';
import { launchChromium } from '../dist/test/helpers/chromium.js';
import { startServer } from '../dist/test/helpers/server.js';
import { framesAdvance, openViewer } from '../dist/test/helpers/viewer-page.js';

const OUT = process.argv[2] ?? 'docs/images/viewer.png';
const TOKEN = 'a-token-for-the-readme-screenshot';
const WAIT_MS = 20_000;

/** Resolves with the first `type` event the client emits that `accept` takes, or fails after WAIT_MS. */
function nextEvent(client, type, accept = () => true) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ${type} within ${WAIT_MS} ms`)), WAIT_MS);
    client.on(type, (m) => {
      if (!accept(m)) return;
      clearTimeout(timer);
      resolve(m);
    });
  });
}

function sdkClient(server, token, peerId) {
  const client = new StreamgateClient({ url: `${server.wsUrl}?token=${encodeURIComponent(token)}`, WebSocket, peerId, capabilities: ['participants'], logger: null });
  client.on('error', () => undefined);
  return client;
}

const server = await startServer(['--source', 'virtual', '--resolution', '1280x720', '--auth-token', TOKEN]);
let browser;
const clients = [];
try {
  const alice = sdkClient(server, TOKEN, 'alice');
  clients.push(alice);
  const granted = nextEvent(alice, 'control', (m) => m.data.input_enabled);
  await alice.connect();
  alice.requestControl();
  await granted;

  const link = nextEvent(alice, 'share-link');
  alice.send('create-share-link', {});
  const carol = sdkClient(server, (await link).data.token, 'carol');
  clients.push(carol);
  await carol.connect();

  browser = await launchChromium();
  const page = await openViewer(browser, `${server.url}/?token=${TOKEN}`);
  await framesAdvance(page, 30);
  // Something on the desktop besides a prompt: alice, in control, types into its terminal, clear of the overlay.
  for (const key of [...'clear; tput cup 12 34; echo "alice types; carol and you watch"; tput cup 30 0', 'Enter']) {
    alice.send('key-press', { key });
    await new Promise((r) => setTimeout(r, 40));
  }
  await page.evaluate(() => window.streamgate.setStats(true));
  await page.waitForFunction(() => document.querySelectorAll('#participants li').length === 3, null, { timeout: WAIT_MS, polling: 100 });
  // A few refreshes fill the figures and the bitrate line; the pointer at the top keeps the bar shown.
  // On a loaded machine the estimate starts low: a picture of the stream at its full rung is the typical one.
  await page.waitForFunction(() => !document.getElementById('spark')?.hidden && document.getElementById('c-rung')?.textContent?.startsWith('full'), null, { timeout: 2 * WAIT_MS, polling: 250 }).catch(() => undefined);
  await page.waitForTimeout(8000);
  await page.mouse.move(640, 10);
  await page.waitForTimeout(500);

  await mkdir(dirname(OUT), { recursive: true });
  await page.screenshot({ path: OUT });
  console.log(`${OUT}: ${Math.round((await stat(OUT)).size / 1024)} kB`);
} finally {
  await browser?.close();
  await Promise.all(clients.map((c) => c.disconnect()));
  await server.stop();
}
