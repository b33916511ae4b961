/**
 * The viewer's boot (web/boot.ts, inlined in index.html) starts the stream before the app is loaded, and the
 * app's client carries the same session on (src/client/early-session.ts): nothing is negotiated twice, and the
 * picture does not wait for the app. Real server (test source), real headless Chromium.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { startServer, type TestServer } from '../helpers/server.js';

let server: TestServer;
let browser: Browser;

before(async () => {
  server = await startServer();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

/** Page-side, before the page's scripts: counts what the page sends by type, and the peer connections it makes. */
function countNegotiation(): void {
  const w = window as unknown as { sent: Record<string, number>; peers: RTCPeerConnection[] };
  w.sent = {};
  w.peers = [];
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (this: WebSocket, data: string | ArrayBufferLike | Blob | ArrayBufferView) {
    if (typeof data === 'string') {
      const type = (JSON.parse(data) as { type: string }).type;
      w.sent[type] = (w.sent[type] ?? 0) + 1;
    }
    send.call(this, data);
  };
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(configuration?: RTCConfiguration) {
      super(configuration);
      w.peers.push(this);
    }
  };
}

interface Seen {
  sent: Record<string, number>;
  peers: number;
  sameConnection: boolean;
  state: string;
  inputChannel: boolean;
  taken: boolean;
  width: number;
}

const seen = (page: import('playwright-core').Page): Promise<Seen> =>
  page.evaluate(() => {
    const w = window as unknown as {
      sent: Record<string, number>;
      peers: RTCPeerConnection[];
      streamgate: { client: { peerConnection: RTCPeerConnection | null; usingDataChannel: boolean } };
      streamgateEarly: { taken: boolean };
    };
    return {
      sent: w.sent,
      peers: w.peers.length,
      sameConnection: w.streamgate.client.peerConnection === w.peers[0],
      state: document.body.dataset.state ?? '',
      inputChannel: w.streamgate.client.usingDataChannel,
      taken: w.streamgateEarly.taken,
      width: (document.getElementById('video') as HTMLVideoElement).videoWidth,
    };
  });

async function untilLive(page: import('playwright-core').Page): Promise<Seen> {
  await page.waitForFunction(() => Boolean((window as unknown as { streamgate?: unknown }).streamgate), null, { timeout: 30_000 });
  const deadline = Date.now() + 30_000;
  for (;;) {
    const s = await seen(page);
    if ((s.state === 'live' && s.inputChannel && s.width > 0) || Date.now() > deadline) return s;
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('the boot negotiates once and the app carries the same session on: one hello, one request-offer, one answer, one peer connection', async () => {
  const page = await browser.newPage();
  try {
    await page.addInitScript(countNegotiation);
    await page.goto(server.url);
    const s = await untilLive(page);
    assert.equal(s.state, 'live', `the app did not go live: ${JSON.stringify(s)}`);
    assert.ok(s.inputChannel, 'the app has the input channel the boot received');
    assert.ok(s.taken, 'the app took the boot session over');
    assert.deepEqual([s.sent.hello, s.sent['request-offer'], s.sent.answer, s.peers], [1, 1, 1, 1], `sent ${JSON.stringify(s.sent)}, ${s.peers} peer connections`);
    assert.ok(s.sameConnection, "the app's client plays on the boot's peer connection");
  } finally {
    await page.close();
  }
});

test('the picture shows before the app has loaded: app.js held back 2 s, the boot plays alone, then the app carries on', async () => {
  const page = await browser.newPage();
  try {
    await page.addInitScript(countNegotiation);
    await page.route('**/app.js*', async (route) => {
      await new Promise((r) => setTimeout(r, 2000));
      await route.continue();
    });
    await page.goto(server.url, { waitUntil: 'commit' });
    await page.waitForFunction(() => (document.getElementById('video') as HTMLVideoElement | null)?.videoWidth, null, { timeout: 30_000 });
    const before = await page.evaluate(() => ({
      app: Boolean((window as unknown as { streamgate?: unknown }).streamgate),
      playing: document.body.classList.contains('playing'),
    }));
    assert.deepEqual(before, { app: false, playing: true }, 'the frame shows, the curtain lifted, while app.js is still on its way');
    const s = await untilLive(page);
    assert.equal(s.state, 'live', `the app did not go live: ${JSON.stringify(s)}`);
    assert.deepEqual([s.sent.hello, s.sent['request-offer'], s.sent.answer, s.peers], [1, 1, 1, 1], `sent ${JSON.stringify(s.sent)}, ${s.peers} peer connections`);
    assert.ok(s.sameConnection && s.inputChannel, 'the app plays on the boot peer connection, with its input channel');
  } finally {
    await page.close();
  }
});
