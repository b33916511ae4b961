import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { descendants, waitUntil } from '../helpers/processes.js';
import { WsPeer } from '../helpers/ws-peer.js';
import { Observer } from '../input/observer.js';
import { framesAdvance, openViewer, viewerFigures } from './viewer-page.js';

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

describe('fault: a media pipeline killed mid-stream', () => {
  let server: TestServer;
  after(async () => server?.stop());

  test('viewers are told MEDIA_UNAVAILABLE and get video again without reloading; no worker is left over', async () => {
    server = await startServer(['--source', 'test', '--resolution', '640x360']);
    const page = await openViewer(browser, server.url);
    await framesAdvance(page);
    const workers = () => descendants(server.process.pid!).filter((p) => p.command.includes('pipeline-worker') && p.command.includes('videotestsrc'));
    const [worker] = workers();
    assert.ok(worker, 'a video worker runs');
    process.kill(worker.pid, 'SIGKILL');
    await waitUntil('the viewer was told MEDIA_UNAVAILABLE', async () => (await viewerFigures(page)).errors.includes('MEDIA_UNAVAILABLE'));
    await waitUntil('a new worker runs', () => workers().some((w) => w.pid !== worker.pid));
    await framesAdvance(page);
    assert.equal((await viewerFigures(page)).state, 'live');
    assert.equal(workers().length, 1, 'exactly one video worker after the restart');
    await page.close();
  });
});

describe('fault: the virtual desktop\'s X server killed', () => {
  let server: TestServer;
  after(async () => server?.stop());

  test('Xvfb is restarted, the viewer gets video again and input reaches the new X server', async () => {
    server = await startServer(['--source', 'virtual', '--resolution', '640x480', '--app', 'sleep 100000', '--resume-grace', '0']);
    const page = await openViewer(browser, server.url);
    await framesAdvance(page);
    const xvfb = () => descendants(server.process.pid!).filter((p) => p.command.startsWith('Xvfb'));
    const [first] = xvfb();
    assert.ok(first, 'Xvfb runs');
    process.kill(first.pid, 'SIGKILL');
    await waitUntil('a new Xvfb runs', () => xvfb().some((p) => p.pid !== first.pid));
    await framesAdvance(page, 15, 45_000);
    // The viewer page controls (first peer); drive input as a second, protocol-level controller after it releases.
    await page.evaluate(() => window.streamgate.client.releaseControl());
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { display: string };
    const observer = await Observer.open(health.display);
    try {
      const peer = await WsPeer.open(server.wsUrl);
      await peer.hello({ capabilities: ['mouse-press-release'] });
      const granted = await peer.reply(peer.request('request-control'));
      assert.equal(granted.data.input_enabled, true);
      await waitUntil('input reaches the restarted X server', async () => {
        peer.request('mouse-move', { x: 123, y: 45 });
        const p = await observer.pointer();
        return p.x === 123 && p.y === 45;
      });
      peer.close();
    } finally {
      await observer.close();
    }
    await page.close();
  });
});
