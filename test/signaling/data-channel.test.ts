import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { BrowserPeer, launchChromium } from '../helpers/chromium.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { WsPeer } from '../helpers/ws-peer.js';
import { playOverSignaling } from '../helpers/signaled-browser.js';
import { waitUntil } from '../helpers/processes.js';
import { Observer } from '../helpers/x-observer.js';

let server: TestServer;
let browser: Browser;
before(async () => {
  server = await startServer(['--source', 'virtual', '--resolution', '640x480', '--app', 'sleep 100000', '--max-message-size', '16384']);
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

test('the "input" data channel injects input, refuses other message types and oversize messages; errors come back on the WebSocket', async () => {
  const health = (await (await fetch(`${server.url}/healthz`)).json()) as { display: string };
  const observer = await Observer.open(health.display);
  const peer = await WsPeer.open(server.wsUrl);
  try {
    await peer.hello({ capabilities: ['mouse-press-release'] });
    const page = await BrowserPeer.open(browser);
    await playOverSignaling(peer, page);
    await page.sendOnChannel('input', JSON.stringify({ type: 'mouse-move', data: { x: 321, y: 123 } }));
    await waitUntil('the move over the data channel reached X', async () => {
      const p = await observer.pointer();
      return p.x === 321 && p.y === 123;
    });
    await page.sendOnChannel('input', JSON.stringify({ type: 'request-offer', message_id: 'dc1', data: {} }));
    const refused = await peer.reply('dc1');
    assert.equal(refused.error.code, 'INVALID_MESSAGE');
    assert.match(refused.error.message, /not accepted on the input data channel/);
    await page.sendOnChannel('input', JSON.stringify({ type: 'mouse-move', data: { x: 1, y: 1, pad: 'x'.repeat(20_000) } }));
    const oversize = await peer.next((m) => m.type === 'error' && /data-channel message/.test(m.error.message));
    assert.equal(oversize.error.details, 'max_message_size=16384');
    assert.equal(peer.closeCode, null, 'the WebSocket stays open');
    assert.deepEqual(await observer.pointer(), { x: 321, y: 123, buttons: 0 }, 'nothing refused was injected');
    await page.close();
  } finally {
    peer.close();
    await observer.close();
  }
});
