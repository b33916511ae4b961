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

test('a flood on the "input" data channel is cut off: the connection is closed with 1008 within seconds while another peer is answered', async (t) => {
  const other = await WsPeer.open(server.wsUrl);
  await other.hello({}, 'other');
  const peer = await WsPeer.open(server.wsUrl);
  try {
    await peer.hello();
    const page = await BrowserPeer.open(browser);
    await playOverSignaling(peer, page);
    await page.sendOnChannel('input', JSON.stringify({ type: 'ping', message_id: 'warm', data: {} }));
    await peer.reply('warm');
    const started = Date.now();
    // Malformed messages as fast as the channel takes them, for up to 10 s or until it closes.
    const flood = page.page.evaluate(async () => {
      const channel = (window as unknown as { channels: Record<string, RTCDataChannel> }).channels.input!;
      const deadline = Date.now() + 10_000;
      let sent = 0;
      while (channel.readyState === 'open' && Date.now() < deadline) {
        if (channel.bufferedAmount > 256 * 1024) {
          await new Promise((resolve) => setTimeout(resolve, 1));
          continue;
        }
        channel.send('{');
        sent++;
      }
      return sent;
    });
    const code = await peer.closed(15_000);
    const closedAfter = Date.now() - started;
    const sent = await flood;
    t.diagnostic(`closed with ${code} ${closedAfter} ms after the flood began; ${sent} messages sent`);
    assert.equal(code, 1008, 'the flooding peer is closed as an abuser');
    assert.ok(closedAfter < 5000, `closed ${closedAfter} ms after the flood began (${sent} messages sent)`);
    assert.ok(server.logs.some((l) => l.msg === 'closing: persistent rate-limit abuse'), 'the server says why');
    const pong = await other.reply(other.request('ping'));
    assert.equal(pong.type, 'pong', 'another peer is answered');
    assert.equal(other.closeCode, null);
    await page.close();
  } finally {
    peer.close();
    other.close();
  }
});
