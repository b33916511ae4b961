/**
 * The seed browser client, unchanged, in Firefox ESR (fresh offline profile: no OpenH264, so no WebRTC H.264).
 * The seed asks for `codec_preferences: ['H264', 'VP8', 'VP9']`; the server offers every one of them it encodes,
 * Firefox's answer picks VP8, and the server feeds the VP8 encoder. Served as test/seed/seed-browser.test.ts
 * serves it to Chromium: the seed connects to ws://localhost:8080/ws by itself, so the server is on port 8080.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'puppeteer-core';
import { decodedVideo, sessionDescriptions, waitForInbound, type FirefoxBrowser } from '../helpers/firefox.js';
import { SEED_MISSING, seedBrowserPage } from '../helpers/seed.js';
import type { TestServer } from '../helpers/server.js';
import { startFirefoxRig, stopFirefoxRig } from './firefox-rig.js';

const SEED_PORT = '8080';

describe('the seed browser client, unchanged, in Firefox ESR without H.264', { skip: SEED_MISSING }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sg-seed-firefox-'));
  let server: TestServer;
  let firefox: FirefoxBrowser;
  let page: Page;

  before(async () => {
    writeFileSync(join(dir, 'seed.html'), seedBrowserPage());
    const rig = await startFirefoxRig(['--port', SEED_PORT, '--source', 'test', '--resolution', '1280x720', '--web-root', dir]);
    ({ server, firefox } = rig);
    page = await firefox.newPage();
  });

  after(async () => {
    await stopFirefoxRig({ server, firefox });
    rmSync(dir, { recursive: true, force: true });
  });

  test('plays: the offer carries H264 and VP8 in the seed\'s order, Firefox answers VP8 and decodes 1280x720', async () => {
    await page.goto(`http://localhost:${SEED_PORT}/seed.html`);
    const inbound = await waitForInbound(page, (i) => (decodedVideo(i)?.framesDecoded ?? 0) > 10, 30_000);
    const { local: answer, remote: offer } = await sessionDescriptions(page);
    const video = decodedVideo(inbound);
    assert.ok(video, `Firefox decoded no video frame within 30 s\ninbound-rtp: ${JSON.stringify(inbound)}\nanswer:\n${answer}`);
    const offered = [...(offer ?? '').matchAll(/^a=rtpmap:\d+ (H264|VP8)\/90000/gm)].map((m) => m[1]);
    assert.deepEqual(offered, ['H264', 'VP8'], 'every requested codec the server encodes, in the seed\'s order');
    assert.match(video.codec ?? '', /VP8/i);
    assert.deepEqual({ width: video.frameWidth, height: video.frameHeight }, { width: 1280, height: 720 });
  });
});
