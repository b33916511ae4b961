/**
 * The viewer's codec choice in Firefox ESR as a person first meets it: a fresh offline profile has no
 * OpenH264, so no WebRTC H.264. `/` with no codec must pick what Firefox decodes; `?codec=h264` must be
 * refused in the page and another codec used; and an app forcing H.264 through the SDK gets an
 * UNSUPPORTED_CODEC error naming the refused section, then video by the one retry. Against the real
 * server (`--source test`), measured with Firefox's own getStats.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Page } from 'puppeteer-core';
import { decodedVideo, launchFirefox, waitForInbound, type FirefoxBrowser } from '../helpers/firefox.js';
import type { InboundRtp } from '../helpers/chromium.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { waitUntil } from '../helpers/processes.js';
import type { StreamgateClient } from '../../src/client/index.js';

/** The server's default --resolution (src/config/load.ts). */
const SOURCE = { width: 1280, height: 720 };

let server: TestServer;
let firefox: FirefoxBrowser;
const consoleLines: string[] = [];

before(async () => {
  // Both at once, and both settled before failing, so `after` stops whichever started.
  const started = await Promise.allSettled([startServer().then((s) => (server = s)), launchFirefox().then((f) => (firefox = f))]);
  for (const result of started) if (result.status === 'rejected') throw result.reason;
});

after(async () => {
  await firefox?.close();
  await server?.stop();
});

type ViewerWindow = Window & { streamgate: { client: StreamgateClient }; seenErrors?: { code: string; message: string; details?: string }[] };

async function openViewer(query: string): Promise<Page> {
  const page = await firefox.newPage();
  page.on('console', (m) => consoleLines.push(`[${m.type()}] ${m.text()}`));
  await page.goto(`${server.url}/${query}`);
  // The page's boot loads the app once the first frame shows, at the first trouble, or after 3 s (web/boot.ts).
  await page.waitForFunction(() => Boolean((window as unknown as Partial<ViewerWindow>).streamgate?.client));
  return page;
}

interface Shown {
  state: string;
  status: string;
  codecChoice: string;
  h264Option: { disabled: boolean; text: string };
  audioTracks: number;
}

function shown(page: Page): Promise<Shown> {
  return page.evaluate(() => {
    const w = window as unknown as ViewerWindow;
    const h264 = document.querySelector<HTMLOptionElement>('#codec option[value="H264"]')!;
    return {
      state: document.body.dataset.state ?? '',
      status: document.getElementById('status-text')?.textContent ?? '',
      codecChoice: (document.getElementById('codec') as HTMLSelectElement).value,
      h264Option: { disabled: h264.disabled, text: h264.textContent ?? '' },
      audioTracks: w.streamgate.client.stream?.getAudioTracks().length ?? 0,
    };
  });
}

function failure(what: string, inbound: InboundRtp[], s: Shown): string {
  return `${what}\nshown: ${JSON.stringify(s)}\ninbound-rtp: ${JSON.stringify(inbound)}\nconsole:\n${consoleLines.slice(-15).join('\n')}\nfirefox stderr:\n${firefox.stderrTail()}`;
}

/** VP8 frames at the source size, and audio packets: the whole transport is up. */
async function assertPlaysVP8(page: Page): Promise<void> {
  const audioFlowing = (i: InboundRtp[]): boolean => i.some((e) => e.kind === 'audio' && e.packetsReceived > 0);
  const inbound = await waitForInbound(page, (i) => decodedVideo(i) !== undefined && audioFlowing(i), 30_000);
  const video = decodedVideo(inbound);
  const s = await shown(page);
  assert.ok(video, failure('Firefox decoded no video', inbound, s));
  assert.match(video.codec ?? '', /VP8/i);
  assert.deepEqual({ width: video.frameWidth, height: video.frameHeight }, SOURCE);
  assert.ok(audioFlowing(inbound), failure('no audio packets', inbound, s));
}

test('/ with no codec plays in Firefox: VP8 chosen from its capabilities, audio too, H.264 greyed out in the menu', async () => {
  const page = await openViewer('');
  try {
    await assertPlaysVP8(page);
    let s = await shown(page);
    await waitUntil('the viewer shows live', async () => (s = await shown(page)).state === 'live', 10_000).catch(() => undefined);
    assert.equal(s.state, 'live', JSON.stringify(s));
    assert.match(s.status, /^Live/);
    assert.equal(s.codecChoice, 'VP8');
    assert.deepEqual(s.h264Option, { disabled: true, text: 'H.264 (this browser cannot play it)' });
  } finally {
    await page.close();
  }
});

test('/?codec=h264 in Firefox: refused in the page with a clear message, VP8 used instead', async () => {
  const page = await openViewer('?codec=h264');
  try {
    // The message shows at once, before any frame (a live picture may replace it after a few seconds).
    const first = await shown(page);
    assert.match(first.status, /^This browser cannot play H264 video; using VP8 instead\.$/);
    await assertPlaysVP8(page);
    assert.equal((await shown(page)).codecChoice, 'VP8');
  } finally {
    await page.close();
  }
});

test('an app forcing H.264 in Firefox: UNSUPPORTED_CODEC names the refused video section, and the one retry brings VP8', async () => {
  const page = await openViewer('?codec=vp8');
  try {
    await assertPlaysVP8(page);
    const answered = await page.evaluate(async () => {
      const w = window as unknown as ViewerWindow;
      w.seenErrors = [];
      w.streamgate.client.on('error', (e) => w.seenErrors!.push({ code: e.code, message: e.message, details: e.details }));
      try {
        await w.streamgate.client.requestOffer(undefined, ['H264']);
        return 'answered';
      } catch (err) {
        return `rejected: ${(err as Error).message}`;
      }
    });
    const errors = await page.evaluate(() => (window as unknown as ViewerWindow).seenErrors ?? []);
    assert.equal(answered, 'answered', `errors: ${JSON.stringify(errors)}`);
    const codecError = errors.find((e) => e.code === 'UNSUPPORTED_CODEC');
    assert.ok(codecError, `an UNSUPPORTED_CODEC error: ${JSON.stringify(errors)}`);
    assert.match(codecError.message, /cannot play the offered video \(H264\); asking the server for VP8/);
    assert.match(codecError.details ?? '', /refused video \(mid \S+, offered H264\); this browser decodes .*VP8/);
    assert.match((await shown(page)).status, /cannot play the offered video \(H264\)/);
    await assertPlaysVP8(page);
  } finally {
    await page.close();
  }
});

test('a new SDK client forcing H.264 in Firefox: the first offer is refused, the retry plays VP8 with audio and the input channel', async () => {
  const page = await openViewer('?codec=vp8');
  try {
    await assertPlaysVP8(page);
    await page.evaluate(() => window.streamgate.client.disconnect());
    const outcome = await page.evaluate(async (url) => {
      const Client = (window as unknown as ViewerWindow).streamgate.client.constructor as typeof StreamgateClient;
      const client = new Client({ url, codecPreferences: ['H264'] });
      const errors: string[] = [];
      client.on('error', (e) => errors.push(`${e.code}: ${e.details ?? ''}`));
      try {
        await client.requestOffer();
        await new Promise<void>((resolve, reject) => {
          const deadline = setTimeout(() => reject(new Error(`no data channel; state ${client.state}`)), 20_000);
          client.on('input-channel', (open) => open && (clearTimeout(deadline), resolve()));
        });
        return { ok: true, errors, state: client.state };
      } catch (err) {
        return { ok: false, errors, state: `${client.state}: ${(err as Error).message}` };
      }
    }, server.wsUrl);
    assert.ok(outcome.ok, JSON.stringify(outcome));
    assert.equal(outcome.errors.length, 1, JSON.stringify(outcome.errors));
    assert.match(outcome.errors[0]!, /^UNSUPPORTED_CODEC: refused video \(mid \S+, offered H264\)/);
    await assertPlaysVP8(page);
  } finally {
    await page.close();
  }
});
