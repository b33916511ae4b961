import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { WsPeer } from '../helpers/ws-peer.js';
import { waitUntil } from '../helpers/processes.js';
import { Observer } from '../helpers/x-observer.js';
import { framesAdvance, openViewer } from '../helpers/viewer-page.js';

let server: TestServer;
let browser: Browser;
before(async () => {
  server = await startServer(['--source', 'virtual', '--resolution', '640x480', '--app', 'sleep 100000', '--input', 'all']);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('a 1 kHz stream of mouse moves over the WebSocket is taken without RATE_LIMITED or backlog while video streams', async () => {
  const page = await openViewer(browser, server.url);
  await framesAdvance(page);
  const health = (await (await fetch(`${server.url}/healthz`)).json()) as { display: string };
  const observer = await Observer.open(health.display);
  const peer = await WsPeer.open(server.wsUrl);
  try {
    await peer.hello();
    const moves = 2000;
    const started = performance.now();
    for (let i = 0; i < moves; i++) {
      // Paced at 1 kHz: a whole millisecond's worth of moves each tick.
      while (performance.now() - started < i) await new Promise((r) => setImmediate(r));
      peer.send({ type: 'mouse-move', data: { x: i % 640, y: Math.floor(i / 640) * 10 + 5 } });
    }
    const last = { x: (moves - 1) % 640, y: Math.floor((moves - 1) / 640) * 10 + 5 };
    await waitUntil('the last move reached the X server', async () => {
      const p = await observer.pointer();
      return p.x === last.x && p.y === last.y;
    }, 10_000);
    assert.deepEqual(peer.received.filter((m) => m.type === 'error').map((m) => m.error.code), [], 'no move was refused');
    const motions = observer.events.filter((e) => e.type === 'motion').length;
    assert.ok(motions > moves / 4, `the observer saw ${motions} motion events (moves may be coalesced, never lost at the end)`);
    await framesAdvance(page);
  } finally {
    peer.close();
    await observer.close();
    await page.close();
  }
});
