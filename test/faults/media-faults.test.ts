import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, videoPixels } from '../helpers/chromium.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { descendants, waitUntil } from '../helpers/processes.js';
import { WsPeer } from '../helpers/ws-peer.js';
import { Observer } from '../helpers/x-observer.js';
import { framesAdvance, openViewer, viewerFigures } from '../helpers/viewer-page.js';

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

/**
 * The viewer page controls (it was the first peer); it releases control, and a protocol-level peer takes it and
 * moves the pointer until an observer on `display` sees it there.
 */
async function assertInputReaches(page: Page, server: TestServer, display: string): Promise<void> {
  await page.evaluate(() => window.streamgate.client.releaseControl());
  const observer = await Observer.open(display);
  try {
    const peer = await WsPeer.open(server.wsUrl);
    await peer.hello({ capabilities: ['mouse-press-release'] });
    assert.equal((await peer.reply(peer.request('request-control'))).data.input_enabled, true);
    await waitUntil(`input reaches the X server on ${display}`, async () => {
      peer.request('mouse-move', { x: 123, y: 45 });
      const p = await observer.pointer();
      return p.x === 123 && p.y === 45;
    });
    peer.close();
  } finally {
    await observer.close();
  }
}

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
    const health = (await (await fetch(`${server.url}/healthz`)).json()) as { display: string };
    await assertInputReaches(page, server, health.display);
    await page.close();
  });
});

describe('fault: the X server comes back under another display number', () => {
  let server: TestServer;
  after(async () => server?.stop());

  test('when its old number is taken, Xvfb restarts on a free one and the video, /healthz and input follow it', async () => {
    // The app paints the root green on whichever display it is started on (it is restarted with Xvfb).
    server = await startServer(['--source', 'virtual', '--resolution', '640x480', '--app', "xsetroot -solid '#00c000'; exec sleep 100000", '--resume-grace', '0']);
    const display = async () => ((await (await fetch(`${server.url}/healthz`)).json()) as { display: string }).display;
    const green = async () => {
      // Off centre: the captured pointer starts in the middle of the screen.
      const [[r, g, b]] = (await videoPixels(page, 'video', [[0.25, 0.25]])) as [[number, number, number]];
      return g > 150 && r < 70 && b < 70;
    };
    const page = await openViewer(browser, server.url);
    await framesAdvance(page);
    await waitUntil('the desktop shows green', green);
    const old = await display();
    const xvfb = descendants(server.process.pid!).find((p) => p.command.startsWith('Xvfb'));
    assert.ok(xvfb, 'Xvfb runs');
    process.kill(xvfb.pid, 'SIGKILL');
    // Take the number before the desktop's restart (250 ms later) can. Racing it with a fresh Xvfb lost under
    // load, so the lock file is claimed here at once (for this live process) and the squatter, another X server
    // with a black root, serves the number without locking. The dead Xvfb must be reaped first: a zombie's pid
    // still counts as alive.
    while (existsSync(`/proc/${xvfb.pid}`)) await new Promise((r) => setTimeout(r, 2));
    const lock = `/tmp/.X${old.slice(1)}-lock`;
    writeFileSync(lock, `${String(process.pid).padStart(10)}\n`);
    const squatter = spawn('Xvfb', [old, '-nolock', '-screen', '0', '320x240x24', '-nolisten', 'tcp', '-br'], { stdio: 'ignore' });
    try {
      const moved = await (async () => {
        await waitUntil('the desktop to come back under another number', async () => (await display()) !== old, 20_000);
        return display();
      })();
      assert.equal(squatter.exitCode, null, `the squatter kept ${old} (it lost the race to the restart otherwise)`);
      await framesAdvance(page, 15, 45_000);
      await waitUntil('the viewer shows the desktop (green), not the X server now on the old number', green, 20_000);
      const workers = descendants(server.process.pid!).filter((p) => p.command.includes('ximagesrc'));
      assert.ok(workers.length > 0 && workers.every((p) => p.command.includes(`display-name=${moved} `)), `capturing ${moved}: ${workers.map((w) => w.command).join('\n')}`);
      await assertInputReaches(page, server, moved);
    } finally {
      squatter.kill('SIGKILL');
      rmSync(lock, { force: true });
    }
    await page.close();
  });
});
