import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium.js';
import { SEED_MISSING, seedBrowserPage } from '../helpers/seed.js';
import { startServer, type TestServer } from '../helpers/server.js';

/**
 * The seed's browser client exactly as the user wrote it, usage example included: it connects to
 * ws://localhost:8080/ws by itself, asks for an offer after a second and plays into #remoteVideo.
 * So this server must be on port 8080.
 */
const SEED_PORT = '8080';

async function waitFor<T>(what: string, probe: () => Promise<T | undefined | null | false>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

interface VideoFigures {
  framesDecoded: number;
  frameWidth: number;
  frameHeight: number;
  codec: string;
}

/** Reads the seed client's own peer connection (its `client` global) the way a person's devtools would. */
function seedVideoStats(page: Page): Promise<VideoFigures | null> {
  return page.evaluate(async () => {
    const seed = (globalThis as unknown as { eval: (s: string) => unknown }).eval('client') as { peerConnection: RTCPeerConnection | null };
    const video = document.getElementById('remoteVideo') as HTMLVideoElement;
    if (!seed.peerConnection || !video.srcObject) return null;
    const report = await seed.peerConnection.getStats();
    let figures: VideoFigures | null = null;
    const codecs = new Map<string, string>();
    report.forEach((s: Record<string, unknown>) => {
      if (s.type === 'codec') codecs.set(s.id as string, s.mimeType as string);
    });
    report.forEach((s: Record<string, unknown>) => {
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        figures = {
          framesDecoded: (s.framesDecoded as number) ?? 0,
          frameWidth: (s.frameWidth as number) ?? 0,
          frameHeight: (s.frameHeight as number) ?? 0,
          codec: codecs.get(s.codecId as string) ?? '',
        };
      }
    });
    return figures;
  });
}

describe('the seed browser client, unchanged, in headless Chromium against a virtual desktop', { skip: SEED_MISSING }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'sg-seed-js-'));
  // The desktop's app (the xterm writing here) runs as an unprivileged user when the tests run as root.
  chmodSync(dir, 0o777);
  const typed = join(dir, 'typed.txt');
  let server: TestServer;
  let browser: Browser;
  let page: Page;

  before(async () => {
    writeFileSync(join(dir, 'seed.html'), seedBrowserPage());
    server = await startServer([
      '--port', SEED_PORT,
      '--source', 'virtual',
      '--resolution', '1280x720',
      '--app', `xterm -fa 'DejaVu Sans Mono' -fs 14 -e sh -c 'cat > ${typed}'`,
      '--web-root', dir,
    ]);
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 720 } });
  });

  after(async () => {
    await browser?.close().catch(() => undefined);
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test('plays the live desktop in #remoteVideo (event.streams[0] works: the offer carries msid), H264 at 1280x720', async () => {
    await page.goto(`http://localhost:${SEED_PORT}/seed.html`);
    const figures = await waitFor('decoded frames in the seed client', async () => {
      const f = await seedVideoStats(page);
      return f && f.framesDecoded > 0 && f.frameWidth > 0 ? f : null;
    });
    assert.equal(figures.frameWidth, 1280);
    assert.equal(figures.frameHeight, 720);
    assert.equal(figures.codec, 'video/H264', 'the seed asks for H264 first');
  });

  test('types a line into the terminal of the virtual desktop through its sendKeyEvent, and the terminal receives it', async () => {
    await page.evaluate(async () => {
      const seed = (globalThis as unknown as { eval: (s: string) => unknown }).eval('client') as {
        sendKeyEvent: (key: string, code: number, action: string, modifiers?: string[]) => void;
      };
      const text = 'Hello, seed 42!';
      for (const ch of text) {
        const shifted = /[A-Z!]/.test(ch);
        const code = ch === '!' ? 49 : ch === ',' ? 188 : ch.toUpperCase().charCodeAt(0);
        if (shifted) seed.sendKeyEvent('Shift', 16, 'down', ['shift']);
        seed.sendKeyEvent(ch, code, 'down', shifted ? ['shift'] : []);
        seed.sendKeyEvent(ch, code, 'up', shifted ? ['shift'] : []);
        if (shifted) seed.sendKeyEvent('Shift', 16, 'up', []);
        await new Promise((r) => setTimeout(r, 10));
      }
      seed.sendKeyEvent('Enter', 13, 'down');
      seed.sendKeyEvent('Enter', 13, 'up');
    });
    const content = await waitFor('the typed line in the terminal', async () => {
      const text = existsSync(typed) ? readFileSync(typed, 'utf8') : '';
      return text.includes('\n') ? text : null;
    }, 15_000);
    assert.equal(content, 'Hello, seed 42!\n');
  });
});
