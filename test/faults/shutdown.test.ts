import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { CloseCode } from '../../src/protocol/errors.js';
import { launchChromium } from '../helpers/chromium.js';
import { startServer } from '../helpers/server.js';
import { descendants, isAlive, waitUntil } from '../helpers/processes.js';
import { WsPeer } from '../helpers/ws-peer.js';
import { framesAdvance, openViewer } from '../helpers/viewer-page.js';

let browser: Browser;
before(async () => {
  browser = await launchChromium();
});
after(async () => {
  await browser?.close();
});

describe('shutdown with viewers connected', () => {
  test(`SIGTERM: every client gets ${CloseCode.GOING_AWAY} (going away), every child process (Xvfb, app, encoders, tethers) is gone, exit 0 within 5 s`, async () => {
    const server = await startServer(['--source', 'virtual', '--resolution', '640x480', '--app', 'sleep 100000']);
    const page = await openViewer(browser, server.url);
    await framesAdvance(page);
    const peer = await WsPeer.open(server.wsUrl);
    await peer.hello();
    const children = descendants(server.process.pid!);
    assert.ok(children.some((p) => p.command.startsWith('Xvfb')), 'Xvfb runs');
    assert.ok(children.some((p) => p.command.includes('pipeline-worker')), 'an encoder runs');
    const started = Date.now();
    const code = await server.stop('SIGTERM');
    const took = Date.now() - started;
    assert.equal(code, 0);
    assert.ok(took < 5000, `exited in ${took} ms`);
    assert.equal(await peer.closed(), CloseCode.GOING_AWAY);
    await waitUntil('every child is gone', () => children.every((p) => !isAlive(p.pid)), 5000);
    await page.close();
  });

  test('SIGKILL of the server leaves no child behind: each dies with its parent', async () => {
    const server = await startServer(['--source', 'virtual', '--resolution', '640x480', '--app', 'sleep 100000']);
    const page = await openViewer(browser, server.url);
    await framesAdvance(page);
    const children = descendants(server.process.pid!);
    assert.ok(children.length >= 4, `children: ${children.map((c) => c.command.slice(0, 40)).join('; ')}`);
    await server.stop('SIGKILL');
    await waitUntil('every child is gone', () => children.every((p) => !isAlive(p.pid)), 10_000).catch((err: Error) =>
      assert.fail(`${err.message}: left ${children.filter((p) => isAlive(p.pid)).map((p) => p.command.slice(0, 60)).join('; ')}`),
    );
    await page.close();
  });
});
